/**
 * What the client refuses from a Tesseract or a caller, before it costs memory or time: the limits
 * (with defaults sized for real work and options to raise them) and the internal errors the codec
 * throws, which the client turns into `TesseractLimitError`, `TesseractResponseError` and
 * `TesseractInputError` (they carry the url; the codec does not know it).
 */
import { constants } from "node:buffer";

/** 2 GiB: ten 1e7-float64 outputs in base64 (1.07 GB) fit; a 4 GiB claim does not. */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 ** 3;
/** 64 KiB: a long Python traceback fits; a hostile endless error body does not fill memory. */
export const DEFAULT_MAX_ERROR_BODY_BYTES = 64 * 1024;
/** 1000: Python's json module gives up near its recursion limit (1000) anyway. */
export const DEFAULT_MAX_JSON_DEPTH = 1000;
/** 30 s for response headers of calls that compute nothing (`health`, `openapi.json`). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
/** 60 s: the longest pause between two pieces of a response body (the answer is computed by then). */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** 16 KiB of response headers, Node's own default. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** The longest string V8 can make: JSON text beyond this cannot be parsed at all. */
export const MAX_STRING_LENGTH = constants.MAX_STRING_LENGTH;

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/** A limit was hit; `limit` names the option that raises it. */
export class LimitExceeded extends Error {
  constructor(
    /** The option (`maxResponseBytes`, `maxJsonDepth`, …). */
    readonly limit: string,
    message: string,
  ) {
    super(message);
    this.name = "LimitExceeded";
  }
}

/** A response that is not what it claims (array bytes not filling the shape, binref escaping, …). */
export class BadResponse extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadResponse";
  }
}

/** An input value the client cannot send exactly; `path` is where it is (`inputs.a`), `type` the rule. */
export class BadInputValue extends Error {
  constructor(
    readonly path: string,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "BadInputValue";
  }
}

/** The error for `limit` being exceeded by `what`, saying how to raise it. */
export function limitExceeded(
  limit: string,
  value: number,
  what: string,
  unit: "bytes" | "levels" = "bytes",
): LimitExceeded {
  const shown = unit === "bytes" ? formatBytes(value) : `${value} levels`;
  const where = limit === "maxResponseBytes" ? "of the TesseractClient or of the call" : "of the TesseractClient";
  return new LimitExceeded(
    limit,
    `${what} exceeds ${limit} (${shown}; fix: raise the ${limit} option ${where}, if the Tesseract is trusted and this is expected)`,
  );
}

/** The error for JSON nested deeper than `maxDepth`. */
export function depthExceeded(maxDepth: number, what: string): LimitExceeded {
  return new LimitExceeded(
    "maxJsonDepth",
    `${shortPath(what)} is nested more than ${maxDepth} levels deep (maxJsonDepth; fix: raise the maxJsonDepth option of the TesseractClient, if the Tesseract is trusted and this is expected)`,
  );
}

/** A path short enough for a message: the start and the end of a very long one. */
export function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 100)}…${path.slice(-40)}`;
}

/** Dotted path of a child: `inputs` + `a` → `inputs.a`; `inputs.a` + 2 → `inputs.a[2]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * The deepest nesting of a parsed JSON value, measured without recursion (a 200,000-deep document
 * must not overflow the stack); throws as soon as `maxDepth` is passed.
 */
export function checkJsonDepth(value: unknown, maxDepth: number, what: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (d > maxDepth) throw depthExceeded(maxDepth, what);
    for (const x of Array.isArray(v) ? v : Object.values(v))
      if (x !== null && typeof x === "object") stack.push([x, d + 1]);
  }
}
