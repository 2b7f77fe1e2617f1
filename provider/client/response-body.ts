/**
 * Response parsing: the Tesseract runtime's array wire format
 * `{"object_type":"array","shape":[...],"dtype":"float64","data":{"buffer":...,"encoding":"base64"|"json"}}`
 * (plus `"compression":"lz4"` on base64 arrays, decompressed by `./lz4`) becomes `NDArray`s.
 * Large base64 buffers are cut out of the body before `JSON.parse` and decoded straight into an
 * aligned buffer (`ResponseParser`, fed chunk by chunk as the body arrives).
 */
import { randomBytes } from "node:crypto";
import { decodeBase64ToBuffer, typedFromBytes } from "./array-bytes";
import { DTYPE_INFO, DTYPES, type DType, halfToFloat32, isDType, type TypedArray } from "./dtypes";
import { printable } from "./errors";
import { exactTypedData } from "./exact";
import {
  BadResponse,
  childPath,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_RESPONSE_BYTES,
  depthExceeded,
  formatBytes,
  limitExceeded,
  MAX_STRING_LENGTH,
} from "./limits";
import { lz4FrameDecompress } from "./lz4";
import { flatten, isEncodedArray, isPlainObject, MAX_NDIM, type NDArray, product } from "./ndarray";
import { Base64Field, type CutField, isWhitespace } from "./streamed-base64";

/** Limits of decoding one response (the client's `maxResponseBytes` and `maxJsonDepth`). */
export interface DecodeLimits {
  /** Bytes of the arrays decoded from one response (`maxResponseBytes`). */
  maxBytes: number;
  /** Nesting depth of the response (`maxJsonDepth`). */
  maxDepth: number;
}

/** A binref array whose bytes are still to be read (asynchronously, confined to the output folder). */
export interface BinrefJob {
  /** The array to fill: `data` is set once the file is read. */
  nd: NDArray;
  /** `<path>[:<offset>[:<size>]]` as the server sent it. */
  buffer: string;
  compression: string | null | undefined;
  /** Where the array is in the response, for messages. */
  path: string;
}

/**
 * What decoding one response has spent so far (bytes of decoded arrays, checked against the limit
 * before anything is allocated) and the binref arrays left to read.
 */
export class DecodeContext {
  decoded = 0;
  readonly binrefs: BinrefJob[] = [];
  readonly limits: DecodeLimits;

  constructor(
    limits: Partial<DecodeLimits> = {},
    /** The service's output folder as this process sees it, when binref arrays may be read. */
    readonly binrefDir?: string,
  ) {
    this.limits = {
      maxBytes: limits.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      maxDepth: limits.maxDepth ?? DEFAULT_MAX_JSON_DEPTH,
    };
  }

  /** Counts `bytes` of decoded array at `path` against `maxResponseBytes`, before they are allocated. */
  reserve(bytes: number, path: string): void {
    if (!Number.isSafeInteger(bytes) || this.decoded + bytes > this.limits.maxBytes) {
      throw limitExceeded(
        "maxResponseBytes",
        this.limits.maxBytes,
        `the array at ${path} (${formatBytes(bytes)}, with ${formatBytes(this.decoded)} decoded before it)`,
      );
    }
    this.decoded += bytes;
  }
}

/** What is wrong with an object that says it is an array, or undefined when it is a valid one. */
function arrayProblem(v: Record<string, unknown>): string | undefined {
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    return `its shape ${summarize(v.shape)} is not a list of non-negative integers`;
  if (v.shape.length > MAX_NDIM) return `its shape has ${v.shape.length} dimensions (numpy allows ${MAX_NDIM})`;
  if (!isDType(v.dtype)) return `its dtype ${summarize(v.dtype)} is not one of ${DTYPES.join(", ")}`;
  const d = v.data;
  if (!isPlainObject(d) || typeof d.encoding !== "string" || !("buffer" in d))
    return "its data is not {buffer, encoding}";
  return undefined;
}

function summarize(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Turns one wire-format array into an `NDArray`. `pre` holds buffers already decoded from the body. */
export function decodeArray(
  enc: {
    shape: number[];
    dtype: DType;
    data: { buffer: unknown; encoding: string; compression?: string | null };
  },
  pre?: BlobResolver,
  ctx: DecodeContext = new DecodeContext(),
  path = "(response)",
): NDArray {
  const { shape, dtype } = enc;
  const { buffer, encoding, compression } = enc.data;
  const info = DTYPE_INFO[dtype];
  const bytes = product(shape) * info.itemSize;
  // counted (and refused) before any buffer of that size exists
  ctx.reserve(bytes, path);
  if (compression && compression !== "lz4")
    throw new BadResponse(`${path}: array compression ${JSON.stringify(compression)} is not supported (only lz4)`);
  if (encoding === "binref" && ctx.binrefDir !== undefined) {
    if (typeof buffer !== "string") throw new BadResponse(`${path}: binref array buffer must be a string`);
    const nd: NDArray = { shape: [...shape], dtype, data: new info.ctor(0) };
    ctx.binrefs.push({ nd, buffer, compression, path });
    return nd;
  }
  if (encoding === "base64") {
    if (typeof buffer !== "string") throw new BadResponse(`${path}: base64 array buffer must be a string`);
    const blob = pre?.(buffer);
    let ab: ArrayBuffer;
    try {
      ab = blob ? (blob.bytes ?? decodeBase64ToBuffer(blob.text as string)) : decodeBase64ToBuffer(buffer);
      if (compression === "lz4") ab = lz4FrameDecompress(new Uint8Array(ab), bytes);
      return { shape: [...shape], dtype, data: typedFromBytes(dtype, ab, shape) };
    } catch (err) {
      throw new BadResponse(`${path}: ${(err as Error).message}`);
    }
  }
  if (compression)
    throw new BadResponse(
      `${path}: lz4 compression applies to base64 and binref arrays, not ${JSON.stringify(encoding)}`,
    );
  if (pre && typeof buffer === "string" && pre(buffer)) {
    ctx.decoded -= bytes; // counted again by the call below
    const text = blobText(pre(buffer) as CutField);
    return decodeArray({ shape, dtype, data: { buffer: text, encoding, compression } }, undefined, ctx, path);
  }
  if (encoding === "json" || encoding === "raw") {
    let flat: unknown[];
    try {
      flat = Array.isArray(buffer) ? flatten(buffer) : [buffer];
    } catch (err) {
      throw new BadResponse(`${path}: ${(err as Error).message}`);
    }
    const size = product(shape);
    if (flat.length !== size)
      throw new BadResponse(
        `${path}: the array holds ${flat.length} values, its shape [${shape.join(", ")}] needs ${size}`,
      );
    return toWireFromPlain(shape, dtype, flat, path);
  }
  throw new BadResponse(
    `${path}: array encoding ${JSON.stringify(encoding)} is not supported by this client (binref needs the server's output path: the outputPath option)`,
  );
}

function toWireFromPlain(shape: number[], dtype: DType, flat: unknown[], path: string): NDArray {
  const info = DTYPE_INFO[dtype];
  if (info.lanes === 2) {
    // numpy's tolist() of complex values does not survive JSON; accept [re, im] pairs or {real, imag}
    const data = new info.ctor(flat.length * 2) as Float64Array;
    flat.forEach((x, i) => {
      const c = x as { real?: number; imag?: number } | number;
      data[2 * i] = typeof c === "number" ? c : Number(c?.real ?? Number.NaN);
      data[2 * i + 1] = typeof c === "number" ? 0 : Number(c?.imag ?? Number.NaN);
    });
    return { shape, dtype, data };
  }
  let data: TypedArray;
  try {
    data = exactTypedData(dtype, flat, path);
  } catch (err) {
    throw new BadResponse((err as Error).message);
  }
  if (dtype === "float16") data = halfToFloat32(data as Uint16Array);
  return { shape, dtype, data };
}

/**
 * Recursively replaces every wire-format array in a response with an `NDArray`; refuses nesting
 * beyond `maxJsonDepth` and objects that say they are arrays but are not valid ones.
 */
export function decodeTree(
  value: unknown,
  pre?: BlobResolver,
  ctx: DecodeContext = new DecodeContext(),
  path = "",
  depth = 1,
): unknown {
  if (pre && typeof value === "string") {
    const blob = pre(value);
    return blob ? blobText(blob) : value;
  }
  if (value === null || typeof value !== "object") return value;
  if (depth > ctx.limits.maxDepth) throw depthExceeded(ctx.limits.maxDepth, `the response (at ${path || "its top"})`);
  // paths are built only for objects and lists (a long plain list of numbers costs no strings)
  if (Array.isArray(value))
    return value.map((v, i) =>
      v === null || typeof v !== "object"
        ? pre && typeof v === "string"
          ? decodeTree(v, pre, ctx)
          : v
        : decodeTree(v, pre, ctx, childPath(path, i), depth + 1),
    );
  if (!isPlainObject(value)) return value;
  if (isEncodedArray(value) || value.object_type === "array") {
    const problem = arrayProblem(value);
    if (problem) throw new BadResponse(`${path || "the response"} says it is an array, but ${problem}`);
    return decodeArray(value as Parameters<typeof decodeArray>[0], pre, ctx, path || "the response");
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] =
      v === null || typeof v !== "object"
        ? decodeTree(v, pre, ctx)
        : decodeTree(v, pre, ctx, childPath(path, k), depth + 1);
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
  private textBytes = 0;

  /**
   * @param maxBytes the body length when known: no preallocation exceeds it.
   * @param ctx limits, bytes decoded so far and binref arrays to read (the service's output folder).
   */
  constructor(
    private readonly maxBytes = Number.POSITIVE_INFINITY,
    readonly ctx: DecodeContext = new DecodeContext(),
  ) {}

  private commit(piece: Buffer, copy: boolean): void {
    if (!piece.length) return;
    this.textBytes += piece.length;
    if (this.textBytes > MAX_STRING_LENGTH) {
      throw new BadResponse(
        `the JSON text of the response outside its large base64 buffers exceeds ${formatBytes(MAX_STRING_LENGTH)}, the longest string JavaScript can parse (arrays in json encoding? this client asks for base64)`,
      );
    }
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
    // a hint is only a preallocation: never more than the body can fill or the limit allows
    const room = Math.min((this.maxBytes * 3) / 4, this.ctx.limits.maxBytes - this.ctx.decoded);
    return Number.isSafeInteger(n) && n <= room ? n : 0;
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
    const parsed = parseJson(text);
    if (!cuts.length) return decodeTree(parsed, undefined, this.ctx);
    const resolve = (s: string): CutField | undefined => {
      const m = PLACEHOLDER_RE.exec(s);
      return m ? cuts[Number(m[1])] : undefined;
    };
    return decodeTree(parsed, resolve, this.ctx);
  }
}

/** `JSON.parse`, its failure said as a refused response (with the start of the text). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const start = text.slice(0, 120).replace(/\s+/g, " ");
    throw new BadResponse(
      printable(`the response is not valid JSON (${(err as Error).message}); it starts with ${JSON.stringify(start)}`),
    );
  }
}

/**
 * Parses a whole response body (see `ResponseParser`, which also takes it chunk by chunk).
 * Arrays become `NDArray`s; binref arrays are collected in `ctx.binrefs` (read them with `readBinrefs`).
 */
export function parseResponseBody(body: Buffer, ctx: DecodeContext | Partial<DecodeLimits> = {}): unknown {
  const c = ctx instanceof DecodeContext ? ctx : new DecodeContext(ctx);
  if (body.length < 65536) return decodeTree(parseJson(body.toString("utf8")), undefined, c);
  const p = new ResponseParser(body.length, c);
  p.push(body);
  return p.finish();
}
