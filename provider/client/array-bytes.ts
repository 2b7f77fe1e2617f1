/**
 * The bytes behind an array on the wire: little-endian, C order, in base64 (`arrayBytes`,
 * `encodeBase64`, `decodeBase64ToBuffer`, `typedFromBytes`). Encoding reads a typed array's bytes in
 * place (a `Buffer` over its `ArrayBuffer`), so base64 costs one pass of Node's native encoder and
 * no per-element JavaScript on little-endian hosts.
 */
import { DTYPE_INFO, type DType, halfToFloat32, LITTLE_ENDIAN, type TypedArray } from "./dtypes";
import { type NDArray, product } from "./ndarray";

/** Base64 buffers at least this long travel as separate body chunks rather than inside JSON text. */
export const SPLICE_THRESHOLD = 4096;

function byteSwapped(data: TypedArray, itemSize: number): Buffer {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = Buffer.from(bytes); // copy
  if (itemSize === 2) out.swap16();
  else if (itemSize === 4) out.swap32();
  else if (itemSize === 8) out.swap64();
  return out;
}

/** Raw little-endian bytes of a wire-form array, without copying on little-endian hosts. */
export function arrayBytes(nd: NDArray): Buffer {
  const elemBytes = nd.data.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN && elemBytes > 1) return byteSwapped(nd.data, elemBytes);
  return Buffer.from(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);
}

/** Base64 of a wire-form array's bytes. */
export function encodeBase64(nd: NDArray): string {
  return arrayBytes(nd).toString("base64");
}

/** Decoded length of a base64 string (ignores whitespace-free padding only). */
function base64DecodedLength(b64: string): number {
  let pad = 0;
  if (b64.endsWith("==")) pad = 2;
  else if (b64.endsWith("=")) pad = 1;
  return Math.floor((b64.length * 3) / 4) - pad;
}

/** Standard base64 alphabet, length a multiple of 4, `=` only as final padding (one pass, no regex backtracking). */
function strictBase64Problem(b64: string): string | undefined {
  if (b64.length % 4 !== 0) return `its length ${b64.length} is not a multiple of 4`;
  let end = b64.length;
  if (b64.endsWith("==")) end -= 2;
  else if (b64.endsWith("=")) end -= 1;
  for (let i = 0; i < end; i++) {
    const c = b64.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47))
      return `character ${JSON.stringify(b64[i])} at ${i}`;
  }
  return undefined;
}

/** Base64 → bytes in a fresh, 16-byte-aligned ArrayBuffer (so any typed array can view it). */
export function decodeBase64ToBuffer(b64: string): ArrayBuffer {
  const n = base64DecodedLength(b64);
  const ab = new ArrayBuffer(n);
  const written = Buffer.from(ab).write(b64, "base64");
  if (written !== n || b64.length % 4 !== 0) {
    // not canonical: refused unless it is strict base64 (as Python's b64decode(validate=True));
    // Node's decoder would silently skip stray characters and hand back other bytes
    const problem = strictBase64Problem(b64);
    if (problem) throw new TypeError(`array buffer is not valid base64 (${problem})`);
    const bytes = Buffer.from(b64, "base64");
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    return copy;
  }
  return ab;
}

/** Typed data of `dtype` over little-endian `bytes` (consumed; may be swapped in place). */
export function typedFromBytes(dtype: DType, ab: ArrayBuffer, shape: readonly number[]): TypedArray {
  const info = DTYPE_INFO[dtype];
  const size = product(shape);
  if (ab.byteLength !== size * info.itemSize) {
    throw new TypeError(
      `array of dtype ${dtype} and shape [${shape.join(", ")}] needs ${size * info.itemSize} bytes, got ${ab.byteLength}`,
    );
  }
  if (!LITTLE_ENDIAN && info.itemSize > 1) {
    const b = Buffer.from(ab);
    const unit = dtype.startsWith("complex") ? info.itemSize / 2 : info.itemSize;
    if (unit === 2) b.swap16();
    else if (unit === 4) b.swap32();
    else if (unit === 8) b.swap64();
  }
  if (dtype === "float16") return halfToFloat32(new Uint16Array(ab));
  return new info.ctor(ab);
}
