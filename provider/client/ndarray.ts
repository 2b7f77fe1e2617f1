/**
 * Array values as the client holds them: `NDArray` (typed data in C order), what callers may pass
 * where an array is expected (`ArrayInput`), normalisation to the exact wire representation
 * (`toWireArray`), and plain-JSON copies for stack outputs (`toPlainTree`).
 */
import {
  DTYPE_INFO,
  type DType,
  dtypeOfTypedArray,
  halfToFloat32,
  isDType,
  isTypedArray,
  type TypedArray,
} from "./dtypes";
import { exactHalfBits, exactTypedData } from "./exact";

/**
 * A decoded array: `data` is a typed array in C order, `shape` its dimensions (`[]` for a scalar).
 * float16 data is a Float32Array (exact widening); complex64/complex128 data is a
 * Float32Array/Float64Array of interleaved real and imaginary parts (length 2 × size); bool data is
 * a Uint8Array of 0/1; int64/uint64 data is a BigInt64Array/BigUint64Array.
 */
export interface NDArray<T extends TypedArray = TypedArray> {
  shape: number[];
  dtype: DType;
  data: T;
}

/**
 * An array as plain JSON, the shape that stack outputs and the `…Output` functions use:
 * `data` is flat (C order). int64/uint64 values outside ±2^53 are decimal strings, bool values are
 * booleans, complex values are interleaved `[re, im, re, im, ...]`.
 */
export interface PlainNDArray {
  shape: number[];
  dtype: DType;
  data: (number | boolean | string)[];
}

/**
 * What the client accepts where the Tesseract expects an array:
 * - a typed array (shape `[length]`, dtype from its type; Uint8Array means uint8);
 * - an `NDArray`-like `{shape?, dtype?, data}` whose `data` is a typed array or a flat or nested
 *   array of numbers/booleans (shape defaults to `[length]`; for float16 `data` may be a
 *   Uint16Array of raw half-precision bits or numbers, which are rounded to nearest even);
 * - plain numbers, booleans and nested arrays, which are sent as JSON and typed by the server
 *   (like `np.asarray`);
 * - an already encoded array (`data: {buffer, encoding}`), sent unchanged.
 */
export type ArrayInput =
  | TypedArray
  | { shape?: readonly number[]; dtype?: DType; data: TypedArray | readonly unknown[] }
  | number
  | boolean
  | readonly unknown[];

/** How array buffers travel in requests. Responses are always requested as base64. */

// ---- recognising array values -----------------------------------------------------------------

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0);
}

/** `{shape?, dtype?, data}` with a typed-array or plain-array `data` (not yet encoded). */
export function isArrayLikeValue(
  v: unknown,
): v is { shape?: number[]; dtype?: DType; data: TypedArray | unknown[]; object_type?: "array" } {
  if (!isPlainObject(v)) return false;
  const { shape, dtype, data } = v;
  if (!(isTypedArray(data) || Array.isArray(data))) return false;
  if (shape !== undefined && !isShape(shape)) return false;
  if (dtype !== undefined && !isDType(dtype)) return false;
  if (shape === undefined && dtype === undefined) return false;
  for (const k of Object.keys(v))
    if (k !== "shape" && k !== "dtype" && k !== "data" && k !== "object_type") return false;
  return true;
}

/** An array already in wire format: `{shape, dtype, data: {buffer, encoding}}`. */
export function isEncodedArray(v: unknown): v is {
  object_type?: "array";
  shape: number[];
  dtype: DType;
  data: { buffer: unknown; encoding: string; compression?: string | null };
} {
  if (!isPlainObject(v) || !isShape(v.shape) || !isDType(v.dtype)) return false;
  const d = v.data;
  return isPlainObject(d) && typeof d.encoding === "string" && "buffer" in d;
}

/** True for a decoded `NDArray` (typed `data`, dtype and shape present). */
export function isNDArray(v: unknown): v is NDArray {
  return isPlainObject(v) && isShape(v.shape) && isDType(v.dtype) && isTypedArray(v.data);
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** numpy's limit on dimensions: nested lists deeper than this are refused (and a cycle is caught). */
export const MAX_NDIM = 64;

/** The values of a nested list in C order; throws beyond `MAX_NDIM` levels (a cycle never ends). */
export function flatten(nested: readonly unknown[], out: unknown[] = [], depth = 1): unknown[] {
  if (depth > MAX_NDIM)
    throw new TypeError(
      `array data is nested more than ${MAX_NDIM} levels deep (numpy's limit; a list that contains itself?)`,
    );
  for (const x of nested) {
    if (Array.isArray(x)) flatten(x, out, depth + 1);
    else out.push(x);
  }
  return out;
}

/** Shape of a (rectangular) nested array. */
export function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur) && shape.length <= MAX_NDIM) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/**
 * Normalises any `ArrayInput` that carries a dtype or typed data into an `NDArray` whose `data` is
 * the exact wire representation (float16 → Uint16Array bits, bool → Uint8Array). Returns
 * `undefined` for plain numbers/nested arrays (sent as JSON) and encoded arrays (sent unchanged).
 */
export function toWireArray(value: unknown, path = "value"): NDArray | undefined {
  if (isTypedArray(value)) return { shape: [value.length], dtype: dtypeOfTypedArray(value), data: value };
  if (!isArrayLikeValue(value)) return undefined;
  const raw = value.data;
  const dtype: DType = value.dtype ?? (isTypedArray(raw) ? dtypeOfTypedArray(raw) : "float64");
  const info = DTYPE_INFO[dtype];
  let data: TypedArray;
  if (isTypedArray(raw)) {
    data = raw;
    if (dtype === "float16" && !(raw instanceof Uint16Array)) {
      if (raw instanceof BigInt64Array || raw instanceof BigUint64Array)
        data = exactTypedData(dtype, Array.from(raw as BigInt64Array), path);
      else data = exactHalfBits(raw as ArrayLike<number>, path);
    } else if (dtype === "bool" && !(raw instanceof Uint8Array))
      data = Uint8Array.from(raw as ArrayLike<number>, (x) => (x ? 1 : 0));
    else if (dtype !== "float16" && dtype !== "bool") {
      const wanted = info.ctor;
      if (!(raw instanceof wanted)) {
        throw new TypeError(
          `${path}: array of dtype ${dtype} needs ${wanted.name} data (interleaved re, im for complex), got ${raw.constructor.name}`,
        );
      }
    }
  } else {
    // every value exactly, or refused with its index (numpy refuses int8 300 rather than wrapping it)
    data = exactTypedData(dtype, flatten(raw), path);
  }
  const lanes = info.lanes;
  const shape = value.shape
    ? [...value.shape]
    : !isTypedArray(raw) && nestedShape(raw).length > 1
      ? nestedShape(raw)
      : [data.length / lanes];
  if (product(shape) * lanes !== data.length) {
    throw new TypeError(
      `${path}: array of dtype ${dtype} and shape [${shape.join(", ")}] needs ${product(shape) * lanes} values, got ${data.length}`,
    );
  }
  return { shape, dtype, data };
}

// ---- plain JSON -------------------------------------------------------------------------------

/** An `NDArray` as plain JSON (see `PlainNDArray`). */
export function toPlainArray(nd: NDArray): PlainNDArray {
  let data: (number | boolean | string)[];
  if (nd.dtype === "bool") data = Array.from(nd.data as Uint8Array, Boolean);
  else if (nd.data instanceof BigInt64Array || nd.data instanceof BigUint64Array) {
    data = Array.from(nd.data as BigInt64Array, (b) => {
      const n = Number(b);
      return Number.isSafeInteger(n) ? n : b.toString();
    });
  } else data = Array.from(nd.data as Float64Array, (x) => (Number.isFinite(x) ? x : String(x)));
  return { shape: [...nd.shape], dtype: nd.dtype, data };
}

/** Deep copy of a decoded result with every `NDArray` replaced by a `PlainNDArray`. */
export function toPlainTree(value: unknown): unknown {
  if (isNDArray(value)) return toPlainArray(value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toPlainTree);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toPlainTree(v);
    return out;
  }
  return value;
}

/**
 * Builds an `NDArray` from data and an optional shape/dtype, e.g.
 * `ndarray(new Float64Array(6), [2, 3])` or `ndarray([1, 2, 3], [3], "int32")`.
 * Values are converted to the dtype's typed array (float16 → Float32Array of rounded values).
 */
export function ndarray(data: TypedArray | readonly unknown[], shape?: readonly number[], dtype?: DType): NDArray {
  const wire = toWireArray({
    data: data as TypedArray,
    shape: shape ? [...shape] : undefined,
    dtype: dtype ?? (isTypedArray(data) ? dtypeOfTypedArray(data) : "float64"),
  });
  if (!wire) throw new TypeError("not an array value");
  if (wire.dtype === "float16") return { ...wire, data: halfToFloat32(wire.data as Uint16Array) };
  return wire;
}
