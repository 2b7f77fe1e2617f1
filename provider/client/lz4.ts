/**
 * LZ4 frame decompression (the format of Python's `lz4.frame.compress`), for arrays a Tesseract
 * sends with `"compression": "lz4"` (a runtime served with `TESSERACT_COMPRESSION=lz4`).
 * Frame spec: https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md; block spec:
 * lz4_Block_format.md. Header, block and content checksums are verified when present.
 */

const FRAME_MAGIC = 0x184d2204;
/** Skippable frames use magics 0x184D2A50..0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

/** xxHash32 (seed 0), which LZ4 frames use for their checksums. */
export function xxh32(b: Uint8Array, start = 0, end = b.length): number {
  let i = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    for (; i + 16 <= end; i += 16) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32(b, i), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32(b, i + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32(b, i + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32(b, i + 12), P2)) | 0, 13), P1);
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + (end - start)) | 0;
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(u32(b, i), P3)) | 0, 17), P4);
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(b[i], P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

class Lz4Error extends Error {
  constructor(message: string) {
    super(`lz4: ${message}`);
    this.name = "Lz4Error";
  }
}

/** Decodes one LZ4 block `src[start, end)` into `out` at `pos`; returns the new position. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, pos: number): number {
  let i = start;
  let o = pos;
  while (i < end) {
    const token = src[i++];
    let lit = token >>> 4;
    if (lit === 15) {
      let s: number;
      do {
        s = src[i++];
        lit += s;
      } while (s === 255 && i < end);
    }
    if (i + lit > end || o + lit > out.length) throw new Lz4Error("literals run past the block or the output");
    out.set(src.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i >= end) break; // the last sequence has literals only
    if (i + 2 > end) throw new Lz4Error("truncated match offset");
    const offset = src[i] | (src[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > o) throw new Lz4Error(`match offset ${offset} is out of range`);
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let s: number;
      do {
        s = src[i++];
        len += s;
      } while (s === 255 && i < end);
    }
    if (o + len > out.length) throw new Lz4Error("a match runs past the output");
    // an overlapping match (offset < len) repeats the last `offset` bytes: copy in doubling runs
    const from = o - offset;
    const stop = o + len;
    while (o < stop) {
      const n = Math.min(stop - o, o - from);
      out.copyWithin(o, from, from + n);
      o += n;
    }
  }
  return o;
}

interface FrameHeader {
  blockChecksum: boolean;
  contentChecksum: boolean;
  /** Decompressed size, when the frame stores it. */
  contentSize: number | undefined;
  /** Index of the first block. */
  dataStart: number;
}

/**
 * The next frame at or after `i` (skippable frames passed over), its header validated; undefined
 * when `src` ends there.
 */
function nextFrame(src: Uint8Array, i: number): FrameHeader | undefined {
  while (i < src.length) {
    if (i + 4 > src.length) throw new Lz4Error("truncated frame header");
    const magic = u32(src, i);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      i += 8 + u32(src, i + 4);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new Lz4Error(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
    const flg = src[i + 4];
    if (flg >>> 6 !== 1) throw new Lz4Error(`unsupported frame version ${flg >>> 6}`);
    if (flg & 0x01) throw new Lz4Error("frames with a dictionary are not supported");
    const hasSize = (flg & 0x08) !== 0;
    const headerEnd = i + 6 + (hasSize ? 8 : 0);
    if (headerEnd + 1 > src.length) throw new Lz4Error("truncated frame header");
    if (((xxh32(src, i + 4, headerEnd) >>> 8) & 0xff) !== src[headerEnd])
      throw new Lz4Error("frame header checksum mismatch");
    return {
      blockChecksum: (flg & 0x10) !== 0,
      contentChecksum: (flg & 0x04) !== 0,
      contentSize: hasSize ? u32(src, i + 6) + u32(src, i + 10) * 2 ** 32 : undefined,
      dataStart: headerEnd + 1,
    };
  }
  return undefined;
}

/**
 * Decompresses LZ4 frames (one or more, skippable frames ignored) into a fresh ArrayBuffer.
 * `expectedSize` (bytes) sizes the output and is checked against what the frames hold; without it
 * the first frame must store its content size (Tesseracts send one frame).
 */
export function lz4FrameDecompress(src: Uint8Array, expectedSize?: number): ArrayBuffer {
  let frame = nextFrame(src, 0);
  const total = expectedSize ?? frame?.contentSize;
  if (total === undefined) throw new Lz4Error("frame without a content size and no expected size");
  // a frame that announces more than the array needs is refused before anything is allocated
  if (frame?.contentSize !== undefined && frame.contentSize > total)
    throw new Lz4Error(
      `data is larger than expected (the frame says ${frame.contentSize} bytes, the array needs ${total})`,
    );
  const ab = new ArrayBuffer(total);
  const out = new Uint8Array(ab);
  let o = 0;
  while (frame) {
    const { blockChecksum, contentChecksum, contentSize } = frame;
    const frameStart = o;
    let i = frame.dataStart;
    for (;;) {
      if (i + 4 > src.length) throw new Lz4Error("truncated block");
      const word = u32(src, i);
      i += 4;
      if (word === 0) break; // end mark
      const size = word & 0x7fffffff;
      if (i + size > src.length) throw new Lz4Error("truncated block");
      if (blockChecksum) {
        if (i + size + 4 > src.length) throw new Lz4Error("truncated block checksum");
        if (xxh32(src, i, i + size) !== u32(src, i + size)) throw new Lz4Error("block checksum mismatch");
      }
      if (word & 0x80000000) {
        if (o + size > out.length) throw new Lz4Error("data is larger than expected");
        out.set(src.subarray(i, i + size), o);
        o += size;
      } else {
        o = decodeBlock(src, i, i + size, out, o);
      }
      i += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) {
      if (i + 4 > src.length) throw new Lz4Error("truncated content checksum");
      if (xxh32(out, frameStart, o) !== u32(src, i)) throw new Lz4Error("content checksum mismatch");
      i += 4;
    }
    if (contentSize !== undefined && o - frameStart !== contentSize)
      throw new Lz4Error(`frame holds ${o - frameStart} bytes, its header says ${contentSize}`);
    frame = nextFrame(src, i);
  }
  if (o !== total) throw new Lz4Error(`decompressed ${o} bytes, expected ${total}`);
  return ab;
}
