/**
 * Array codec for the Tesseract runtime's wire format:
 * `{"object_type":"array","shape":[...],"dtype":"float64","data":{"buffer":...,"encoding":"base64"|"json"}}`,
 * plus `"compression":"lz4"` on base64 arrays in responses (decompressed by `./lz4`).
 *
 * - Encoding reads a typed array's bytes in place (`Buffer` over its `ArrayBuffer`), so base64 costs
 *   one pass of Node's native encoder and no per-element JavaScript on little-endian hosts.
 * - Large base64 buffers are never pasted into a JSON string: request bodies are emitted as a list
 *   of chunks (JSON text, base64 text, JSON text, ...) with an exact content length, and responses
 *   are split the same way before `JSON.parse`, decoding base64 straight into an aligned buffer.
 */
import { randomBytes } from "node:crypto";
import {
  DTYPE_INFO,
  type DType,
  dtypeOfTypedArray,
  halfToFloat32,
  isDType,
  isTypedArray,
  LITTLE_ENDIAN,
  type TypedArray,
  toHalfBits,
} from "./dtypes";
import { lz4FrameDecompress } from "./lz4";

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
export type ArrayEncoding = "base64" | "json";

/** Base64 buffers at least this long travel as separate body chunks rather than inside JSON text. */
const SPLICE_THRESHOLD = 4096;

// ---- recognising array values -----------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isShape(v: unknown): v is number[] {
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

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function flatten(nested: readonly unknown[], out: unknown[] = []): unknown[] {
  for (const x of nested) {
    if (Array.isArray(x)) flatten(x, out);
    else out.push(x);
  }
  return out;
}

/** Shape of a (rectangular) nested array. */
export function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
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
export function toWireArray(value: unknown): NDArray | undefined {
  if (isTypedArray(value)) return { shape: [value.length], dtype: dtypeOfTypedArray(value), data: value };
  if (!isArrayLikeValue(value)) return undefined;
  const raw = value.data;
  const dtype: DType = value.dtype ?? (isTypedArray(raw) ? dtypeOfTypedArray(raw) : "float64");
  const info = DTYPE_INFO[dtype];
  let data: TypedArray;
  if (isTypedArray(raw)) {
    data = raw;
    if (dtype === "float16" && !(raw instanceof Uint16Array)) data = toHalfBits(raw as ArrayLike<number>);
    else if (dtype === "bool" && !(raw instanceof Uint8Array))
      data = Uint8Array.from(raw as ArrayLike<number>, (x) => (x ? 1 : 0));
    else if (dtype !== "float16" && dtype !== "bool") {
      const wanted = info.ctor;
      if (!(raw instanceof wanted)) {
        throw new TypeError(
          `array of dtype ${dtype} needs ${wanted.name} data (interleaved re, im for complex), got ${raw.constructor.name}`,
        );
      }
    }
  } else {
    const flat = flatten(raw);
    if (dtype === "float16") data = toHalfBits(flat.map(Number));
    else if (dtype === "bool") data = Uint8Array.from(flat, (x) => (x ? 1 : 0));
    else if (dtype === "int64" || dtype === "uint64") {
      data = new info.ctor(flat.length);
      for (let i = 0; i < flat.length; i++) (data as BigInt64Array)[i] = BigInt(flat[i] as number | string | bigint);
    } else {
      data = new info.ctor(flat.length);
      for (let i = 0; i < flat.length; i++) (data as Float64Array)[i] = Number(flat[i]);
    }
  }
  const lanes = info.lanes;
  const shape = value.shape
    ? [...value.shape]
    : !isTypedArray(raw) && nestedShape(raw).length > 1
      ? nestedShape(raw)
      : [data.length / lanes];
  if (product(shape) * lanes !== data.length) {
    throw new TypeError(
      `array of dtype ${dtype} and shape [${shape.join(", ")}] needs ${product(shape) * lanes} values, got ${data.length}`,
    );
  }
  return { shape, dtype, data };
}

// ---- base64 ---------------------------------------------------------------------------------------

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

/** Base64 → bytes in a fresh, 16-byte-aligned ArrayBuffer (so any typed array can view it). */
export function decodeBase64ToBuffer(b64: string): ArrayBuffer {
  const n = base64DecodedLength(b64);
  const ab = new ArrayBuffer(n);
  const written = Buffer.from(ab).write(b64, "base64");
  if (written !== n) {
    // not canonical base64 (whitespace, url-safe...): slower path
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

// ---- decoding responses -----------------------------------------------------------------------

/** Turns one wire-format array into an `NDArray`. `pre` holds buffers already decoded from the body. */
export function decodeArray(
  enc: {
    shape: number[];
    dtype: DType;
    data: { buffer: unknown; encoding: string; compression?: string | null };
  },
  pre?: BlobResolver,
): NDArray {
  const { shape, dtype } = enc;
  const { buffer, encoding, compression } = enc.data;
  if (compression && compression !== "lz4")
    throw new TypeError(`array compression ${JSON.stringify(compression)} is not supported (only lz4)`);
  if (encoding === "base64") {
    if (typeof buffer !== "string") throw new TypeError("base64 array buffer must be a string");
    const blob = pre?.(buffer);
    let ab = blob ? (blob.bytes ?? decodeBase64ToBuffer(blob.text as string)) : decodeBase64ToBuffer(buffer);
    if (compression === "lz4") {
      ab = lz4FrameDecompress(new Uint8Array(ab), product(shape) * DTYPE_INFO[dtype].itemSize);
    }
    return { shape: [...shape], dtype, data: typedFromBytes(dtype, ab, shape) };
  }
  if (compression) throw new TypeError(`lz4 compression applies to base64 arrays, not ${JSON.stringify(encoding)}`);
  if (pre && typeof buffer === "string" && pre(buffer)) {
    return decodeArray({ shape, dtype, data: { buffer: blobText(pre(buffer) as CutField), encoding, compression } });
  }
  if (encoding === "json" || encoding === "raw") {
    const flat = Array.isArray(buffer) ? flatten(buffer) : [buffer];
    return toWireFromPlain(shape, dtype, flat);
  }
  throw new TypeError(
    `array encoding ${JSON.stringify(encoding)} is not supported by this client (binref needs the server's output path)`,
  );
}

function toWireFromPlain(shape: number[], dtype: DType, flat: unknown[]): NDArray {
  const info = DTYPE_INFO[dtype];
  if (dtype === "bool") return { shape, dtype, data: Uint8Array.from(flat, (x) => (x ? 1 : 0)) };
  if (info.lanes === 2) {
    // numpy's tolist() of complex values does not survive JSON; accept [re, im] pairs or {real, imag}
    const data = new info.ctor(flat.length * 2) as Float64Array;
    flat.forEach((x, i) => {
      const c = x as { real?: number; imag?: number } | number;
      data[2 * i] = typeof c === "number" ? c : Number(c.real ?? 0);
      data[2 * i + 1] = typeof c === "number" ? 0 : Number(c.imag ?? 0);
    });
    return { shape, dtype, data };
  }
  if (dtype === "int64" || dtype === "uint64") {
    const data = new info.ctor(flat.length) as BigInt64Array;
    for (let i = 0; i < flat.length; i++) data[i] = BigInt(flat[i] as number);
    return { shape, dtype, data };
  }
  const data = new info.ctor(flat.length) as Float64Array;
  for (let i = 0; i < flat.length; i++) data[i] = Number(flat[i]);
  return { shape, dtype, data };
}

/** Recursively replaces every wire-format array in a response with an `NDArray`. */
export function decodeTree(value: unknown, pre?: BlobResolver): unknown {
  if (pre && typeof value === "string") {
    const blob = pre(value);
    return blob ? blobText(blob) : value;
  }
  if (Array.isArray(value)) return value.map((v) => decodeTree(v, pre));
  if (!isPlainObject(value)) return value;
  if (isEncodedArray(value)) return decodeArray(value, pre);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeTree(v, pre);
  return out;
}

/** Looks up a placeholder left in the JSON text by `ResponseParser`. */
type BlobResolver = (s: string) => CutField | undefined;

/** The original text of a cut-out field (outside an array it is handed back unchanged). */
function blobText(b: CutField): string {
  return b.text ?? Buffer.from(b.bytes as ArrayBuffer).toString("base64");
}

const BUFFER_KEY = Buffer.from('"buffer":"', "latin1");
/** Placeholders carry a per-process random part, so no string in a response can collide with one. */
const RESPONSE_NONCE = randomBytes(6).toString("hex");
const PLACEHOLDER_RE = new RegExp(`^\\u0000pt:${RESPONSE_NONCE}:(\\d+)$`);
/** Base64 is decoded in slices of this many characters (a multiple of 4) while the body streams in. */
const DECODE_SLICE = 1 << 20;

/** A large base64 field cut out of a response: its decoded bytes, or its text when not canonical base64. */
type CutField = { bytes: ArrayBuffer; text?: undefined } | { bytes?: undefined; text: string };

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Strict check of the base64 alphabet (no url-safe characters, `=` only as padding). */
function isStrictBase64(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f))
      return false;
  }
  return true;
}

/**
 * One `"buffer":"…"` string value being received. The first `SPLICE_THRESHOLD` bytes are held; a
 * shorter string goes back into the JSON text, a longer one is decoded slice by slice as the bytes
 * arrive (never becoming a JavaScript string as a whole) into a buffer sized from the array's
 * shape and dtype when they precede it (as the Tesseract runtime writes them).
 */
class Base64Field {
  private head: Buffer[] = [];
  private headLength = 0;
  private streaming = false;
  private out: Buffer | undefined;
  private written = 0;
  private rem: Buffer | undefined;
  private ended = false;
  private bad: Buffer[] | undefined;

  constructor(private readonly sizeHint: number) {}

  /** Consumes `buf` up to the closing quote; returns its index, or -1 when all of `buf` was consumed. */
  feed(buf: Buffer): number {
    const q = buf.indexOf(0x22);
    const seg = q === -1 ? buf : buf.subarray(0, q);
    if (!this.streaming) {
      if (seg.length) {
        this.head.push(seg);
        this.headLength += seg.length;
      }
      if (this.headLength < SPLICE_THRESHOLD) return q;
      const head = Buffer.concat(this.head, this.headLength);
      this.head = [];
      this.streaming = true;
      const full = Math.floor(head.length / 4) * 4;
      if (!isStrictBase64(head.subarray(0, full - 4))) this.bad = [head];
      else this.decode(head);
      return q;
    }
    if (seg.length) this.decode(seg);
    return q;
  }

  /** True while the field is short enough to go back into the JSON text. */
  get isSmall(): boolean {
    return !this.streaming;
  }

  /** The held text of a short field. */
  headText(): Buffer {
    return Buffer.concat(this.head, this.headLength);
  }

  private ensure(extra: number): Buffer {
    const need = this.written + extra;
    if (!this.out || need > this.out.length) {
      const cap = Math.max(need, this.out ? this.out.length * 2 : this.sizeHint > 0 ? this.sizeHint : need);
      const next = Buffer.from(new ArrayBuffer(cap));
      if (this.out) this.out.copy(next, 0, 0, this.written);
      this.out = next;
    }
    return this.out;
  }

  private decode(seg: Buffer): void {
    if (this.bad) {
      this.bad.push(Buffer.from(seg));
      return;
    }
    let off = 0;
    if (this.rem) {
      // complete the quad left over from the previous chunk
      const take = Math.min(4 - this.rem.length, seg.length);
      const quad = Buffer.concat([this.rem, seg.subarray(0, take)]);
      off = take;
      this.rem = undefined;
      if (quad.length < 4) {
        this.rem = quad;
        return;
      }
      this.decodeQuads(quad, 0, 4);
    }
    const usable = Math.floor((seg.length - off) / 4) * 4;
    for (let a = off; a < off + usable; a += DECODE_SLICE)
      this.decodeQuads(seg, a, Math.min(a + DECODE_SLICE, off + usable));
    if (off + usable < seg.length) this.rem = Buffer.from(seg.subarray(off + usable));
  }

  private decodeQuads(src: Buffer, a: number, b: number): void {
    if (this.bad) {
      this.bad.push(Buffer.from(src.subarray(a)));
      return;
    }
    let pad = 0;
    if (src[b - 1] === 0x3d) pad = src[b - 2] === 0x3d ? 2 : 1;
    const expected = ((b - a) / 4) * 3 - pad;
    const out = this.ensure(((b - a) / 4) * 3);
    const n = this.ended ? -1 : out.write(src.toString("latin1", a, b), this.written, "base64");
    if (n !== expected) {
      // not canonical base64 (or data after padding): keep the text as it came
      this.toText().push(Buffer.from(src.subarray(a, b)));
      return;
    }
    this.written += n;
    if (pad) this.ended = true;
  }

  private toText(): Buffer[] {
    const prefix = this.out ? this.out.toString("base64", 0, this.written) : "";
    this.bad = [Buffer.from(prefix, "latin1")];
    this.out = undefined;
    return this.bad;
  }

  /** Called at the closing quote. */
  finish(): CutField {
    if (this.rem && !this.bad) {
      this.toText().push(this.rem);
    }
    if (this.bad) return { text: Buffer.concat(this.bad).toString("latin1") };
    const out = this.out;
    if (!out) return { bytes: new ArrayBuffer(0) };
    if (this.written === out.length && out.byteOffset === 0 && out.buffer.byteLength === out.length)
      return { bytes: out.buffer as ArrayBuffer };
    const exact = new ArrayBuffer(this.written);
    out.copy(Buffer.from(exact), 0, 0, this.written);
    return { bytes: exact };
  }
}

const HINT_RE = /"shape"\s*:\s*\[([\d\s,]*)\]\s*,\s*"dtype"\s*:\s*"(\w+)"[^{}]*"data"\s*:\s*\{\s*$/;

/**
 * Incremental response parser: feed the body chunk by chunk (`push`), then `finish()`. Base64
 * buffers of 4 KiB and more are decoded while the response is still arriving and never become
 * part of the string handed to `JSON.parse`; arrays become `NDArray`s.
 */
export class ResponseParser {
  private text: Buffer[] = [];
  private carry: Buffer | undefined;
  private field: Base64Field | undefined;
  private cuts: CutField[] = [];
  private lastSignificant = -1;
  private recent = "";

  /** @param maxBytes the body length when known: no preallocation exceeds it. */
  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {}

  private commit(piece: Buffer, copy: boolean): void {
    if (!piece.length) return;
    this.text.push(copy ? Buffer.from(piece) : piece);
    for (let i = piece.length - 1; i >= 0; i--) {
      if (!isWhitespace(piece[i])) {
        this.lastSignificant = piece[i];
        break;
      }
    }
    this.recent = (this.recent + piece.toString("latin1", Math.max(0, piece.length - 512))).slice(-512);
  }

  private sizeHint(): number {
    const m = HINT_RE.exec(this.recent.slice(0, -BUFFER_KEY.length));
    if (!m || !isDType(m[2])) return 0;
    const dims = m[1].split(",").filter((d) => d.trim() !== "");
    let n = DTYPE_INFO[m[2]].itemSize;
    for (const d of dims) n *= Number(d);
    return Number.isSafeInteger(n) && n <= (this.maxBytes * 3) / 4 ? n : 0;
  }

  /** Feeds the next chunk of the body (the chunk is not retained unless it is JSON text). */
  push(chunk: Buffer): void {
    let buf = chunk;
    while (buf.length) {
      if (this.field) {
        const q = this.field.feed(buf);
        if (q === -1) return;
        const field = this.field;
        this.field = undefined;
        if (field.isSmall) this.commit(field.headText(), false);
        else {
          this.cuts.push(field.finish());
          this.commit(Buffer.from(`\\u0000pt:${RESPONSE_NONCE}:${this.cuts.length - 1}`, "latin1"), false);
        }
        buf = buf.subarray(q);
        continue;
      }
      if (this.carry) {
        buf = Buffer.concat([this.carry, buf]);
        this.carry = undefined;
      }
      const at = buf.indexOf(BUFFER_KEY);
      if (at === -1) {
        const keep = Math.min(BUFFER_KEY.length - 1, buf.length);
        this.commit(buf.subarray(0, buf.length - keep), false);
        this.carry = Buffer.from(buf.subarray(buf.length - keep));
        return;
      }
      // only a key: preceded by `{` or `,` (whitespace allowed)
      let k = at - 1;
      while (k >= 0 && isWhitespace(buf[k])) k--;
      const prev = k >= 0 ? buf[k] : this.lastSignificant;
      const start = at + BUFFER_KEY.length;
      this.commit(buf.subarray(0, start), false);
      if (prev === 0x7b || prev === 0x2c) this.field = new Base64Field(this.sizeHint());
      buf = buf.subarray(start);
    }
  }

  /** Parses what was fed and decodes its arrays. */
  finish(): unknown {
    if (this.field) throw new SyntaxError("response body ended inside a string");
    if (this.carry) this.commit(this.carry, false);
    this.carry = undefined;
    const text = Buffer.concat(this.text).toString("utf8");
    this.text = [];
    const cuts = this.cuts;
    const parsed = JSON.parse(text);
    if (!cuts.length) return decodeTree(parsed);
    const resolve = (s: string): CutField | undefined => {
      const m = PLACEHOLDER_RE.exec(s);
      return m ? cuts[Number(m[1])] : undefined;
    };
    return decodeTree(parsed, resolve);
  }
}

/**
 * Parses a whole response body (see `ResponseParser`, which also takes it chunk by chunk).
 * Arrays become `NDArray`s.
 */
export function parseResponseBody(body: Buffer): unknown {
  if (body.length < 65536) return decodeTree(JSON.parse(body.toString("utf8")));
  const p = new ResponseParser(body.length);
  p.push(body);
  return p.finish();
}

// ---- encoding requests ------------------------------------------------------------------------

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

  /** The body in write order: JSON text, then base64 slices of at most 1 MiB. */
  *stream(): Generator<string> {
    for (const p of this.parts) {
      if (typeof p === "string") {
        if (p.length) yield p;
        continue;
      }
      for (let a = 0; a < p.length; a += ENCODE_SLICE)
        yield p.toString("base64", a, Math.min(a + ENCODE_SLICE, p.length));
    }
  }
}

/** Wire form of one array, or `undefined` when `value` is not an array value. */
function encodeArrayValue(
  value: unknown,
  encoding: ArrayEncoding,
  splice: (bytes: Buffer) => string,
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
  if (asJson) {
    if (nd.dtype === "int64" || nd.dtype === "uint64") buffer = Array.from(nd.data as BigInt64Array, Number);
    else if (nd.dtype === "bool") buffer = Array.from(nd.data as Uint8Array, Boolean);
    else buffer = Array.from(nd.data as Float64Array);
  } else {
    const bytes = arrayBytes(nd);
    buffer = Math.ceil(bytes.length / 3) * 4 >= SPLICE_THRESHOLD ? splice(bytes) : bytes.toString("base64");
  }
  return {
    object_type: "array",
    shape: nd.shape,
    dtype: nd.dtype,
    data: { buffer, encoding: asJson ? "json" : "base64" },
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
): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === "bigint") return Number(v);
    if (isTypedArray(v)) return encodeArrayValue(v, encoding, splice);
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    if (isEncodedArray(v)) return v;
    const arr = encodeArrayValue(v, encoding, splice);
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
export function encodeRequestBody(payload: unknown, encoding: ArrayEncoding = "base64"): EncodedBody {
  const blobs: Buffer[] = [];
  const nonce = `${PROCESS_NONCE}${++bodyCounter}`;
  const encoded = encodeTree(payload, encoding, (bytes) => {
    blobs.push(bytes);
    return `@@pt:${nonce}:${blobs.length - 1}@@`;
  });
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
