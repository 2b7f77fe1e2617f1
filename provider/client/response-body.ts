/**
 * Response parsing: the Tesseract runtime's array wire format
 * `{"object_type":"array","shape":[...],"dtype":"float64","data":{"buffer":...,"encoding":"base64"|"json"}}`
 * (plus `"compression":"lz4"` on base64 arrays, decompressed by `./lz4`) becomes `NDArray`s.
 * Large base64 buffers are cut out of the body before `JSON.parse` and decoded straight into an
 * aligned buffer (`ResponseParser`, fed chunk by chunk as the body arrives).
 */
import { randomBytes } from "node:crypto";
import { decodeBase64ToBuffer, typedFromBytes } from "./array-bytes";
import { readBinref } from "./binref";
import { DTYPE_INFO, type DType, isDType } from "./dtypes";
import { lz4FrameDecompress } from "./lz4";
import { flatten, isEncodedArray, isPlainObject, type NDArray, product } from "./ndarray";
import { Base64Field, type CutField, isWhitespace } from "./streamed-base64";

/** Turns one wire-format array into an `NDArray`. `pre` holds buffers already decoded from the body. */
export function decodeArray(
  enc: {
    shape: number[];
    dtype: DType;
    data: { buffer: unknown; encoding: string; compression?: string | null };
  },
  pre?: BlobResolver,
  binrefDir?: string,
): NDArray {
  const { shape, dtype } = enc;
  const { buffer, encoding, compression } = enc.data;
  if (compression && compression !== "lz4")
    throw new TypeError(`array compression ${JSON.stringify(compression)} is not supported (only lz4)`);
  if (encoding === "binref" && binrefDir !== undefined && typeof buffer === "string") {
    return {
      shape: [...shape],
      dtype,
      data: typedFromBytes(dtype, readBinref(buffer, shape, dtype, compression, binrefDir), shape),
    };
  }
  if (encoding === "base64") {
    if (typeof buffer !== "string") throw new TypeError("base64 array buffer must be a string");
    const blob = pre?.(buffer);
    let ab = blob ? (blob.bytes ?? decodeBase64ToBuffer(blob.text as string)) : decodeBase64ToBuffer(buffer);
    if (compression === "lz4") {
      ab = lz4FrameDecompress(new Uint8Array(ab), product(shape) * DTYPE_INFO[dtype].itemSize);
    }
    return { shape: [...shape], dtype, data: typedFromBytes(dtype, ab, shape) };
  }
  if (compression)
    throw new TypeError(`lz4 compression applies to base64 and binref arrays, not ${JSON.stringify(encoding)}`);
  if (pre && typeof buffer === "string" && pre(buffer)) {
    return decodeArray({ shape, dtype, data: { buffer: blobText(pre(buffer) as CutField), encoding, compression } });
  }
  if (encoding === "json" || encoding === "raw") {
    const flat = Array.isArray(buffer) ? flatten(buffer) : [buffer];
    return toWireFromPlain(shape, dtype, flat);
  }
  throw new TypeError(
    `array encoding ${JSON.stringify(encoding)} is not supported by this client (binref needs the server's output path: the outputPath option)`,
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
export function decodeTree(value: unknown, pre?: BlobResolver, binrefDir?: string): unknown {
  if (pre && typeof value === "string") {
    const blob = pre(value);
    return blob ? blobText(blob) : value;
  }
  if (Array.isArray(value)) return value.map((v) => decodeTree(v, pre, binrefDir));
  if (!isPlainObject(value)) return value;
  if (isEncodedArray(value)) return decodeArray(value, pre, binrefDir);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeTree(v, pre, binrefDir);
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

  /**
   * @param maxBytes the body length when known: no preallocation exceeds it.
   * @param binrefDir where binref buffers are read from (the service's output folder), if readable.
   */
  constructor(
    private readonly maxBytes = Number.POSITIVE_INFINITY,
    private readonly binrefDir?: string,
  ) {}

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
    if (!cuts.length) return decodeTree(parsed, undefined, this.binrefDir);
    const resolve = (s: string): CutField | undefined => {
      const m = PLACEHOLDER_RE.exec(s);
      return m ? cuts[Number(m[1])] : undefined;
    };
    return decodeTree(parsed, resolve, this.binrefDir);
  }
}

/**
 * Parses a whole response body (see `ResponseParser`, which also takes it chunk by chunk).
 * Arrays become `NDArray`s.
 */
export function parseResponseBody(body: Buffer, binrefDir?: string): unknown {
  if (body.length < 65536) return decodeTree(JSON.parse(body.toString("utf8")), undefined, binrefDir);
  const p = new ResponseParser(body.length, binrefDir);
  p.push(body);
  return p.finish();
}
