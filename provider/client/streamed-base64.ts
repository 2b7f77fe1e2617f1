/**
 * One large base64 string field of a response, decoded slice by slice while the body streams in,
 * so a 100 MB buffer never becomes a JavaScript string (used by `ResponseParser`).
 */
import { SPLICE_THRESHOLD } from "./array-bytes";

/** Base64 is decoded in slices of this many characters (a multiple of 4) while the body streams in. */
const DECODE_SLICE = 1 << 20;

/** A large base64 field cut out of a response: its decoded bytes, or its text when not canonical base64. */
export type CutField = { bytes: ArrayBuffer; text?: undefined } | { bytes?: undefined; text: string };

export function isWhitespace(c: number): boolean {
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
export class Base64Field {
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
    // room for the decoded bytes only: counting the padding would outgrow a buffer sized exactly
    // from the shape, doubling it and copying the array twice (once to grow, once to trim)
    const out = this.ensure(expected);
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
