/**
 * Which Python versions a fractal-server will collect with, for the user the provider logs in as,
 * so that a `pip.pythonVersion` the server would refuse fails at `check` (preview), before any
 * collection request:
 *  - a superuser reads its resource's `tasks_python_config` (`GET /auth/current-user/` → profile →
 *    `GET /admin/v2/profile/{id}/` → `GET /admin/v2/resource/{id}/`); no other route exposes it
 *    (`/api/settings/app/` holds none of it: interpreters live in the `Resource` row since 2.17);
 *  - anyone else gets a probe: `POST /api/v2/task/collect/pip/` with `python_version` and a wheel
 *    whose file name the server cannot parse. The server checks the Python version first (422
 *    "Python version X is not available for this Fractal resource."), then the file name (422
 *    "Invalid wheel-file name"), and creates nothing either way. One probe per (server, user,
 *    version) and provider process.
 */
import { Blob } from "node:buffer";
import { FormData } from "undici";
import { type FractalClient, FractalHttpError } from "./client";
import type { ServerFeatures } from "./server-version";

/** What the server offers (`versions` undefined when only probed). */
export interface PythonOffer {
  source: "resource" | "probe";
  versions?: string[];
  defaultVersion?: string;
}

const resourceOffers = new Map<string, Promise<PythonOffer | undefined>>();
const probes = new Map<string, Promise<boolean | undefined>>();

interface CurrentUser {
  id: number;
  email: string;
  is_superuser?: boolean;
  profile_id?: number | null;
}

/** The resource's `tasks_python_config` when the user may read it (superuser), else undefined. */
async function readResourceOffer(client: FractalClient): Promise<PythonOffer | undefined> {
  const me = await client.call<CurrentUser>("GET", "/auth/current-user/");
  if (!me.is_superuser || me.profile_id == null) return undefined;
  try {
    const profile = await client.call<{ resource_id: number }>("GET", `/admin/v2/profile/${me.profile_id}/`);
    const resource = await client.call<{
      tasks_python_config?: { default_version?: string; versions?: Record<string, string> };
    }>("GET", `/admin/v2/resource/${profile.resource_id}/`);
    const cfg = resource.tasks_python_config;
    if (!cfg?.versions) return undefined;
    return {
      source: "resource",
      versions: Object.keys(cfg.versions).sort(byMinor),
      defaultVersion: cfg.default_version,
    };
  } catch (err) {
    if (err instanceof FractalHttpError && (err.status === 403 || err.status === 404)) return undefined;
    throw err;
  }
}

function byMinor(a: string, b: string): number {
  return Number(a.split(".")[1]) - Number(b.split(".")[1]);
}

/** true: the server accepts `version`; false: it refuses it; undefined: the answer said neither. */
async function probe(client: FractalClient, version: string): Promise<boolean | undefined> {
  const form = () => {
    const f = new FormData();
    f.set("python_version", version);
    // No "-" in the name: `_parse_wheel_filename` fails after the Python check, before any insert.
    f.set(
      "file",
      new Blob([""], { type: "application/octet-stream" }) as unknown as globalThis.Blob,
      "pulumitesseractprobe.whl",
    );
    return { form: f };
  };
  const body = await client.call<{ detail?: unknown }>("POST", "/api/v2/task/collect/pip/?private=true", form, [422]);
  const detail = JSON.stringify(body?.detail ?? body);
  if (/Python version .* is not available/.test(detail)) return false;
  if (/Invalid wheel-file name/.test(detail)) return true;
  return undefined;
}

/** What the server offers this user (superuser: the resource's list; otherwise probed per version). */
export async function pythonOffer(client: FractalClient, key: string): Promise<PythonOffer | undefined> {
  let p = resourceOffers.get(key);
  if (!p) {
    p = readResourceOffer(client);
    resourceOffers.set(key, p);
    p.catch(() => resourceOffers.delete(key));
  }
  return p;
}

/**
 * Why the server would refuse `pythonVersion` (a message for `check`), or undefined when it accepts
 * it or cannot tell. `key` identifies server and user (url + email).
 */
export async function pythonVersionRefusal(
  client: FractalClient,
  key: string,
  features: ServerFeatures,
  pythonVersion: string,
): Promise<string | undefined> {
  if (!features.pythonVersionLiteral.includes(pythonVersion)) {
    return `fractal-server ${features.version} accepts python_version ${features.pythonVersionLiteral.join(", ")} only (3.15 needs fractal-server 2.25.3 or later)`;
  }
  const offer = await pythonOffer(client, key);
  if (offer?.versions) {
    if (offer.versions.includes(pythonVersion)) return undefined;
    return `the fractal-server resource of this user offers Python ${offer.versions.join(", ")}${offer.defaultVersion ? ` (default ${offer.defaultVersion})` : ""}, not ${pythonVersion}: pick one of those, or leave pythonVersion unset for the default`;
  }
  const pk = `${key} ${pythonVersion}`;
  let p = probes.get(pk);
  if (!p) {
    p = probe(client, pythonVersion);
    probes.set(pk, p);
    p.catch(() => probes.delete(pk));
  }
  if ((await p) === false) {
    return `the fractal-server resource of this user does not offer Python ${pythonVersion} (the server said so to a probe that creates nothing): ask its admin which versions \`tasks_python_config\` lists, or leave pythonVersion unset for the default`;
  }
  return undefined;
}

/** Forgets cached offers (tests that reconfigure a server). */
export function forgetPythonOffers(): void {
  resourceOffers.clear();
  probes.clear();
}
