/**
 * Large arrays: TesseractClient vs tesseract-core's Python client vs no client at all, on
 * tesseract-core's vectoradd shape (bench/tesseracts/vectoradd32: two float32 inputs of 1e7
 * elements, one output), against one served Tesseract whose input and output folders this process
 * can read:
 *
 * - base64 both ways: this client, the Python client (`Tesseract.from_url`), and the floor (the
 *   prebuilt request bytes through a bare undici Pool, the response drained, not decoded);
 * - binref both ways (this client with `inputPath`/`outputPath`: arrays written to and read from
 *   `.bin` files, no base64 anywhere), against the Python client's base64 on the same service (it
 *   cannot do binref from a url) and against its own floor (a prebuilt request naming `.bin` files
 *   written once, the small response drained; nothing written or read per call).
 *
 *   source scripts/env.sh && npx tsx bench/client-large.ts [--host]
 *
 * By default the Tesseract is built with TesseractImage and served as a container by
 * TesseractService (both folders mounted), as the issue's measurement did, and both are removed at
 * the end; `--host` serves it with `tesseract-runtime serve` on the host instead. Rounds alternate so machine noise hits every side alike. Env: BENCH_LARGE_SIZE (1e7),
 * BENCH_LARGE_ROUNDS (5). Writes bench/results/client-large.json (container) or
 * client-large-host.json (`--host`).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeBase64 } from "../provider/client/array-bytes";
import { TesseractClient } from "../provider/client/client";
import type { NDArray } from "../provider/client/ndarray";
import { serveRuntime } from "../test/helpers/serve-runtime";
import { median, PythonSide, type Served, serveAsContainer } from "./client-common";
import { poolPoster } from "./floors";
import { writeResult } from "./results";

const SIZE = Number(process.env.BENCH_LARGE_SIZE ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_LARGE_ROUNDS ?? 5);
const SRC = path.join(__dirname, "tesseracts/vectoradd32");

/** The Tesseract on the host, reading `inDir` and writing `outDir`. */
async function serveOnHost(inDir: string, outDir: string): Promise<Served> {
  return serveRuntime({
    apiPath: path.join(SRC, "tesseract_api.py"),
    env: { TESSERACT_OUTPUT_FORMAT: "json+base64", TESSERACT_INPUT_PATH: inDir, TESSERACT_OUTPUT_PATH: outDir },
  });
}

const f32 = (a: Float32Array): NDArray => ({ shape: [a.length], dtype: "float32", data: a });

async function main() {
  const inDir = mkdtempSync(path.join(tmpdir(), "pt-bench-in-"));
  const outDir = mkdtempSync(path.join(tmpdir(), "pt-bench-out-"));
  const container = !process.argv.includes("--host");
  const served = container
    ? await serveAsContainer(SRC, "bench-large", { inputPath: inDir, outputPath: outDir })
    : await serveOnHost(inDir, outDir);
  const base64Client = new TesseractClient(served.url);
  const binrefClient = new TesseractClient(served.url, { inputPath: inDir, outputPath: outDir });
  const py = new PythonSide(served.url, ["--no-warmup"]);
  const pool = poolPoster(served.url, 2);
  try {
    await py.next(120_000);
    const a = Float32Array.from({ length: SIZE }, (_, i) => i);
    const b = new Float32Array(SIZE).fill(1);
    const inputs = { a, b, s: 2 };
    const want = Math.fround(2 * a[SIZE - 1] + 1);
    const check = (out: unknown) => {
      const r = (out as { result: NDArray }).result.data as Float32Array;
      if (r.length !== SIZE || r[SIZE - 1] !== want) throw new Error("vectoradd32: wrong result");
    };
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const bare = (body: Buffer, accept: string) => () => pool.post(body, accept);
    const base64Body = Buffer.from(
      JSON.stringify({
        inputs: {
          a: { shape: [SIZE], dtype: "float32", data: { buffer: encodeBase64(f32(a)), encoding: "base64" } },
          b: { shape: [SIZE], dtype: "float32", data: { buffer: encodeBase64(f32(b)), encoding: "base64" } },
          s: 2,
        },
      }),
    );
    // the binref floor names two files written once, outside the timing
    writeFileSync(path.join(inDir, "floor-a.bin"), Buffer.from(a.buffer));
    writeFileSync(path.join(inDir, "floor-b.bin"), Buffer.from(b.buffer));
    const binrefBody = Buffer.from(
      JSON.stringify({
        inputs: {
          a: { shape: [SIZE], dtype: "float32", data: { buffer: "floor-a.bin:0", encoding: "binref" } },
          b: { shape: [SIZE], dtype: "float32", data: { buffer: "floor-b.bin:0", encoding: "binref" } },
          s: 2,
        },
      }),
    );
    // the base64 work alone, in this process with no I/O: both inputs encoded, one output-sized
    // text decoded into fresh memory. floor + this is the least any base64 client in Node can take.
    const outputText = Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
    const codec = async () => {
      const ea = Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
      const eb = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
      const out = Buffer.from(outputText, "base64");
      if (ea.length !== eb.length || out.length !== a.byteLength) throw new Error("codec: wrong sizes");
    };
    const sides = {
      base64: async () => check(await base64Client.apply(inputs)),
      base64Floor: bare(base64Body, "application/json+base64"),
      codec,
      binref: async () => check(await binrefClient.apply(inputs)),
      binrefFloor: bare(binrefBody, "application/json+binref"),
    };
    const times: Record<keyof typeof sides | "python", number[]> = {
      base64: [],
      base64Floor: [],
      codec: [],
      binref: [],
      binrefFloor: [],
      python: [],
    };
    for (const fn of Object.values(sides)) await fn(); // warm-up
    await py.run(`vadd ${SIZE} 1`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of Object.entries(sides)) times[name as keyof typeof sides].push(await timed(fn));
      times.python.push(...(await py.run(`vadd ${SIZE} 1`)).times_ms);
      // each call leaves its run_<id>/ folder (logs, binref outputs) in the output folder
      for (const e of readdirSync(outDir))
        if (e.startsWith("run_")) rmSync(path.join(outDir, e), { recursive: true, force: true });
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
      keyof typeof times,
      number
    >;
    const label = `two ${SIZE.toExponential(0)} float32 inputs (vectoradd32)`;
    // `serial_codec_ratio`: floor + the base64 work alone, over the floor. Not a bound (a streaming
    // client overlaps some of that work with the server's), but what the work costs here.
    const measured: { name: string; ours: number; other: number; goal?: number; serial_codec_ratio?: number }[] = [
      {
        name: `${label}, base64: ours / floor`,
        ours: m.base64,
        other: m.base64Floor,
        goal: 1.1,
        serial_codec_ratio: (m.base64Floor + m.codec) / m.base64Floor,
      },
      { name: `${label}, base64: ours / python`, ours: m.base64, other: m.python },
      { name: `${label}, binref: ours / python base64`, ours: m.binref, other: m.python, goal: 0.4 },
      { name: `${label}, binref: ours / binref floor`, ours: m.binref, other: m.binrefFloor },
    ];
    const rows = measured.map((r) => ({
      ...r,
      ratio: r.ours / r.other,
      verdict:
        r.goal === undefined
          ? ""
          : r.ours / r.other <= r.goal
            ? `≤ ${r.goal}× met`
            : `≤ ${r.goal}× NOT met${r.serial_codec_ratio === undefined ? "" : ` (floor + base64 work done serially: ${r.serial_codec_ratio.toFixed(2)})`}`,
    }));
    console.log(`\nlarge arrays, ${served.url} (median ms of ${ROUNDS} alternating rounds)\n`);
    console.log(
      Object.entries(m)
        .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
        .join(", "),
    );
    for (const r of rows)
      console.log(
        `${r.name.padEnd(62)}${r.ours.toFixed(0).padStart(7)}${r.other.toFixed(0).padStart(7)}${r.ratio.toFixed(2).padStart(7)}  ${r.verdict}`,
      );
    writeResult(container ? "client-large.json" : "client-large-host.json", {
      date: new Date().toISOString(),
      url: served.url,
      container,
      node_version: process.version,
      settings: { SIZE, ROUNDS },
      medians_ms: m,
      times_ms: times,
      rows,
    });
  } finally {
    py.close();
    await pool.close();
    await base64Client.close();
    await binrefClient.close();
    await served.stop();
    rmSync(inDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
