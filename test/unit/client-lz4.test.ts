/**
 * LZ4 frame decompression: frames written by Python's `lz4.frame` (the library the Tesseract
 * runtime compresses with), checksums, corruption, and lz4 arrays through the response decoder.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { lz4FrameDecompress, xxh32 } from "../../provider/client/lz4";
import { decodeTree, parseResponseBody } from "../../provider/client/response-body";
import { venvPython } from "../helpers/venv";

// lz4.frame.compress(arange(64, float64).tobytes() + 200 zero bytes), with and without checksums
const WITH_CHECKSUMS =
  "BCJNGHxAyAIAAAAAAADGCwEAABkAAQAj8D8PABJACAATCAgAExAIABMUCAATGAgAExwIABMgCAATIggAEyQIABMmCAATKAgAEyoIABMsCAATLggAEzAIABMxCAATMggAEzMIABM0CAATNQgAEzYIABM3CAATOAgAEzkIABM6CAATOwgAEzwIABM9CAATPggAEz8IABJACAATgAgAIwBBEAADCAAjAEIQAAMIACMAQxAAAwgAIwBEEAADCAAjAEUQAAMIACMARhAAAwgAIwBHEAADCAAjAEgQAAMIACMASRAAAwgAIwBKEAADCAAjAEsQAAMIACMATBAAAwgAIwBNEAADCAAjAE4QAAMIACMATxAAAwgADwIAq1AAAAAAAPl8ghMAAAAAnEKqFQ==";
const PLAIN =
  "BCJNGGhAyAIAAAAAAAAZCwEAABkAAQAj8D8PABJACAATCAgAExAIABMUCAATGAgAExwIABMgCAATIggAEyQIABMmCAATKAgAEyoIABMsCAATLggAEzAIABMxCAATMggAEzMIABM0CAATNQgAEzYIABM3CAATOAgAEzkIABM6CAATOwgAEzwIABM9CAATPggAEz8IABJACAATgAgAIwBBEAADCAAjAEIQAAMIACMAQxAAAwgAIwBEEAADCAAjAEUQAAMIACMARhAAAwgAIwBHEAADCAAjAEgQAAMIACMASRAAAwgAIwBKEAADCAAjAEsQAAMIACMATBAAAwgAIwBNEAADCAAjAE4QAAMIACMATxAAAwgADwIAq1AAAAAAAAAAAAA=";

function expected(): Uint8Array {
  const out = new Uint8Array(64 * 8 + 200);
  out.set(new Uint8Array(Float64Array.from({ length: 64 }, (_, i) => i).buffer));
  return out;
}

describe("lz4 frames", () => {
  it("xxh32 matches the reference vectors", () => {
    assert.equal(xxh32(Buffer.from("")), 0x02cc5d05);
    assert.equal(xxh32(Buffer.from("Nobody inspects the spammish repetition")), 0xe2293b2f);
  });

  it("decompresses frames with and without block/content checksums", () => {
    for (const b64 of [WITH_CHECKSUMS, PLAIN]) {
      const src = Buffer.from(b64, "base64");
      assert.deepEqual(new Uint8Array(lz4FrameDecompress(src)), expected());
      assert.deepEqual(new Uint8Array(lz4FrameDecompress(src, 712)), expected());
    }
  });

  it("rejects corrupt data, wrong sizes and other formats with an lz4 error", () => {
    const src = Buffer.from(WITH_CHECKSUMS, "base64");
    const flipped = Buffer.from(src);
    flipped[40] ^= 0xff;
    assert.throws(() => lz4FrameDecompress(flipped), /lz4: block checksum mismatch/);
    const header = Buffer.from(src);
    header[6] ^= 1;
    assert.throws(() => lz4FrameDecompress(header), /lz4: frame header checksum mismatch/);
    assert.throws(() => lz4FrameDecompress(src, 100), /lz4: .*larger|lz4: .*past the output/);
    assert.throws(() => lz4FrameDecompress(Buffer.from("not lz4 at all")), /lz4: not an LZ4 frame/);
    assert.throws(() => lz4FrameDecompress(src.subarray(0, src.length - 10)), /lz4: truncated/);
  });

  it("decodes lz4-compressed base64 arrays in responses, small and streamed", () => {
    const doc = (b64: string) =>
      `{"x":{"object_type":"array","shape":[712],"dtype":"uint8","data":{"buffer":"${b64}","encoding":"base64","compression":"lz4"}}}`;
    const small = decodeTree(JSON.parse(doc(PLAIN))) as { x: { data: Uint8Array } };
    assert.deepEqual(small.x.data, expected());
    // a frame of stored (uncompressed) blocks, 48 KB: its base64 is cut out and decoded while streaming
    const data = Buffer.from(Float64Array.from({ length: 6000 }, (_, i) => Math.sin(i)).buffer);
    const big = parseResponseBody(
      Buffer.from(doc(storedFrame(data).toString("base64")).replace('"shape":[712]', '"shape":[48000]')),
    ) as { x: { data: Uint8Array } };
    assert.ok(Buffer.from(big.x.data).equals(data));
    assert.throws(
      () =>
        decodeTree({
          x: { shape: [1], dtype: "uint8", data: { buffer: "AA==", encoding: "base64", compression: "zstd" } },
        }),
      /array compression "zstd" is not supported \(only lz4\)/,
    );
  });

  const python = venvPython();
  it("agrees with Python's lz4.frame on random, repetitive and large inputs", {
    skip: !python,
  }, () => {
    // each case: [seed, size, kind, compress kwargs]; Python prints base64(data) and base64(frame)
    const script = `
import base64, json, sys, lz4.frame, numpy as np
out = []
for seed, size, kind, kw in json.load(sys.stdin):
    rng = np.random.default_rng(seed)
    if kind == "random": data = rng.bytes(size)
    elif kind == "runs": data = np.repeat(rng.integers(0, 4, size // 97 + 1, dtype=np.uint8), 97)[:size].tobytes()
    else: data = np.cumsum(rng.integers(0, 3, size // 8 + 1)).astype(np.float64).tobytes()[:size]
    out.append([base64.b64encode(data).decode(), base64.b64encode(lz4.frame.compress(data, **kw)).decode()])
print(json.dumps(out))
`;
    const cases = [
      [1, 0, "random", {}],
      [2, 1, "random", {}],
      [3, 100_000, "random", {}],
      [4, 100_000, "runs", { block_checksum: true, content_checksum: true }],
      [5, 3_000_000, "floats", { block_size: 4 } /* lz4.frame.BLOCKSIZE_MAX64KB */],
      [6, 3_000_000, "floats", { store_size: false, block_linked: false }],
      [7, 5_000_000, "runs", { compression_level: 9 }],
    ];
    const pairs = JSON.parse(
      execFileSync(python as string, ["-c", script], {
        input: JSON.stringify(cases),
        maxBuffer: 256 << 20,
      }).toString(),
    ) as [string, string][];
    for (const [i, [data, frame]] of pairs.entries()) {
      const want = Buffer.from(data, "base64");
      const got = Buffer.from(lz4FrameDecompress(Buffer.from(frame, "base64"), want.length));
      assert.ok(got.equals(want), `case ${JSON.stringify(cases[i])}`);
    }
  });
});

/** An LZ4 frame holding `data` in stored blocks of at most 64 KiB (no content size, no checksums). */
function storedFrame(data: Buffer): Buffer {
  const descriptor = Buffer.from([0x60, 0x40]); // version 1, independent blocks; 64 KiB max block
  const parts: Buffer[] = [
    Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    descriptor,
    Buffer.from([(xxh32(descriptor) >>> 8) & 0xff]),
  ];
  for (let i = 0; i < data.length; i += 65536) {
    const block = data.subarray(i, i + 65536);
    const size = Buffer.alloc(4);
    size.writeUInt32LE((block.length | 0x80000000) >>> 0);
    parts.push(size, block);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}
