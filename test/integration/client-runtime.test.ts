/**
 * TesseractClient against the real tesseract-core runtime (`tesseract-runtime serve`, no Docker)
 * serving examples/tesseracts/calculus:
 * - results equal tesseract-core's Python client (`Tesseract.from_url`) on the same inputs;
 * - JVP = J·v and VJP = vᵀ·J against `jacobian`;
 * - every dtype round-trips through the runtime;
 * - 422/404/500 errors read as documented;
 * - 1,000 calls at concurrency 32 finish with 0 errors.
 *
 * Needs `source scripts/env.sh` (PULUMI_TESSERACT_VENV). `TESSERACT_CLIENT_TEST_URL` points the
 * calculus tests at an already served calculus Tesseract (e.g. a TesseractService) instead.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TesseractClient } from "../../provider/client/client";
import {
  TesseractEndpointNotFoundError,
  TesseractServerError,
  TesseractValidationError,
} from "../../provider/client/errors";
import { type NDArray, toPlainTree } from "../../provider/client/ndarray";
import { REPO_ROOT, type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";
import { requireVenvBin } from "../helpers/venv";

const MINIMAL_API = path.join(REPO_ROOT, "test/helpers/tesseracts/minimal/tesseract_api.py");

/** Runs calls through tesseract-core's Python client; returns plain-JSON results. */
function pythonCalls(url: string, calls: { endpoint: string; args: unknown }[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireVenvBin("python"), [path.join(REPO_ROOT, "test/helpers/py_client_calls.py")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.stdout.on("data", (b) => {
      out += b;
    });
    child.stderr.on("data", (b) => {
      err += b;
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`python client failed (${code}):\n${err.slice(-4000)}`));
    });
    child.stdin.end(JSON.stringify({ url, calls }));
  });
}

/** An array value in the form py_client_calls.py reads. */
function pyArray(nd: NDArray | { shape: number[]; dtype: string; data: ArrayLike<unknown> }) {
  const data = Array.from(nd.data as ArrayLike<unknown>, (x) =>
    typeof x === "bigint" || (typeof x === "number" && !Number.isFinite(x)) ? String(x) : x,
  );
  return { __array__: true, shape: nd.shape, dtype: nd.dtype, data };
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function vec(n: number, rnd: () => number): Float64Array {
  return Float64Array.from({ length: n }, rnd);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-10): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

const N = 7;
const rnd = seeded(42);
const a = vec(N, rnd);
const b = vec(N, rnd);
const s = 1.75;
const inputs = { a, b, s };

/** Every dtype, through `passthrough`. */
const PASSTHROUGH: Record<string, { shape: number[]; dtype: string; data: ArrayLike<unknown> }> = {
  f16: { shape: [2, 2], dtype: "float16", data: [1.5, -2, 65504, 0.0999755859375] },
  f32: { shape: [3], dtype: "float32", data: new Float32Array([1.5, -2.25, Number.NaN]) },
  f64: { shape: [2, 1], dtype: "float64", data: new Float64Array([Math.PI, Number.NEGATIVE_INFINITY]) },
  i8: { shape: [3], dtype: "int8", data: new Int8Array([-128, 0, 127]) },
  i16: { shape: [2], dtype: "int16", data: new Int16Array([-32768, 32767]) },
  i32: { shape: [2], dtype: "int32", data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
  i64: { shape: [2], dtype: "int64", data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
  u8: { shape: [3], dtype: "uint8", data: new Uint8Array([0, 128, 255]) },
  u16: { shape: [1], dtype: "uint16", data: new Uint16Array([65535]) },
  u32: { shape: [1], dtype: "uint32", data: new Uint32Array([2 ** 32 - 1]) },
  u64: { shape: [2], dtype: "uint64", data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
  bool: { shape: [2, 2], dtype: "bool", data: [true, false, false, true] },
  c64: { shape: [2], dtype: "complex64", data: new Float32Array([1, -2, 3.5, 0]) },
  c128: { shape: [1], dtype: "complex128", data: new Float64Array([Math.E, -Math.PI]) },
};

/** Every PASSTHROUGH array came back with its dtype, shape and values. */
function assertPassthrough(got: Record<string, NDArray>, label: string): void {
  for (const [k, v] of Object.entries(PASSTHROUGH)) {
    assert.equal(got[k].dtype, v.dtype, `${k}${label}`);
    assert.deepEqual(got[k].shape, v.shape, `${k}${label}`);
    const want = v.dtype === "bool" ? Array.from(v.data as boolean[], Number) : Array.from(v.data);
    assert.deepEqual(Array.from(got[k].data as ArrayLike<unknown>), want, `${k}${label}`);
  }
}

describe("TesseractClient against tesseract-runtime (calculus)", { timeout: 600_000 }, () => {
  let served: ServedRuntime | undefined;
  let url: string;
  let client: TesseractClient;

  before(async () => {
    if (process.env.TESSERACT_CLIENT_TEST_URL) url = process.env.TESSERACT_CLIENT_TEST_URL;
    else {
      // json+base64 like a container served by tesseract-core; our client asks for it anyway
      served = await serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64" } });
      url = served.url;
    }
    client = new TesseractClient(url);
  });
  after(async () => {
    await client?.close();
    await served?.stop();
  });

  it("health, endpoints and schemas", async () => {
    assert.deepEqual(await client.health(), { status: "ok" });
    const eps = await client.availableEndpoints();
    for (const e of [
      "apply",
      "jacobian",
      "jacobian_vector_product",
      "vector_jacobian_product",
      "abstract_eval",
      "health",
    ]) {
      assert.ok(eps.includes(e), `${e} in ${eps}`);
    }
    const ins = await client.inputSchema();
    assert.deepEqual(Object.keys(ins.properties as object), ["a", "b", "s", "passthrough"]);
    assert.ok(((await client.outputSchema()).properties as Record<string, unknown>).norm);
  });

  it("every result equals tesseract-core's Python client on the same inputs", async () => {
    const tangent = { a: vec(N, rnd), s: 0.5 };
    const cotangent = { result: vec(N, rnd), norm: 2 };
    const ours = [
      await client.apply({ ...inputs, passthrough: PASSTHROUGH }),
      await client.jacobian(inputs, ["a", "b", "s"], ["result", "norm"]),
      await client.jacobianVectorProduct(inputs, ["a", "s"], ["result", "norm"], tangent),
      await client.vectorJacobianProduct(inputs, ["a", "b", "s"], ["result", "norm"], cotangent),
      await client.abstractEval({
        a,
        b,
        s: { shape: [], dtype: "float64" },
        passthrough: { q: PASSTHROUGH.c64 } as never,
      }),
    ];
    const pyInputs = {
      a: pyArray({ shape: [N], dtype: "float64", data: a }),
      b: pyArray({ shape: [N], dtype: "float64", data: b }),
      s,
    };
    const pyPassthrough = Object.fromEntries(Object.entries(PASSTHROUGH).map(([k, v]) => [k, pyArray(v)]));
    const theirs = await pythonCalls(url, [
      { endpoint: "apply", args: { inputs: { ...pyInputs, passthrough: pyPassthrough } } },
      {
        endpoint: "jacobian",
        args: { inputs: pyInputs, jac_inputs: ["a", "b", "s"], jac_outputs: ["result", "norm"] },
      },
      {
        endpoint: "jacobian_vector_product",
        args: {
          inputs: pyInputs,
          jvp_inputs: ["a", "s"],
          jvp_outputs: ["result", "norm"],
          tangent_vector: { a: pyArray({ shape: [N], dtype: "float64", data: tangent.a }), s: 0.5 },
        },
      },
      {
        endpoint: "vector_jacobian_product",
        args: {
          inputs: pyInputs,
          vjp_inputs: ["a", "b", "s"],
          vjp_outputs: ["result", "norm"],
          cotangent_vector: { result: pyArray({ shape: [N], dtype: "float64", data: cotangent.result }), norm: 2 },
        },
      },
      {
        endpoint: "abstract_eval",
        args: {
          abstract_inputs: {
            a: { shape: [N], dtype: "float64" },
            b: { shape: [N], dtype: "float64" },
            s: { shape: [], dtype: "float64" },
            passthrough: { q: { shape: [2], dtype: "complex64" } },
          },
        },
      },
    ]);
    const names = ["apply", "jacobian", "jvp", "vjp", "abstract_eval"];
    ours.forEach((r, i) => {
      assert.deepEqual(toPlainTree(r), theirs[i], `${names[i]} differs from the Python client`);
    });
  });

  it("every dtype round-trips with dtype, shape and values intact", async () => {
    for (const encoding of ["base64", "json"] as const) {
      const out = (await client.apply({ ...inputs, passthrough: PASSTHROUGH }, { encoding })) as {
        passthrough: Record<string, NDArray>;
      };
      assertPassthrough(out.passthrough, ` (${encoding})`);
    }
  });

  it("NaN, Infinity and big integers in plain values arrive as sent (Python's json literals)", async () => {
    const out = (await client.apply({
      a: [1, Number.NaN, Number.POSITIVE_INFINITY],
      b: [1, 1, 1],
      s: 2,
      passthrough: { big: [2n ** 62n + 3n], inf: [Number.NEGATIVE_INFINITY] },
    })) as { result: NDArray; norm: NDArray; passthrough: { big: NDArray; inf: NDArray } };
    const r = out.result.data as Float64Array;
    assert.equal(r[0], 2 + Math.sin(1));
    assert.ok(Number.isNaN(r[1]) && Number.isNaN(r[2]), `result ${[...r]}`);
    assert.equal(out.passthrough.big.dtype, "int64");
    assert.equal((out.passthrough.big.data as BigInt64Array)[0], 2n ** 62n + 3n);
    assert.equal((out.passthrough.inf.data as Float64Array)[0], Number.NEGATIVE_INFINITY);
  });

  it("JVP equals J·v and VJP equals vᵀ·J", async () => {
    const jac = await client.jacobian(inputs, ["a", "b", "s"], ["result", "norm"]);
    const t = { a: vec(N, rnd), b: vec(N, rnd), s: 0.3 };
    const jvp = await client.jacobianVectorProduct(inputs, ["a", "b", "s"], ["result", "norm"], {
      a: t.a,
      b: t.b,
      s: t.s,
    });
    // result: J_a (N×N)·ta + J_b·tb + J_s (N)·ts ; norm: J_a (N)·ta + J_b·tb + J_s ()·ts
    const Jra = jac.result.a.data as Float64Array;
    const Jrb = jac.result.b.data as Float64Array;
    const Jrs = jac.result.s.data as Float64Array;
    const expectResult = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let acc = Jrs[i] * t.s;
      for (let j = 0; j < N; j++) acc += Jra[i * N + j] * t.a[j] + Jrb[i * N + j] * t.b[j];
      expectResult[i] = acc;
    }
    close(jvp.result.data as Float64Array, expectResult);
    const Jna = jac.norm.a.data as Float64Array;
    const Jnb = jac.norm.b.data as Float64Array;
    let expectNorm = (jac.norm.s.data as Float64Array)[0] * t.s;
    for (let j = 0; j < N; j++) expectNorm += Jna[j] * t.a[j] + Jnb[j] * t.b[j];
    close(jvp.norm.data as Float64Array, [expectNorm]);

    const c = { result: vec(N, rnd), norm: -0.7 };
    const vjp = await client.vectorJacobianProduct(inputs, ["a", "b", "s"], ["result", "norm"], c);
    const va = new Float64Array(N);
    const vb = new Float64Array(N);
    let vs = (jac.norm.s.data as Float64Array)[0] * c.norm;
    for (let j = 0; j < N; j++) {
      let accA = Jna[j] * c.norm;
      let accB = Jnb[j] * c.norm;
      for (let i = 0; i < N; i++) {
        accA += c.result[i] * Jra[i * N + j];
        accB += c.result[i] * Jrb[i * N + j];
      }
      va[j] = accA;
      vb[j] = accB;
      vs += c.result[j] * Jrs[j];
    }
    close(vjp.a.data as Float64Array, va);
    close(vjp.b.data as Float64Array, vb);
    close(vjp.s.data as Float64Array, [vs]);
  });

  it("422 lists each invalid field with its reason", async () => {
    await assert.rejects(
      client.apply({ a: { shape: [2, 2], dtype: "float64", data: new Float64Array(4) }, b, zz: 1 }),
      (err: unknown) => {
        assert.ok(err instanceof TesseractValidationError);
        assert.equal(err.source, "server");
        const paths = err.issues.map((i) => i.path);
        assert.ok(paths.includes("inputs.a"), paths.join());
        assert.ok(paths.includes("inputs.zz"), paths.join());
        // (the runtime words a wrong rank in base64 as array_non_numeric; the path is what matters)
        assert.match(err.message, /inputs\.a: .*\[array_\w+\]/);
        return true;
      },
    );
    await assert.rejects(client.jacobian(inputs, ["passthrough"], ["result"]), /jac_inputs/);
  });

  it("validateInputs reports problems before sending", async () => {
    await assert.rejects(
      client.apply(
        { a: { shape: [2, 2], dtype: "complex64", data: new Float32Array(8) }, b, zz: 1 },
        { validateInputs: true },
      ),
      (err: unknown) => {
        assert.ok(err instanceof TesseractValidationError);
        assert.equal(err.source, "client");
        assert.match(err.message, /inputs\.a: dtype complex64 cannot be cast to float64/);
        assert.match(err.message, /inputs\.zz: unknown field/);
        return true;
      },
    );
    await assert.rejects(
      client.jacobian(inputs, ["passthrough"], ["result"], { validateInputs: true }),
      /jac_inputs\[0\]: "passthrough" is not a differentiable input/,
    );
    const ok = (await client.apply({ ...inputs, passthrough: PASSTHROUGH }, { validateInputs: true })) as {
      norm: NDArray;
    };
    assert.equal(ok.norm.dtype, "float64");
  });

  it("1,000 calls at concurrency 32 with 0 errors", async () => {
    const total = 1000;
    const concurrency = 32;
    let next = 0;
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          try {
            const out = (await client.apply(inputs)) as { norm: NDArray };
            if (out.norm.dtype !== "float64") errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const ms = performance.now() - t0;
    const rssMb = process.resourceUsage().maxRSS / 1024;
    process.stderr.write(`1000 calls @32: ${ms.toFixed(0)} ms, ${errors} errors, peak RSS ${rssMb.toFixed(0)} MB\n`);
    assert.equal(errors, 0);
  });
});

describe("TesseractClient errors from tesseract-runtime (minimal: apply only)", { timeout: 180_000 }, () => {
  let served: ServedRuntime;
  let client: TesseractClient;
  before(async () => {
    served = await serveRuntime({ apiPath: MINIMAL_API, env: { TESSERACT_DEBUG: "1" } });
    client = new TesseractClient(served.url);
  });
  after(async () => {
    await client?.close();
    await served?.stop();
  });

  it("works with the server's default output format", async () => {
    const out = (await client.apply({ x: 2 })) as { y: NDArray };
    assert.deepEqual(Array.from(out.y.data as Float64Array), [4]);
  });

  it("404: names the missing endpoint and the url", async () => {
    for (const call of [
      () => client.jacobian({ x: 1 }, ["x"], ["y"]),
      () => client.jacobianVectorProduct({ x: 1 }, ["x"], ["y"], { x: 1 }),
      () => client.vectorJacobianProduct({ x: 1 }, ["x"], ["y"], { y: 1 }),
      () => client.abstractEval({ x: { shape: [], dtype: "float64" } }),
    ]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof TesseractEndpointNotFoundError, String(err));
        assert.match(
          err.message,
          new RegExp(`Tesseract at ${served.url} does not implement the ${err.endpoint} endpoint`),
        );
        return true;
      });
    }
  });

  it("500 carries the server's traceback text", async () => {
    await assert.rejects(client.apply({ x: -1 }), (err: unknown) => {
      assert.ok(err instanceof TesseractServerError);
      assert.equal(err.status, 500);
      assert.match(err.message, /ValueError: x must be non-negative, got -1/);
      return true;
    });
  });
});

describe("TesseractClient against a runtime that compresses arrays (TESSERACT_COMPRESSION=lz4)", {
  timeout: 300_000,
}, () => {
  let served: ServedRuntime;
  let client: TesseractClient;
  before(async () => {
    served = await serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64", TESSERACT_COMPRESSION: "lz4" } });
    client = new TesseractClient(served.url);
  });
  after(async () => {
    await client?.close();
    await served?.stop();
  });

  it("the server really sends lz4 arrays", async () => {
    const res = await fetch(`${served.url}/apply`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json+base64" },
      body: JSON.stringify({ inputs: { a: [1, 2], b: [3, 4], s: 1 } }),
    });
    assert.match(await res.text(), /"compression":\s*"lz4"/);
  });

  it("every dtype and a streamed 2e6 float64 array decode to the values sent", async () => {
    const big = Float64Array.from({ length: 2_000_000 }, (_, i) => (i % 1000) / 7);
    const out = (await client.apply({
      ...inputs,
      passthrough: { ...PASSTHROUGH, big: { shape: [big.length], dtype: "float64", data: big } },
    })) as { result: NDArray; passthrough: Record<string, NDArray> };
    assertPassthrough(out.passthrough, " (lz4)");
    assert.ok(Buffer.from((out.passthrough.big.data as Float64Array).buffer).equals(Buffer.from(big.buffer)));
    // and the same numbers as from a server that does not compress
    const plain = await serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64" } });
    const plainClient = new TesseractClient(plain.url);
    try {
      const want = (await plainClient.apply(inputs)) as { result: NDArray };
      assert.deepEqual(Array.from(out.result.data as Float64Array), Array.from(want.result.data as Float64Array));
    } finally {
      await plainClient.close();
      await plain.stop();
    }
  });
});
