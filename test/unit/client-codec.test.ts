/**
 * Array codec: every dtype round-trips through the wire format (base64 and json), float16 rounds
 * like numpy, large buffers are spliced out of the JSON text on both sides, results turn into plain
 * JSON, and 1e7 float64 encode+decode stays fast.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBase64ToBuffer, encodeBase64, typedFromBytes } from "../../provider/client/array-bytes";
import { DTYPES, halfToFloat32, numberToHalfBits } from "../../provider/client/dtypes";
import { locToPath, parseValidationBody, summarizeValue } from "../../provider/client/errors";
import { type NDArray, ndarray, toPlainTree, toWireArray } from "../../provider/client/ndarray";
import { validateRequest } from "../../provider/client/openapi";
import { encodeRequestBody, encodeTree } from "../../provider/client/request-body";
import { decodeTree, parseResponseBody, ResponseParser } from "../../provider/client/response-body";

/** Encodes `value` as a request would, then decodes it as a response would. */
function roundTrip(value: unknown, encoding: "base64" | "json" = "base64"): NDArray {
  const body = encodeRequestBody({ x: value }, encoding);
  const parsed = parseResponseBody(Buffer.from(body.chunks.join(""))) as { x: NDArray };
  return parsed.x;
}

const SAMPLES: Record<string, unknown> = {
  float16: { dtype: "float16", shape: [2, 2], data: [1.5, -2, 65504, 0.000061035156] },
  float32: new Float32Array([1.5, -2.25, 3e38, Number.NaN]),
  float64: { dtype: "float64", shape: [3], data: new Float64Array([Math.PI, -0, Number.POSITIVE_INFINITY]) },
  int8: new Int8Array([-128, 0, 127]),
  int16: new Int16Array([-32768, 1, 32767]),
  int32: new Int32Array([-(2 ** 31), 7, 2 ** 31 - 1]),
  int64: new BigInt64Array([-(2n ** 63n), 5n, 2n ** 63n - 1n]),
  uint8: new Uint8Array([0, 1, 255]),
  uint16: new Uint16Array([0, 65535]),
  uint32: new Uint32Array([0, 2 ** 32 - 1]),
  uint64: new BigUint64Array([0n, 2n ** 64n - 1n]),
  bool: { dtype: "bool", shape: [2, 2], data: [true, false, false, true] },
  complex64: { dtype: "complex64", shape: [2], data: new Float32Array([1, 2, -3, 4.5]) },
  complex128: { dtype: "complex128", shape: [1], data: new Float64Array([Math.E, -Math.PI]) },
};

describe("codec round trip", () => {
  it("covers every upstream dtype", () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), [...DTYPES].sort());
  });
  for (const [dtype, sample] of Object.entries(SAMPLES)) {
    it(`${dtype}: base64 keeps dtype, shape and every value`, () => {
      const wire = toWireArray(sample) as NDArray;
      const back = roundTrip(sample);
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, wire.shape);
      const expected = dtype === "float16" ? halfToFloat32(wire.data as Uint16Array) : wire.data;
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(expected as ArrayLike<unknown>));
      assert.equal(back.data.byteOffset % back.data.BYTES_PER_ELEMENT, 0);
    });
  }
  it("json encoding round-trips real dtypes (and keeps complex/float16 as base64)", () => {
    for (const dtype of ["float32", "float64", "int8", "int32", "uint16", "bool"]) {
      const back = roundTrip(SAMPLES[dtype], "json");
      const wire = toWireArray(SAMPLES[dtype]) as NDArray;
      assert.equal(back.dtype, dtype);
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(wire.data as ArrayLike<unknown>));
    }
    const enc = encodeTree(
      { c: SAMPLES.complex64, h: SAMPLES.float16, f: new Float64Array([1]), n: SAMPLES.float32 },
      "json",
    ) as Record<string, { data: { encoding: string } }>;
    assert.equal(enc.c.data.encoding, "base64");
    assert.equal(enc.h.data.encoding, "base64");
    assert.equal(enc.f.data.encoding, "json");
    assert.equal(enc.n.data.encoding, "base64"); // NaN has no JSON form
  });
  it("decodes json-encoded responses, nested or flat", () => {
    const t = decodeTree({
      y: {
        object_type: "array",
        shape: [2, 2],
        dtype: "int32",
        data: {
          buffer: [
            [1, 2],
            [3, 4],
          ],
          encoding: "json",
        },
      },
      s: { object_type: "array", shape: [], dtype: "float64", data: { buffer: 2.5, encoding: "json" } },
    }) as Record<string, NDArray>;
    assert.ok(t.y.data instanceof Int32Array);
    assert.deepEqual(Array.from(t.y.data as Int32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(t.s.data as Float64Array), [2.5]);
  });
  it("keeps plain numbers, nested lists and strings as JSON", () => {
    const enc = encodeTree({
      a: [
        [1, 2],
        [3, 4],
      ],
      s: 2,
      name: "x",
      flags: [true],
    });
    assert.deepEqual(enc, {
      a: [
        [1, 2],
        [3, 4],
      ],
      s: 2,
      name: "x",
      flags: [true],
    });
  });
  it("rejects data that does not fit the shape or dtype", () => {
    assert.throws(() => toWireArray({ dtype: "float64", shape: [2, 2], data: [1, 2, 3] }), /needs 4 values, got 3/);
    assert.throws(() => toWireArray({ dtype: "float64", data: new Float32Array(2) }), /needs Float64Array/);
    assert.throws(() => typedFromBytes("float64", new ArrayBuffer(12), [2]), /needs 16 bytes, got 12/);
  });
  it("infers shapes from nested data and builds NDArrays", () => {
    assert.deepEqual(
      toWireArray({
        dtype: "int16",
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      })?.shape,
      [2, 3],
    );
    const h = ndarray([0.1, 1 / 3], [2], "float16");
    assert.ok(h.data instanceof Float32Array);
    assert.equal(h.data[0], halfToFloat32(new Uint16Array([0x2e66]))[0]);
  });
});

describe("float16", () => {
  it("rounds to nearest even like numpy (known bit patterns)", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up to inf
      [1e6, 0x7c00],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // ties to even → 0
      [3 * 2 ** -25, 0x0002], // tie → even
      [2 ** -14, 0x0400], // smallest normal
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // exact tie → even
      [1 + 3 * 2 ** -11, 0x3c02],
      [1 + 2 ** -11 + 2 ** -40, 0x3c01], // just above the tie (needs float64 bits)
    ];
    for (const [v, bits] of cases) assert.equal(numberToHalfBits(v), bits, `${v}`);
    assert.equal(numberToHalfBits(Number.NaN) & 0x7c00, 0x7c00);
    assert.ok(Number.isNaN(halfToFloat32(new Uint16Array([0x7e00]))[0]));
  });
  it("decodes every bit pattern back to itself", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const f = halfToFloat32(all);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(f[i])) continue;
      assert.equal(numberToHalfBits(f[i]), i);
    }
  });
});

describe("body splicing", () => {
  it("emits large base64 buffers as separate chunks whose concatenation is the JSON", () => {
    const big = new Float64Array(10_000).map((_, i) => i * 0.5);
    const payload = { inputs: { a: big, b: [1, 2], name: 'quote " and ünïcode', nested: { c: new Int32Array(5000) } } };
    const body = encodeRequestBody(payload);
    assert.ok(body.chunks.length >= 5);
    const text = body.chunks.join("");
    assert.equal(Buffer.byteLength(text), body.byteLength);
    const parsed = JSON.parse(text);
    assert.equal(parsed.inputs.name, payload.inputs.name);
    assert.equal(parsed.inputs.a.data.buffer, Buffer.from(big.buffer).toString("base64"));
    assert.equal(parsed.inputs.nested.c.shape[0], 5000);
  });
  it("parses large responses with spliced buffers, and ignores look-alike strings", () => {
    const big = new Float64Array(50_000).map((_, i) => Math.sin(i));
    const b64 = Buffer.from(big.buffer).toString("base64");
    const decoy = `x"buffer":"${"A".repeat(5000)}`;
    const json = JSON.stringify({
      note: decoy,
      r: { object_type: "array", shape: [50_000], dtype: "float64", data: { buffer: b64, encoding: "base64" } },
      small: { object_type: "array", shape: [1], dtype: "uint8", data: { buffer: "Bw==", encoding: "base64" } },
    });
    const out = parseResponseBody(Buffer.from(json)) as { note: string; r: NDArray; small: NDArray };
    assert.equal(out.note, decoy);
    assert.deepEqual(Array.from(out.r.data as Float64Array), Array.from(big));
    assert.deepEqual(Array.from(out.small.data as Uint8Array), [7]);
  });
});

describe("plain JSON results", () => {
  it("turns NDArrays into {shape, dtype, data: list}, safe for stack outputs", () => {
    const tree = toPlainTree({
      i64: { shape: [2], dtype: "int64", data: new BigInt64Array([5n, 2n ** 62n]) },
      b: { shape: [2], dtype: "bool", data: new Uint8Array([1, 0]) },
      f: { shape: [3], dtype: "float64", data: new Float64Array([1.5, Number.NaN, Number.NEGATIVE_INFINITY]) },
      c: { shape: [1], dtype: "complex64", data: new Float32Array([1, -1]) },
      meta: { n: 1n, list: [1, "x"] },
    });
    assert.deepEqual(tree, {
      i64: { shape: [2], dtype: "int64", data: [5, "4611686018427387904"] },
      b: { shape: [2], dtype: "bool", data: [true, false] },
      f: { shape: [3], dtype: "float64", data: [1.5, "NaN", "-Infinity"] },
      c: { shape: [1], dtype: "complex64", data: [1, -1] },
      meta: { n: 1, list: [1, "x"] },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(tree)), tree);
  });
});

describe("error text", () => {
  it("reads FastAPI 422 bodies into paths and reasons, summarising inputs", () => {
    const issues = parseValidationBody(
      JSON.stringify({
        detail: [
          {
            type: "array_shape_mismatch",
            loc: ["body", "inputs", "a", 0],
            msg: "Array shape mismatch",
            input: { shape: [100000], dtype: "float64", data: { buffer: "A".repeat(100000), encoding: "base64" } },
          },
          { type: "missing", loc: ["body", "inputs", "b"], msg: "Field required" },
        ],
      }),
    );
    assert.equal(issues[0].path, "inputs.a[0]");
    assert.equal(issues[0].input, "float64 array of shape [100000] (base64)");
    assert.equal(issues[1].path, "inputs.b");
    assert.equal(locToPath(["body"]), "(body)");
    assert.ok(summarizeValue("x".repeat(500)).length < 70);
    assert.equal(summarizeValue(new Float64Array(9)), "Float64Array(9)");
  });
});

describe("client-side schema validation", () => {
  const arr = (dtypes: string[], shape: Record<string, unknown>) => ({
    type: "object",
    title: `EncodedArrayModel__x__${dtypes[0]}__noflags`,
    additionalProperties: false,
    required: ["shape", "dtype", "data"],
    properties: { object_type: {}, shape, dtype: { type: "string", enum: dtypes }, data: {} },
  });
  const doc = {
    components: {
      schemas: {
        Apply_InputSchema: {
          type: "object",
          additionalProperties: false,
          required: ["a", "n"],
          properties: {
            a: arr(["float64", "float32", "int64"], {
              type: "array",
              minItems: 2,
              maxItems: 2,
              prefixItems: [{ enum: [1, 3] }, { minimum: 0 }],
            }),
            n: { type: "integer", minimum: 1 },
            mode: { anyOf: [{ type: "string", enum: ["fast", "slow"] }, { type: "null" }] },
          },
        },
        ApplyInputSchema: { differentiable_arrays: { a: {} } },
        ApplyOutputSchema: { differentiable_arrays: { y: {} } },
      },
    },
  };
  it("reports each problem with its path", () => {
    const wire = encodeTree({
      inputs: { a: { dtype: "complex64", shape: [4, 2], data: new Float32Array(16) }, n: 0, mode: "medium", zz: 1 },
      jac_inputs: ["a", "q"],
      jac_outputs: ["y"],
    }) as Record<string, unknown>;
    const issues = validateRequest(doc, "jacobian", wire);
    const text = issues.map((i) => `${i.path}: ${i.message}`).join("\n");
    assert.match(text, /inputs\.a: dtype complex64 cannot be cast to float64/);
    assert.match(text, /inputs\.a: dimension 0 must be 3/);
    assert.match(text, /inputs\.n: must be ≥ 1/);
    assert.match(text, /inputs\.mode: must be one of "fast", "slow"/);
    assert.match(text, /inputs\.zz: unknown field/);
    assert.match(text, /jac_inputs\[1\]: "q" is not a differentiable input/);
  });
  it("accepts valid inputs, including plain nested lists for arrays", () => {
    assert.deepEqual(validateRequest(doc, "apply", { inputs: { a: [[1, 2]], n: 3, mode: null } }), []);
    const wire = encodeTree({ inputs: { a: { dtype: "float32", shape: [3, 5], data: new Float32Array(15) }, n: 1 } });
    assert.deepEqual(validateRequest(doc, "apply", wire as Record<string, unknown>), []);
  });
});

describe("speed", () => {
  it("base64 encode + decode of 1e7 float64 is native-speed (bounded, loose on a shared machine)", () => {
    const x = new Float64Array(1e7).map((_, i) => i);
    const nd: NDArray = { shape: [1e7], dtype: "float64", data: x };
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const b64 = encodeBase64(nd);
      const back = new Float64Array(decodeBase64ToBuffer(b64));
      best = Math.min(best, performance.now() - t0);
      assert.equal(back[9_999_999], 9_999_999);
    }
    assert.ok(best < 400, `encode+decode took ${best.toFixed(0)} ms`);
  });
});

describe("streaming request bodies and responses", () => {
  const big = new Float64Array(100_001).map((_, i) => Math.cos(i) * 1e3);
  const b64 = Buffer.from(big.buffer).toString("base64");
  const arr = (shape: number[], dtype: string, buffer: string) => ({
    object_type: "array",
    shape,
    dtype,
    data: { buffer, encoding: "base64" },
  });

  it("streams array bytes as base64 slices whose concatenation is the JSON, with the exact length", () => {
    const odd = new Uint8Array(3 * 262144 + 2).map((_, i) => i * 7);
    const body = encodeRequestBody({ inputs: { a: big, o: odd, s: "ü" } });
    const streamed = [...body.stream()].join("");
    assert.equal(streamed, body.chunks.join(""));
    assert.equal(Buffer.byteLength(streamed), body.byteLength);
    const parsed = JSON.parse(streamed);
    assert.equal(parsed.inputs.a.data.buffer, b64);
    assert.equal(parsed.inputs.o.data.buffer, Buffer.from(odd).toString("base64"));
  });

  it("decodes the same result whatever the chunk boundaries", () => {
    const json = Buffer.from(
      JSON.stringify({
        r: arr([100_001], "float64", b64),
        nested: [
          { q: arr([2], "uint8", "BwE=") },
          arr([], "float32", Buffer.from(new Float32Array([2.5]).buffer).toString("base64")),
        ],
        s: 'tail "buffer":"x',
      }),
    );
    for (const size of [1, 3, 5, 4095, 4096, 65536, json.length]) {
      const p = new ResponseParser(json.length);
      for (let i = 0; i < json.length; i += size) p.push(json.subarray(i, i + size));
      const out = p.finish() as { r: NDArray; nested: [{ q: NDArray }, NDArray]; s: string };
      assert.deepEqual(out.r.data, big, `chunk size ${size}`);
      assert.deepEqual(Array.from(out.nested[0].q.data as Uint8Array), [7, 1]);
      assert.equal((out.nested[1].data as Float32Array)[0], 2.5);
      assert.equal(out.s, 'tail "buffer":"x');
    }
  });

  it("hands long non-array or non-canonical `buffer` strings back unchanged", () => {
    const text = `${"A".repeat(6000)}-_ not base64 at all`;
    const json = Buffer.from(JSON.stringify({ meta: { buffer: text }, other: { buffer: b64.slice(0, 8000) } }));
    for (const size of [7, 4096, json.length]) {
      const p = new ResponseParser(json.length);
      for (let i = 0; i < json.length; i += size) p.push(json.subarray(i, i + size));
      assert.deepEqual(p.finish(), { meta: { buffer: text }, other: { buffer: b64.slice(0, 8000) } });
    }
  });

  it("reports a shape that does not match the buffer, even when the size hint is wrong", () => {
    const json = Buffer.from(JSON.stringify({ r: arr([5], "float64", b64) }));
    assert.throws(() => parseResponseBody(json), /needs 40 bytes, got 800008/);
    const truncated = Buffer.from(JSON.stringify({ r: arr([100_001], "float64", b64.slice(0, 9000)) }));
    assert.throws(() => parseResponseBody(truncated), /needs 800008 bytes, got 6750/);
  });
});
