/**
 * Which input values are secret, and how a check failure or an error talks about them without
 * repeating them. Two sources: each resource's list of secret field paths (one exported constant
 * per resource, e.g. `TESSERACT_IMAGE_SECRETS`), and the values the program marked secret
 * (`pulumi.secret`). A dynamic provider never sees Pulumi's secret markers (its server declares
 * `acceptSecrets: false`, so the engine strips them), so the resource classes send the paths of
 * marked values along in the hidden input {@link SECRET_MARKS_KEY}; the plugin derives the same
 * list from the markers it receives. `check` strips that input before anything else sees it.
 *
 * The engine prints `inputs[failure.property]` next to every check failure ("property X value V
 * has a problem"), so a failure never names a top-level key that holds a secret: such a property
 * is given as a path below the key, which is no top-level key and shows as `{<nil>}`.
 */
import type { CheckFailure } from "./check";

/** The hidden input listing the paths (`docker.keyPem`, `environment`) of values the program marked secret. */
export const SECRET_MARKS_KEY = "__secretInputs";

/** Segments of a dotted secret path: `kubernetes.imagePullSecret.password` → 3 keys. */
function segmentsOf(spec: string | readonly PropertyKey[]): readonly PropertyKey[] {
  return typeof spec === "string" ? spec.split(".") : spec;
}

/** The top-level input keys a list of secret paths touches (what the resource class wraps in `pulumi.secret`). */
export function secretTopKeys(paths: readonly string[]): string[] {
  return [...new Set(paths.map((p) => p.split(".")[0]))];
}

const isIndex = (k: PropertyKey) => typeof k === "number" || /^\d+$/.test(String(k));

/**
 * True when `a` is a prefix of `b`. An array index in `b` that `a` does not name is skipped, so
 * the secret path `pipExtraIndexUrls` covers `pipExtraIndexUrls[2]`.
 */
function isPrefix(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  let j = 0;
  for (const k of a) {
    while (j < b.length && isIndex(b[j]) && !isIndex(k)) j++;
    if (j >= b.length || String(k) !== String(b[j])) return false;
    j++;
  }
  return true;
}

/** Every string (and number) under `value`, for scrubbing. */
function leaves(value: unknown, out: string[], depth = 0): void {
  if (depth > 20 || value === null || value === undefined) return;
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number" || typeof value === "boolean") return;
  else if (Array.isArray(value)) for (const v of value) leaves(v, out, depth + 1);
  else if (typeof value === "object") for (const v of Object.values(value)) leaves(v, out, depth + 1);
}

/** The value at `path` under `root` (undefined where the path leaves the objects). */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p as string];
  }
  return cur;
}

/** The paths the program marked secret, as sent in {@link SECRET_MARKS_KEY} (anything else is ignored). */
export function markedPaths(news: object | undefined): string[] {
  const marks = (news as Record<string, unknown> | undefined)?.[SECRET_MARKS_KEY];
  return Array.isArray(marks) ? marks.filter((m): m is string => typeof m === "string" && m.length > 0) : [];
}

/** The inputs without the hidden {@link SECRET_MARKS_KEY} (what `check` returns and state keeps). */
export function withoutMarks<T extends object>(news: T): T {
  if (!news || typeof news !== "object" || !(SECRET_MARKS_KEY in news)) return news;
  const { [SECRET_MARKS_KEY]: _marks, ...rest } = news as Record<string, unknown>;
  return rest as T;
}

/** `.key`, or `[2]` for an index, or `["a b"]` for a key that is no identifier. */
function renderKey(k: PropertyKey): string {
  if (typeof k === "number") return `[${k}]`;
  const s = String(k);
  return /^[A-Za-z_$][\w$-]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}

/** Shortest secret string that is scrubbed from text (shorter ones would mangle ordinary words). */
const MIN_SCRUB = 4;

/**
 * The secrets of one set of inputs: which paths hold them (the resource's list plus the program's
 * marks), the values themselves (to scrub them from any text), and engine-safe property names.
 */
export class InputSecrets {
  private readonly paths: (readonly PropertyKey[])[];
  private readonly values: string[];

  /**
   * @param inputs the inputs (plain values; the marks key may still be in them)
   * @param resourcePaths the resource's secret field paths, e.g. `["docker.keyPem", "push.password"]`
   * @param extra further secret strings (e.g. a configured password)
   */
  constructor(inputs: object, resourcePaths: readonly string[] = [], extra: readonly (string | undefined)[] = []) {
    // Only the secrets that are there: `docker` without a `keyPem` holds none.
    this.paths = [...resourcePaths, ...markedPaths(inputs)]
      .map(segmentsOf)
      .filter((p) => valueAt(inputs, p) !== undefined);
    const found: string[] = [];
    for (const p of this.paths) leaves(valueAt(inputs, p), found);
    for (const s of extra) if (typeof s === "string") found.push(s);
    // Longest first, so a secret containing another is replaced whole.
    this.values = [...new Set(found.filter((s) => s.length >= MIN_SCRUB))].sort((a, b) => b.length - a.length);
  }

  /** True when the value at `path` is, or is inside, or holds a secret: it must not be shown. */
  covers(path: readonly PropertyKey[]): boolean {
    return this.paths.some((s) => isPrefix(s, path) || isPrefix(path, s));
  }

  /** True when the top-level input `key` holds a secret anywhere inside. */
  topKeyHoldsSecret(key: string): boolean {
    return this.paths.some((s) => String(s[0]) === key);
  }

  /** The secret strings themselves (for `Progress`, which redacts them from its lines). */
  strings(): string[] {
    return [...this.values];
  }

  /** `text` with every known secret value replaced by `[secret]`. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.values) out = out.split(s).join("[secret]");
    return out;
  }

  /**
   * The failure's property as the engine may print it: unchanged unless it is a top-level key
   * holding a secret, which the engine would echo with its value; then a path below it.
   */
  property(property: string, detail?: PropertyKey): string {
    if (!this.topKeyHoldsSecret(property)) return property;
    return detail !== undefined ? `${property}${renderKey(detail)}` : `${property}[secret]`;
  }

  /** Failures with engine-safe properties and every secret value scrubbed from their reasons. */
  guard(failures: readonly CheckFailure[]): CheckFailure[] {
    return failures.map((f) => ({ property: this.property(f.property), reason: this.scrub(f.reason) }));
  }
}

/**
 * Runs `body`; an error it throws leaves with every secret of `secrets` scrubbed from its message
 * (and stack), so an engine's, a server's or pip's text that quotes a secret never reaches the user.
 */
export async function scrubbingErrors<T>(secrets: InputSecrets, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Error) {
      err.message = secrets.scrub(err.message);
      if (err.stack) err.stack = secrets.scrub(err.stack);
    }
    throw err;
  }
}
