/**
 * Exact conversion of plain values to typed array data: every value either arrives as sent or is
 * refused with where it is and why, as numpy refuses `np.array([300], dtype=np.int8)` (an int8
 * array never silently holds 44). Used for request arrays given as `{dtype, data: [...]}` and for
 * `json`-encoded arrays in responses.
 */
import { DTYPE_INFO, type DType, numberToHalfBits, type TypedArray } from "./dtypes";
import { BadInputValue } from "./limits";

/** Inclusive ranges of the integer dtypes. */
const INT_RANGE: Partial<Record<DType, readonly [bigint, bigint]>> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** float16 infinity (sign bit cleared): a finite value rounding to it overflowed. */
const FLOAT16_INF_BITS = 0x7c00;

/** `"NaN"`, `"Infinity"`, `"-1.5"`, `"12345678901234567890"` (what `toPlainArray` writes) → number, else undefined. */
function numberFromString(s: string): number | undefined {
  if (s === "NaN") return Number.NaN;
  const t = s.trim();
  if (t === "" || !/^[+-]?(Infinity|\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(t)) return undefined;
  return Number(t);
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null || v === undefined || typeof v !== "object") return String(v);
  return Array.isArray(v) ? "a list" : "an object";
}

/** The refusal of element `index` of the array at `path`. */
function refuse(path: string, index: number, type: string, why: string): BadInputValue {
  return new BadInputValue(`${path}[${index}]`, type, `${path}: element ${index} ${why}`);
}

/** An element as an exact integer (bigint), or a refusal. */
function toInteger(v: unknown, dtype: DType, path: string, i: number): bigint {
  let b: bigint | undefined;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "boolean") b = v ? 1n : 0n;
  else if (typeof v === "number" || typeof v === "string") {
    if (typeof v === "string" && /^\s*[+-]?\d+\s*$/.test(v)) b = BigInt(v.trim());
    else {
      const n = typeof v === "number" ? v : numberFromString(v);
      if (n === undefined) throw refuse(path, i, "not_a_number", `is ${show(v)}, not a number (dtype ${dtype})`);
      if (!Number.isInteger(n))
        throw refuse(path, i, "not_an_integer", `is ${show(v)}, not an integer: dtype ${dtype} cannot hold it exactly`);
      b = BigInt(n);
    }
  } else throw refuse(path, i, "not_a_number", `is ${show(v)}, not a number (dtype ${dtype})`);
  const [lo, hi] = INT_RANGE[dtype] as readonly [bigint, bigint];
  if (b < lo || b > hi)
    throw refuse(path, i, "out_of_range", `is ${b}, out of range for ${dtype} (${lo} to ${hi}); numpy refuses it too`);
  return b;
}

/** An element as a float (finite values stay finite), or a refusal. */
function toFloat(v: unknown, dtype: DType, path: string, i: number): number {
  let n: number | undefined;
  if (typeof v === "number") n = v;
  else if (typeof v === "boolean") n = v ? 1 : 0;
  else if (typeof v === "bigint") n = Number(v);
  else if (typeof v === "string") n = numberFromString(v);
  if (n === undefined) throw refuse(path, i, "not_a_number", `is ${show(v)}, not a number (dtype ${dtype})`);
  if (Number.isFinite(n)) {
    const overflows = (dtype === "float32" || dtype === "complex64") && !Number.isFinite(Math.fround(n));
    if (overflows || (dtype === "float16" && (numberToHalfBits(n) & 0x7fff) === FLOAT16_INF_BITS))
      throw refuse(path, i, "out_of_range", `is ${n}, beyond the largest finite ${dtype}: it would become infinity`);
  }
  return n;
}

/**
 * Typed data of `dtype` (float16 as raw half bits, bool as 0/1 bytes, complex interleaved) from a
 * flat list of plain values, each converted exactly or refused with `path`, index and reason.
 */
export function exactTypedData(dtype: DType, flat: readonly unknown[], path: string): TypedArray {
  const info = DTYPE_INFO[dtype];
  if (dtype === "bool") {
    const out = new Uint8Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v === "boolean") out[i] = v ? 1 : 0;
      else if (typeof v === "number" || typeof v === "bigint") out[i] = v ? 1 : 0;
      else throw refuse(path, i, "not_a_bool", `is ${show(v)}, not a boolean (dtype bool)`);
    }
    return out;
  }
  if (dtype === "float16") {
    const out = new Uint16Array(flat.length);
    for (let i = 0; i < flat.length; i++) out[i] = numberToHalfBits(toFloat(flat[i], dtype, path, i));
    return out;
  }
  if (INT_RANGE[dtype]) {
    const out = new info.ctor(flat.length);
    if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
      for (let i = 0; i < flat.length; i++) out[i] = toInteger(flat[i], dtype, path, i);
    } else {
      for (let i = 0; i < flat.length; i++) (out as Int32Array)[i] = Number(toInteger(flat[i], dtype, path, i));
    }
    return out;
  }
  const out = new info.ctor(flat.length) as Float64Array;
  for (let i = 0; i < flat.length; i++) out[i] = toFloat(flat[i], dtype, path, i);
  return out;
}

/** float16 bits from other float data, refusing finite values that would round to infinity. */
export function exactHalfBits(values: ArrayLike<number>, path: string): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const bits = numberToHalfBits(values[i]);
    if ((bits & 0x7fff) === FLOAT16_INF_BITS && Number.isFinite(values[i]))
      throw refuse(
        path,
        i,
        "out_of_range",
        `is ${values[i]}, beyond the largest finite float16 (65504): it would become infinity`,
      );
    out[i] = bits;
  }
  return out;
}
