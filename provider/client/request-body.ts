/**
 * Request encoding: array values become the runtime's wire format, and the payload becomes an
 * `EncodedBody`. Large base64 buffers are never pasted into a JSON string: the body is a list of
 * parts (JSON text, raw array bytes, JSON text, ...) with an exact content length, and the bytes are
 * base64-encoded slice by slice only while the body is written.
 */
import { randomBytes } from "node:crypto";
import { arrayBytes, SPLICE_THRESHOLD } from "./array-bytes";
import { DTYPE_INFO, isTypedArray } from "./dtypes";
import { isArrayLikeValue, isEncodedArray, isPlainObject, toWireArray } from "./ndarray";

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

/** Wire form of one array, or `undefined` when `value` is not an array value. */
/** Writes large array bytes where the server reads them and returns the binref buffer string. */
export type BinrefWriter = (bytes: Buffer) => string;

function encodeArrayValue(
  value: unknown,
  encoding: ArrayEncoding,
  splice: (bytes: Buffer) => string,
  binref?: BinrefWriter,
): Record<string, unknown> | undefined {
  const nd = toWireArray(value);
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

/**
 * Replaces every array value in `tree` with its wire form. Plain numbers, booleans, strings and
 * nested plain arrays are kept as they are (JSON).
 */
export function encodeTree(
  tree: unknown,
  encoding: ArrayEncoding = "base64",
  splice: (bytes: Buffer) => string = (b) => b.toString("base64"),
  binref?: BinrefWriter,
): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === "bigint") return Number(v);
    if (isTypedArray(v)) return encodeArrayValue(v, encoding, splice, binref);
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    if (isEncodedArray(v)) return v;
    const arr = encodeArrayValue(v, encoding, splice, binref);
    if (arr) return arr;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = walk(x);
    return out;
  };
  return walk(tree);
}

/**
 * Serialises a request payload. Arrays whose base64 is 4 KiB or more are left out of the JSON text
 * (a random placeholder marks their place) and kept as raw bytes, base64-encoded only while the body
 * is written, so they are never copied into (or scanned by) `JSON.stringify`.
 */
export function encodeRequestBody(
  payload: unknown,
  encoding: ArrayEncoding = "base64",
  binref?: BinrefWriter,
): EncodedBody {
  const blobs: Buffer[] = [];
  const nonce = `${PROCESS_NONCE}${++bodyCounter}`;
  const encoded = encodeTree(
    payload,
    encoding,
    (bytes) => {
      blobs.push(bytes);
      return `@@pt:${nonce}:${blobs.length - 1}@@`;
    },
    binref,
  );
  const text = JSON.stringify(encoded);
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

/** Inputs for `abstract_eval`: arrays (typed or `NDArray`-like) become `{shape, dtype}`. */
export function toAbstract(v: unknown): unknown {
  if (isTypedArray(v) || isArrayLikeValue(v)) {
    const nd = toWireArray(v);
    if (nd) return { shape: nd.shape, dtype: nd.dtype };
  }
  if (isEncodedArray(v)) return { shape: v.shape, dtype: v.dtype };
  if (Array.isArray(v)) return v.map(toAbstract);
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toAbstract(x);
    return out;
  }
  return v;
}
