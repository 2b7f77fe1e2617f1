/**
 * Faults of a served Tesseract, seen from the calling side (the TesseractClient used by the
 * package's functions), against the real tesseract-core runtime:
 * - apply hangs: the client's timeout is honoured, the server keeps answering other calls;
 * - apply crashes the server mid-request: a TesseractConnectionError naming url and endpoint,
 *   quickly, and nothing hangs;
 *   (a hung apply blocks a one-worker Tesseract until it returns: the runtime calls apply on its
 *   event loop; the test records that and checks the service answers again afterwards);
 * - apply raises: HTTP 500 whose body has no traceback with debug off, and has it with debug on;
 * - load: 1,000 apply calls at concurrency 32, 0 errors, calling process memory flat.
 * When TesseractImage/TesseractService exist, the load and 500 checks also run against a served
 * container (see service-faults.test.ts); this file needs no Docker.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  TesseractClient,
  TesseractConnectionError,
  TesseractServerError,
  TesseractTimeoutError,
} from "../../provider/client";
import { loadTest } from "../helpers/faults/load";
import { Report } from "../helpers/faults/report";
import { CALCULUS_API, type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";

const report = new Report("tesseract-calls");
const FAULTY_API = path.join(__dirname, "../helpers/fixtures/faulty/tesseract_api.py");

describe("a Tesseract whose apply hangs", () => {
  let rt: ServedRuntime;
  before(async () => {
    rt = await serveRuntime({ apiPath: FAULTY_API });
  });
  after(async () => {
    await rt?.stop();
  });

  test("the client's timeout is honoured and the service answers again afterwards", async () => {
    await report.fault("apply hangs (client timeout 1.5 s)", async () => {
      const client = new TesseractClient(rt.url, { timeoutMs: 1500 });
      try {
        const t0 = Date.now();
        await assert.rejects(client.apply({ mode: "hang", seconds: 5 }), (err: unknown) => {
          assert.ok(err instanceof TesseractTimeoutError, `expected TesseractTimeoutError, got ${err}`);
          assert.match(err.message, /apply/);
          assert.ok(err.message.includes(rt.url), err.message);
          return true;
        });
        const took = Date.now() - t0;
        assert.ok(took >= 1400 && took < 5000, `timeout fired after ${took} ms`);
        // The runtime runs apply on its event loop: with one worker, a hung apply blocks every
        // other request until it returns (observed with tesseract-core 1.x). Once it returns,
        // the service answers again; the client recovered its pool.
        const recovered = Date.now() + 20_000;
        let healthy = false;
        while (!healthy && Date.now() < recovered) {
          healthy = await client.health({ timeoutMs: 2000 }).then(
            () => true,
            () => false,
          );
        }
        assert.ok(healthy, "the service did not answer /health after the hung apply returned");
        const ok = await client.apply({ mode: "ok", x: 21 }, { timeoutMs: 10_000 });
        assert.equal(ok.y, 42);
      } finally {
        await client.close();
      }
    });
  });
});

describe("a Tesseract that crashes mid-request", () => {
  let rt: ServedRuntime;
  before(async () => {
    rt = await serveRuntime({ apiPath: FAULTY_API });
  });
  after(async () => {
    await rt?.stop();
  });

  test("the call fails fast with a connection error naming url and endpoint", async () => {
    await report.fault("apply crashes the server (os._exit)", async () => {
      const client = new TesseractClient(rt.url);
      try {
        assert.equal((await client.apply({ x: 1 })).y, 2);
        const t0 = Date.now();
        await assert.rejects(client.apply({ mode: "crash" }), (err: unknown) => {
          assert.ok(err instanceof TesseractConnectionError, `expected TesseractConnectionError, got ${err}`);
          assert.ok(err.message.includes(rt.url), err.message);
          assert.equal((err as TesseractConnectionError).endpoint, "apply");
          return true;
        });
        assert.ok(Date.now() - t0 < 10_000, "the crash was not reported within 10 s");
        // Nothing listens any more: the next call is refused, not hung.
        const t1 = Date.now();
        await assert.rejects(client.apply({ x: 1 }), TesseractConnectionError);
        assert.ok(Date.now() - t1 < 10_000);
      } finally {
        await client.close();
      }
    });
  });
});

describe("tracebacks only in debug", () => {
  for (const debug of [false, true]) {
    test(`a raising apply with debug ${debug ? "on" : "off"}`, async () => {
      const rt = await serveRuntime({ apiPath: FAULTY_API, env: { TESSERACT_DEBUG: debug ? "1" : "0" } });
      const client = new TesseractClient(rt.url);
      try {
        const err = await client.apply({ mode: "raise", marker: "pt-marker-7f3a" }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof TesseractServerError, `expected TesseractServerError, got ${err}`);
        assert.equal(err.status, 500);
        if (debug) {
          assert.match(err.body, /Traceback|RuntimeError/, "debug on: the 500 body carries the traceback");
          assert.match(err.body, /pt-marker-7f3a/);
        } else {
          assert.doesNotMatch(err.body, /Traceback|pt-marker-7f3a|tesseract_api\.py/, `debug off leaks: ${err.body}`);
          assert.match(err.message, /TESSERACT_DEBUG=1/, "the message says how to get the traceback");
        }
        report.note(`500 body, debug ${debug ? "on" : "off"}: ${err.body.length} bytes, traceback ${debug}`);
      } finally {
        await client.close();
        await rt.stop();
      }
    });
  }
});

describe("load: 1,000 apply calls at concurrency 32 (runtime without Docker)", () => {
  let rt: ServedRuntime;
  before(async () => {
    rt = await serveRuntime({ apiPath: CALCULUS_API });
  });
  after(async () => {
    await rt?.stop();
  });

  test("0 errors, results right, memory flat", async () => {
    const client = new TesseractClient(rt.url, { connections: 32, timeoutMs: 60_000 });
    try {
      // Warm-up so pools and codecs are allocated before the baseline.
      await client.apply({ a: [1, 2], b: [3, 4], s: 1 });
      const half = await loadTest(
        async (i) => {
          const out = await client.apply({ a: [i, 1, 2], b: [1, 1, 1], s: 2 });
          const r = out.result as { data: Float64Array } | Float64Array;
          const first = r instanceof Float64Array ? r[0] : r.data[0];
          const want = 2 * i + Math.sin(i);
          if (Math.abs(first - want) > 1e-9) throw new Error(`call ${i}: result[0]=${first}, want ${want}`);
        },
        1000,
        32,
      );
      report.metric("runtime.load.calls", 1000);
      report.metric("runtime.load.errors", half.errors.length);
      report.metric("runtime.load.seconds", half.seconds);
      report.metric("runtime.load.rss_start_mb", half.startRssMb);
      report.metric("runtime.load.rss_peak_mb", half.peakRssMb);
      report.metric("runtime.load.rss_end_mb", half.endRssMb);
      assert.deepEqual(half.errors, []);
      // Flat: the peak stays within 150 MB of the start (payloads are tiny; a leak of 1,000
      // responses or sockets would show here), and is bounded in absolute terms.
      assert.ok(half.peakRssMb - half.startRssMb < 150, `RSS grew ${half.startRssMb} → ${half.peakRssMb} MB`);
    } finally {
      await client.close();
    }
  });
});
