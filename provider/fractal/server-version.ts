/**
 * The fractal-server version a TaskGroup talks to, read once per provider process from
 * `GET /api/alive/`, and what differs between the supported versions (docs/task-group.md, "Server
 * versions"). An unsupported version is refused at `check` (so at `preview`), naming the range.
 */
import { request } from "undici";
import { UserError } from "../common/errors";

/** Supported fractal-server versions: `>= MIN`, `< BELOW` (2.24.4 and 2.26.0 are tested). */
export const SUPPORTED_MIN = "2.24.0";
export const SUPPORTED_BELOW = "2.27.0";
export const SUPPORTED_RANGE = `>= ${SUPPORTED_MIN}, < ${SUPPORTED_BELOW}`;

/** What the client adapts to, per server version. */
export interface ServerFeatures {
  /** `major.minor.patch` from `/api/alive/`. */
  version: string;
  /** The `PythonVersion` literal of the server's schemas (`python_version` outside it → 422). */
  pythonVersionLiteral: readonly string[];
  /** How `/collect/pixi/` parses `use_pixi_lockfile`: a form boolean, or the strings "true"/"false" (2.26+). */
  pixiLockfileForm: "boolean" | "true-false";
}

type Triple = [number, number, number];

function parseVersion(v: string): Triple | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** -1, 0, 1 like a comparator; versions that do not parse compare as 0.0.0. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [0, 0, 0];
  const y = parseVersion(b) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

export function isSupported(version: string): boolean {
  return (
    parseVersion(version) !== undefined &&
    compareVersions(version, SUPPORTED_MIN) >= 0 &&
    compareVersions(version, SUPPORTED_BELOW) < 0
  );
}

const PY_BASE = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] as const;

/** The features of a supported version; throws a UserError naming the supported range otherwise. */
export function featuresOf(version: string, url = "the server"): ServerFeatures {
  if (!isSupported(version)) {
    throw new UserError(
      `fractal-server ${version || "(no version)"} at ${url} is not supported: TaskGroup supports fractal-server ${SUPPORTED_RANGE} (tested: 2.24.4, 2.26.0); upgrade the server or pin an older pulumi-tesseract`,
    );
  }
  return {
    version,
    // `PythonVersion` gained "3.15" in 2.25.3.
    pythonVersionLiteral: compareVersions(version, "2.25.3") >= 0 ? [...PY_BASE, "3.15"] : PY_BASE,
    // `use_pixi_lockfile: Literal["true", "false"] = Form("true")` since 2.26.0 (a bool before).
    pixiLockfileForm: compareVersions(version, "2.26.0") >= 0 ? "true-false" : "boolean",
  };
}

const versions = new Map<string, Promise<string>>();

/** `GET /api/alive/` of `url`, once per provider process (a failed read is retried next time). */
export function serverVersion(url: string): Promise<string> {
  const base = url.replace(/\/+$/, "");
  let p = versions.get(base);
  if (!p) {
    p = readAlive(base);
    versions.set(base, p);
    p.catch(() => versions.delete(base));
  }
  return p;
}

async function readAlive(base: string): Promise<string> {
  let body: unknown;
  try {
    const res = await request(`${base}/api/alive/`, {
      method: "GET",
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}: ${text.slice(0, 200)}`);
    body = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `cannot read the version of fractal-server at ${base} (GET /api/alive/): ${(err as Error).message}`,
    );
  }
  const v = (body as { version?: unknown }).version;
  if (typeof v !== "string")
    throw new UserError(`fractal-server at ${base}: /api/alive/ has no version (${JSON.stringify(body)})`);
  return v;
}

/** The server's features; refuses an unsupported version (with the supported range). */
export async function serverFeatures(url: string): Promise<ServerFeatures> {
  return featuresOf(await serverVersion(url), url);
}

/** Forgets what was read (tests that restart a server under the same URL). */
export function forgetServerVersions(): void {
  versions.clear();
}
