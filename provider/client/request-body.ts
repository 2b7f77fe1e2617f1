/**
 * Request encoding: array values become the runtime's wire format, and the payload becomes an
 * `EncodedBody`. Large base64 buffers are never pasted into a JSON string: the body is a list of
 * parts (JSON text, raw array bytes, JSON text, ...) with an exact content length, and the bytes are
 * base64-encoded slice by slice only while the body is written.
 */
import { randomBytes } from "node:crypto";
import { arrayBytes, SPLICE_THRESHOLD } from "./array-bytes";
import { DTYPE_INFO, isTypedArray } from "./dtypes";
import { BadInputValue, childPath, DEFAULT_MAX_JSON_DEPTH, depthExceeded, shortPath } from "./limits";
import { isArrayLikeValue, isEncodedArray, isPlainObject, type NDArray, toWireArray } from "./ndarray";

/** How array buffers travel in requests. Responses are always requested as base64. */
export type ArrayEncoding = "base64" | "json";

/** Placeholders carry a per-process random part, so no user string can collide with one. */
const PROCESS_NONCE = randomBytes(6).toString("hex");
let bodyCounter = 0;

/** Raw array bytes are base64-encoded in slices of this many bytes (a multiple of 3) while sending. */
const ENCODE_SLICE = 3 << 18;

/**
 * A request body: JSON text parts and raw array bytes (`Buffer`, a view of the caller's typed
 * array on little-endian hosts) that are base64-encoded slice by slice only while the body is
 * written (`stream()`), so no 100 MB string is ever built. `byteLength` is exact.
 */
export class EncodedBody {
  constructor(
    /** JSON text, and array bytes to be sent as base64 (in place of the JSON string's content). */
    readonly parts: (string | Buffer)[],
    readonly byteLength: number,
  ) {}

  /** The body as strings (array bytes base64-encoded whole); mainly for tests and small bodies. */
  get chunks(): string[] {
    return this.parts.map((p) => (typeof p === "string" ? p : p.toString("base64")));
  }

  /**
   * The body in write order: JSON text, then base64 slices of at most 1 MiB. Slices go out as
   * Buffers (a latin1 copy of the base64 text): the socket then writes them as they are, where a
   * string would be measured and UTF-8-encoded again, two more passes over every byte.
   */
  *stream(): Generator<string | Buffer> {
    for (const p of this.parts) {
      if (typeof p === "string") {
        if (p.length) yield p;
        continue;
      }
      for (let a = 0; a < p.length; a += ENCODE_SLICE)
        yield Buffer.from(p.toString("base64", a, Math.min(a + ENCODE_SLICE, p.length)), "latin1");
    }
  }
}

/** Writes large array bytes where the server reads them and returns the binref buffer string. */
export type BinrefWriter = (bytes: Buffer) => string;

/** Wire form of one array, or `undefined` when `value` is not an array value. */
function encodeArrayValue(
  value: unknown,
  encoding: ArrayEncoding,
  splice: (bytes: Buffer) => string,
  binref: BinrefWriter | undefined,
  path: string,
): Record<string, unknown> | undefined {
  let nd: NDArray | undefined;
  try {
    nd = toWireArray(value, path);
  } catch (err) {
    if (err instanceof BadInputValue) throw err;
    throw new BadInputValue(path, "invalid_array", (err as Error).message);
  }
  if (!nd) return undefined;
  // complex values and raw float16 bits have no faithful JSON form: always base64
  // as do NaN and ±Infinity (JSON.stringify would turn them into null),
  const asJson =
    encoding === "json" &&
    DTYPE_INFO[nd.dtype].lanes === 1 &&
    nd.dtype !== "float16" &&
    !(
      (nd.dtype === "float32" || nd.dtype === "float64") &&
      (nd.data as Float64Array).some((x) => !Number.isFinite(x))
    ) &&
    // and 64-bit integers beyond ±2^53, which a JSON number cannot carry exactly
    !(
      (nd.dtype === "int64" || nd.dtype === "uint64") &&
      (nd.data as BigInt64Array).some((x) => x > 9007199254740991n || x < -9007199254740991n)
    );
  let buffer: unknown;
  let wire: string = asJson ? "json" : "base64";
  if (asJson) {
    if (nd.dtype === "int64" || nd.dtype === "uint64") buffer = Array.from(nd.data as BigInt64Array, Number);
    else if (nd.dtype === "bool") buffer = Array.from(nd.data as Uint8Array, Boolean);
    else buffer = Array.from(nd.data as Float64Array);
  } else {
    const bytes = arrayBytes(nd);
    if (binref && bytes.length >= SPLICE_THRESHOLD) {
      buffer = binref(bytes);
      wire = "binref";
    } else buffer = Math.ceil(bytes.length / 3) * 4 >= SPLICE_THRESHOLD ? splice(bytes) : bytes.toString("base64");
  }
  return {
    object_type: "array",
    shape: nd.shape,
    dtype: nd.dtype,
    data: { buffer, encoding: wire },
  };
}

/** How `encodeTree` treats what JSON has no exact form for. */
export interface TreeEncoding {
  /** Nesting limit (`maxJsonDepth`). Default 1000. */
  maxDepth?: number;
  /**
   * Makes a placeholder string that the caller replaces by raw JSON text (`NaN`, `Infinity`,
   * `-Infinity`, a big integer's digits), as Python's `json.dumps` writes them. Without it
   * (client-side validation) such numbers are kept as JS numbers.
   */
  literal?: (text: string) => string;
}

/**
 * Replaces every array value in `tree` with its wire form. Plain numbers, booleans, strings and
 * nested plain arrays are kept as they are (JSON). Refuses (`BadInputValue`, with the path) what
 * cannot be sent as given: a value that contains itself, nesting beyond `maxDepth`, array values
 * out of range for their dtype.
 */
export function encodeTree(
  tree: unknown,
  encoding: ArrayEncoding = "base64",
  splice: (bytes: Buffer) => string = (b) => b.toString("base64"),
  binref?: BinrefWriter,
  how: TreeEncoding = {},
): unknown {
  const maxDepth = how.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  const literal = how.literal;
  const ancestors = new Set<object>();
  const primitive = (v: unknown): unknown => {
    if (typeof v === "number") {
      if (Number.isFinite(v) || !literal) return v;
      // JSON.stringify would send null; Python's json sends (and its server reads) these literals
      return literal(Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
    if (typeof v === "bigint") return literal ? literal(v.toString()) : Number(v);
    return v;
  };
  // paths are built only for objects and lists (a long plain list of numbers costs no strings)
  const walk = (v: unknown, path: string, depth: number): unknown => {
    if (v === null || typeof v !== "object") return primitive(v);
    if (ancestors.has(v))
      throw new BadInputValue(
        path || "(payload)",
        "circular_reference",
        `${shortPath(path) || "the payload"} contains itself (a circular reference): JSON cannot carry it (fix: pass a copy without the cycle)`,
      );
    if (depth > maxDepth) {
      throw new BadInputValue(path, "too_deep", depthExceeded(maxDepth, path || "the payload").message);
    }
    if (isTypedArray(v)) return encodeArrayValue(v, encoding, splice, binref, path);
    ancestors.add(v);
    try {
      if (Array.isArray(v))
        return v.map((x, i) =>
          x === null || typeof x !== "object" ? primitive(x) : walk(x, childPath(path, i), depth + 1),
        );
      if (!isPlainObject(v)) return v;
      if (isEncodedArray(v)) return v;
      const arr = encodeArrayValue(v, encoding, splice, binref, path);
      if (arr) return arr;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        if (x !== undefined)
          out[k] = x === null || typeof x !== "object" ? primitive(x) : walk(x, childPath(path, k), depth + 1);
      return out;
    } finally {
      ancestors.delete(v);
    }
  };
  return walk(tree, "", 1);
}

/**
 * Serialises a request payload. Arrays whose base64 is 4 KiB or more are left out of the JSON text
 * (a random placeholder marks their place) and kept as raw bytes, base64-encoded only while the body
 * is written, so they are never copied into (or scanned by) `JSON.stringify`. NaN, ±Infinity and
 * bigints outside arrays are written as Python's `json` writes them (`NaN`, `Infinity`, exact
 * digits), so they arrive as sent instead of as `null` or a rounded number.
 */
export function encodeRequestBody(
  payload: unknown,
  encoding: ArrayEncoding = "base64",
  binref?: BinrefWriter,
  maxDepth?: number,
): EncodedBody {
  const blobs: Buffer[] = [];
  const literals: string[] = [];
  const nonce = `${PROCESS_NONCE}${++bodyCounter}`;
  const encoded = encodeTree(
    payload,
    encoding,
    (bytes) => {
      blobs.push(bytes);
      return `@@pt:${nonce}:${blobs.length - 1}@@`;
    },
    binref,
    {
      maxDepth,
      literal: (text) => {
        literals.push(text);
        return `@@pt:${nonce}:L${literals.length - 1}@@`;
      },
    },
  );
  let text = JSON.stringify(encoded);
  if (literals.length) {
    text = text.replace(new RegExp(`"@@pt:${nonce}:L(\\d+)@@"`, "g"), (_, i: string) => literals[Number(i)]);
  }
  if (blobs.length === 0) return new EncodedBody([text], Buffer.byteLength(text));
  const parts: (string | Buffer)[] = [];
  let byteLength = 0;
  let pos = 0;
  for (let i = 0; i < blobs.length; i++) {
    const marker = `@@pt:${nonce}:${i}@@`;
    const at = text.indexOf(marker, pos);
    const head = text.slice(pos, at);
    parts.push(head, blobs[i]);
    byteLength += Buffer.byteLength(head) + Math.ceil(blobs[i].length / 3) * 4;
    pos = at + marker.length;
  }
  const tail = text.slice(pos);
  parts.push(tail);
  byteLength += Buffer.byteLength(tail);
  return new EncodedBody(parts, byteLength);
}

/**
 * Inputs for `abstract_eval`: arrays (typed or `NDArray`-like) become `{shape, dtype}`. A value
 * that contains itself is refused (`BadInputValue`) rather than overflowing the stack.
 */
export function toAbstract(
  v: unknown,
  path = "inputs",
  ancestors = new Set<object>(),
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): unknown {
  if (isTypedArray(v) || isArrayLikeValue(v)) {
    const nd = toWireArray(v, path);
    if (nd) return { shape: nd.shape, dtype: nd.dtype };
  }
  if (isEncodedArray(v)) return { shape: v.shape, dtype: v.dtype };
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v;
  if (ancestors.has(v))
    throw new BadInputValue(
      path,
      "circular_reference",
      `${path} contains itself (a circular reference): JSON cannot carry it (fix: pass a copy without the cycle)`,
    );
  if (ancestors.size >= maxDepth) throw new BadInputValue(path, "too_deep", depthExceeded(maxDepth, path).message);
  ancestors.add(v);
  try {
    if (Array.isArray(v)) return v.map((x, i) => toAbstract(x, childPath(path, i), ancestors, maxDepth));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      if (x !== undefined) out[k] = toAbstract(x, childPath(path, k), ancestors, maxDepth);
    return out;
  } finally {
    ancestors.delete(v);
  }
}
