/**
 * Version resolution against a Python package index, as fractal-server's
 * `get_package_version_from_pypi`: the JSON simple API (PEP 691/700) lists `versions`; an exact
 * match is used as is, otherwise versions starting with the requested prefix are sorted as
 * strings and the last wins (fractal-server's lexicographic pick); no version → the newest by
 * PEP 440 ordering.
 */
import { request } from "undici";
import { UserError } from "../common/errors";
import { normalizePackageName } from "./validators";

export const DEFAULT_INDEX_URL = "https://pypi.org/simple";

/** Fetches the version list of `name` from `<indexUrl>/<normalized>/`. */
export async function fetchVersions(name: string, indexUrl = DEFAULT_INDEX_URL, timeoutMs = 15_000): Promise<string[]> {
  const url = `${indexUrl.replace(/\/+$/, "")}/${normalizePackageName(name)}/`;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      headers: { accept: "application/vnd.pypi.simple.v1+json" },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    throw new UserError(`cannot reach the package index at ${url}: ${(err as Error).message}`);
  }
  if (res.statusCode === 404) {
    await res.body.dump();
    throw new UserError(`package '${name}' does not exist on the package index (${url} answered 404)`);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new UserError(`package index ${url} answered ${res.statusCode}`);
  }
  const data = (await res.body.json()) as { versions?: unknown };
  if (!Array.isArray(data.versions))
    throw new UserError(`package index ${url} did not return a PEP 700 'versions' list`);
  return data.versions.map(String);
}

/** Picks the version fractal-server would pick. */
export function pickVersion(name: string, versions: string[], requested?: string): string {
  if (requested === undefined) {
    if (versions.length === 0) throw new UserError(`package '${name}' has no released versions on the index`);
    return versions.reduce((a, b) => (comparePep440(a, b) >= 0 ? a : b));
  }
  if (versions.includes(requested)) return requested;
  const prefixed = versions.filter((v) => v.startsWith(requested)).sort();
  if (prefixed.length === 0) {
    throw new UserError(
      `no version of '${name}' starting with '${requested}' on the index (available: ${versions.slice(-10).join(", ") || "none"})`,
    );
  }
  return prefixed[prefixed.length - 1];
}

export async function resolveVersion(name: string, requested: string | undefined, indexUrl?: string): Promise<string> {
  return pickVersion(name, await fetchVersions(name, indexUrl), requested);
}

interface Parsed {
  epoch: number;
  release: number[];
  pre?: [number, number];
  post?: number;
  dev?: number;
  local: string;
}

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?dev[-_.]?(\d+)?)?(?:\+([a-z0-9.]+))?$/i;

function parse(v: string): Parsed | undefined {
  const m = PEP440.exec(v.trim());
  if (!m) return undefined;
  const preKind = m[3]?.toLowerCase();
  const preRank = preKind === undefined ? undefined : preKind.startsWith("a") ? 0 : preKind.startsWith("b") ? 1 : 2;
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2].split(".").map(Number),
    pre: preRank === undefined ? undefined : [preRank, Number(m[4] ?? 0)],
    post:
      m[5] !== undefined ? Number(m[5]) : m[6] !== undefined || /post|rev|-r/i.test(v) ? Number(m[6] ?? 0) : undefined,
    dev: /dev/i.test(v) ? Number(m[7] ?? 0) : undefined,
    local: m[8] ?? "",
  };
}

/** PEP 440 ordering (epoch, release, pre, post, dev, local); unparsable versions sort first. */
export function comparePep440(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.localeCompare(b);
  if (pa.epoch !== pb.epoch) return pa.epoch - pb.epoch;
  const n = Math.max(pa.release.length, pb.release.length);
  for (let i = 0; i < n; i++) {
    const d = (pa.release[i] ?? 0) - (pb.release[i] ?? 0);
    if (d) return d;
  }
  // Keys: dev-only releases sort before pre-releases, which sort before finals.
  const preKey = (p: Parsed): number[] =>
    p.pre ? p.pre : p.dev !== undefined && p.post === undefined ? [-1, 0] : [Number.POSITIVE_INFINITY, 0];
  const ka = preKey(pa);
  const kb = preKey(pb);
  if (ka[0] !== kb[0]) return ka[0] - kb[0];
  if (ka[1] !== kb[1]) return ka[1] - kb[1];
  const post = (p: Parsed) => (p.post === undefined ? -1 : p.post);
  if (post(pa) !== post(pb)) return post(pa) - post(pb);
  const dev = (p: Parsed) => (p.dev === undefined ? Number.POSITIVE_INFINITY : p.dev);
  if (dev(pa) !== dev(pb)) return dev(pa) < dev(pb) ? -1 : 1;
  return pa.local.localeCompare(pb.local);
}
