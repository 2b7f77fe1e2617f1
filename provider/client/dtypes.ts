/**
 * The dtypes of tesseract-core's array encoding and how each maps onto a JavaScript typed array.
 * All buffers are little-endian, C order.
 */

/** Every dtype the Tesseract runtime accepts. */
export const DTYPES = [
  "float16",
  "float32",
  "float64",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "bool",
  "complex64",
  "complex128",
] as const;

/** A tesseract-core dtype name. */
export type DType = (typeof DTYPES)[number];

/** Any JavaScript typed array the codec reads or produces. */
export type TypedArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

type TypedArrayCtor = {
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

/** How one dtype is held in memory on the JavaScript side. */
export interface DTypeInfo {
  /** Bytes per element on the wire (a complex element counts as one). */
  readonly itemSize: number;
  /** Typed array used for *decoded* data. float16 decodes to Float32Array. */
  readonly ctor: TypedArrayCtor;
  /** Numbers per element in the decoded typed array (2 for complex: real, imaginary interleaved). */
  readonly lanes: number;
}

export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  float16: { itemSize: 2, ctor: Float32Array, lanes: 1 },
  float32: { itemSize: 4, ctor: Float32Array, lanes: 1 },
  float64: { itemSize: 8, ctor: Float64Array, lanes: 1 },
  int8: { itemSize: 1, ctor: Int8Array, lanes: 1 },
  int16: { itemSize: 2, ctor: Int16Array, lanes: 1 },
  int32: { itemSize: 4, ctor: Int32Array, lanes: 1 },
  int64: { itemSize: 8, ctor: BigInt64Array, lanes: 1 },
  uint8: { itemSize: 1, ctor: Uint8Array, lanes: 1 },
  uint16: { itemSize: 2, ctor: Uint16Array, lanes: 1 },
  uint32: { itemSize: 4, ctor: Uint32Array, lanes: 1 },
  uint64: { itemSize: 8, ctor: BigUint64Array, lanes: 1 },
  bool: { itemSize: 1, ctor: Uint8Array, lanes: 1 },
  complex64: { itemSize: 8, ctor: Float32Array, lanes: 2 },
  complex128: { itemSize: 16, ctor: Float64Array, lanes: 2 },
};

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && Object.hasOwn(DTYPE_INFO, value);
}

/** True for every typed array (not DataView). */
export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

/** The dtype a typed array stands for when nothing else is said (Uint8Array → uint8). */
export function dtypeOfTypedArray(data: TypedArray): DType {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return "uint8";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof BigUint64Array) return "uint64";
  throw new TypeError(`unsupported typed array ${(data as object).constructor?.name}`);
}

/** Whether this host stores numbers little-endian (true on x86_64 and arm64). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- float16 ---------------------------------------------------------------------------------

let halfTable: Float32Array | undefined;

/** float16 bit patterns → Float32Array, through a 65,536-entry lookup table (exact). */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >> 10) & 0x1f;
      const frac = h & 0x3ff;
      let v: number;
      if (exp === 0) v = frac * 2 ** -24;
      else if (exp === 31) v = frac ? Number.NaN : Number.POSITIVE_INFINITY;
      else v = (1 + frac / 1024) * 2 ** (exp - 15);
      halfTable[h] = sign * v;
    }
  }
  const table = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

const f64 = new Float64Array(1);
const f64words = new Uint32Array(f64.buffer);
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** One number → float16 bits, rounding to nearest even straight from float64 (like numpy). */
export function numberToHalfBits(value: number): number {
  f64[0] = value;
  const hi = f64words[HI];
  const lo = f64words[LO];
  const sign = (hi >>> 16) & 0x8000;
  const exp = (hi >>> 20) & 0x7ff;
  const mantHi = hi & 0xfffff;
  if (exp === 0x7ff) return sign | 0x7c00 | (mantHi || lo ? 0x200 : 0); // inf / nan
  const e = exp - 1023 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    // subnormal half: value / 2^-24, rounded half to even (scaling by a power of two is exact)
    const t = Math.abs(value) * 2 ** 24;
    let r = Math.floor(t);
    const d = t - r;
    if (d > 0.5 || (d === 0.5 && r & 1)) r++;
    return sign | r; // r == 0x400 rolls over into the smallest normal, as it should
  }
  let half = (e << 10) | (mantHi >>> 10);
  const rem = mantHi & 0x3ff;
  if (rem > 0x200 || (rem === 0x200 && (lo !== 0 || half & 1))) half++; // carry may reach inf: fine
  return sign | half;
}

/** Numbers → float16 bit patterns. */
export function toHalfBits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberToHalfBits(values[i]);
  return out;
}
