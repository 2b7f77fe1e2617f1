/**
 * Client benchmark: pulumi-tesseract's TesseractClient vs tesseract-core's Python client
 * (`Tesseract.from_url`, in a subprocess timing itself) against the same served calculus Tesseract
 * (tesseract-runtime without Docker, TESSERACT_OUTPUT_FORMAT=json+base64 as `Tesseract.from_image`
 * serves). Node and Python rounds alternate so machine noise hits both alike.
 *
 *   source scripts/env.sh && npx tsx bench/client.ts [--url http://127.0.0.1:8000 | --container]
 *
 * `--container` builds the calculus image with TesseractImage and serves it with TesseractService
 * (removing both at the end) instead of running `tesseract-runtime serve` on the host.
 *
 * Prints a table and writes bench/results/client.json. Env: BENCH_ROUNDS (5), BENCH_SMALL_CALLS
 * (100 per round), BENCH_BIG_SIZE (10,000,000), BENCH_BIG_ROUNDS (3).
 */
import path from "node:path";
import { decodeBase64ToBuffer, encodeBase64 } from "../provider/client/array-bytes";
import { TesseractClient } from "../provider/client/client";
import type { NDArray } from "../provider/client/ndarray";
import { serveRuntime } from "../test/helpers/serve-runtime";
import { median, PythonSide, serveAsContainer } from "./client-common";
import { freshMemoryMs, poolPoster, socketPoster } from "./floors";
import { writeResult } from "./results";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SMALL_CALLS = Number(process.env.BENCH_SMALL_CALLS ?? 100);
const BIG_SIZE = Number(process.env.BENCH_BIG_SIZE ?? 10_000_000);
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 3);
const CODEC_ROUNDS = 5;
const CONC_CALLS = 1000;
const CONCURRENCY = 32;
const CONC_ROUNDS = Number(process.env.BENCH_CONC_ROUNDS ?? 3);

/** A row's goals: ours/python (`ratio`), ours/floor (`floorRatio`), or an absolute time (`ms`). */
interface Goal {
  ratio?: number;
  floorRatio?: number;
  ms?: number;
}

const toNd = (a: Float64Array): NDArray => ({ shape: [a.length], dtype: "float64", data: a });
async function main() {
  const urlArg = process.argv.indexOf("--url");
  const served =
    urlArg > 0
      ? undefined
      : process.argv.includes("--container")
        ? await serveAsContainer(path.join(__dirname, "../examples/tesseracts/calculus"), "bench-client")
        : await serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64" } });
  const url = urlArg > 0 ? process.argv[urlArg + 1] : (served?.url as string);
  const client = new TesseractClient(url);
  const py = new PythonSide(url);
  try {
    await py.next(120_000); // ready
    const small = { a: new Float64Array([1, 2, 3]), b: new Float64Array([4, 5, 6]), s: 2 };
    for (let i = 0; i < 20; i++) await client.apply(small);

    const node = { small: [] as number[], big: [] as number[], codec: [] as number[], conc: [] as number[] };
    const python = { small: [] as number[], big: [] as number[], codec: [] as number[], conc: [] as number[] };
    // floors: the same request bytes through a bare undici Pool and over a bare socket (no encoding,
    // no decoding), fresh memory for the codec: what a client doing no work would measure
    const floor = {
      small: [] as number[],
      smallSocket: [] as number[],
      big: [] as number[],
      codec: [] as number[],
      conc: [] as number[],
    };
    // one bare undici Pool: what any undici client pays with no encoding and no decoding
    const barePool = poolPoster(url, CONCURRENCY);
    const JSON_HEADERS = { "content-type": "application/json", accept: "application/json+base64" };
    const barePost = (body: string | Buffer) => barePool.post(body);
    const smallBody = JSON.stringify({
      inputs: {
        a: { shape: [3], dtype: "float64", data: { buffer: encodeBase64(toNd(small.a)), encoding: "base64" } },
        b: { shape: [3], dtype: "float64", data: { buffer: encodeBase64(toNd(small.b)), encoding: "base64" } },
        s: 2,
      },
    });
    const rawApply = () => barePost(smallBody);
    for (let i = 0; i < 20; i++) await rawApply();
    const socket = await socketPoster(url, "/apply", Buffer.from(smallBody), JSON_HEADERS);
    for (let i = 0; i < 20; i++) await socket.post();

    // small apply round trips (ours, the bare-undici floor, Python; alternating)
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < SMALL_CALLS; i++) {
        const t0 = performance.now();
        await client.apply(small);
        node.small.push(performance.now() - t0);
      }
      for (let i = 0; i < SMALL_CALLS; i++) {
        const t0 = performance.now();
        await rawApply();
        floor.small.push(performance.now() - t0);
      }
      for (let i = 0; i < SMALL_CALLS; i++) {
        const t0 = performance.now();
        if ((await socket.post()) !== 200) throw new Error("socket floor: apply failed");
        floor.smallSocket.push(performance.now() - t0);
      }
      python.small.push(...(await py.run(`small ${SMALL_CALLS}`)).times_ms);
    }

    // CONC_CALLS small applies at CONCURRENCY, alternating ours / floor / Python, CONC_ROUNDS rounds
    const concurrently = async (fn: () => Promise<unknown>) => {
      let next = 0;
      let errors = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < CONC_CALLS) {
            next++;
            try {
              await fn();
            } catch {
              errors++;
            }
          }
        }),
      );
      return { ms: performance.now() - t0, errors };
    };
    let concErrors = 0;
    let pyConcErrors = 0;
    let pyConcRss = 0;
    for (let r = 0; r < CONC_ROUNDS; r++) {
      const ours = await concurrently(() => client.apply(small));
      node.conc.push(ours.ms);
      concErrors += ours.errors;
      floor.conc.push((await concurrently(rawApply)).ms);
      const pc = await py.run(`conc ${CONC_CALLS} ${CONCURRENCY}`);
      python.conc.push(pc.times_ms[0]);
      pyConcErrors += pc.errors ?? 0;
      pyConcRss = pc.peak_rss_mb;
    }
    socket.close();

    // big apply round trips (passthrough of BIG_SIZE float64), one warm-up each
    const big = new Float64Array(BIG_SIZE).map((_, i) => i);
    const payload = { a: [1], b: [1], passthrough: { x: big } };
    const bigCall = async () => {
      const t0 = performance.now();
      const r = (await client.apply(payload)) as { passthrough: { x: NDArray } };
      const ms = performance.now() - t0;
      if ((r.passthrough.x.data as Float64Array)[BIG_SIZE - 1] !== BIG_SIZE - 1)
        throw new Error("big round trip corrupted");
      return ms;
    };
    // its floor: the same request, base64 and JSON prebuilt, response drained but not decoded
    const bigBody = Buffer.from(
      `{"inputs":{"a":[1],"b":[1],"passthrough":{"x":{"shape":[${BIG_SIZE}],"dtype":"float64",` +
        `"data":{"buffer":"${encodeBase64(toNd(big))}","encoding":"base64"}}}}}`,
    );
    const bareBig = async () => {
      const t0 = performance.now();
      await barePost(bigBody);
      return performance.now() - t0;
    };
    await bigCall();
    await bareBig();
    await py.run(`big ${BIG_SIZE} 1`);
    for (let r = 0; r < BIG_ROUNDS; r++) {
      node.big.push(await bigCall());
      floor.big.push(await bareBig());
      python.big.push(...(await py.run(`big ${BIG_SIZE} 1`)).times_ms);
    }
    await barePool.close();

    // base64 encode + decode of BIG_SIZE float64
    const raw = new Float64Array(BIG_SIZE).map(() => Math.random() - 0.5);
    const nd: NDArray = { shape: [BIG_SIZE], dtype: "float64", data: raw };
    for (let r = 0; r < CODEC_ROUNDS; r++) {
      const t0 = performance.now();
      const back = new Float64Array(decodeBase64ToBuffer(encodeBase64(nd)));
      node.codec.push(performance.now() - t0);
      floor.codec.push(freshMemoryMs(Math.ceil((BIG_SIZE * 8) / 3) * 4) + freshMemoryMs(BIG_SIZE * 8));
      if (back[BIG_SIZE - 1] !== raw[BIG_SIZE - 1]) throw new Error("codec corrupted");
      python.codec.push(...(await py.run(`codec ${BIG_SIZE} 1`)).times_ms);
    }

    const nodeConc = { ms: median(node.conc), errors: concErrors, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
    const pyConc = { ms: median(python.conc), errors: pyConcErrors, peak_rss_mb: pyConcRss };

    // [name, ours, python, the do-nothing floor, goals: ours/python, ours/floor, or an absolute ms]
    const rows: [string, number, number, number, Goal][] = [
      [
        "small apply round trip (median ms/call)",
        median(node.small),
        median(python.small),
        median(floor.smallSocket),
        { ratio: 0.6 },
      ],
      [
        `${BIG_SIZE.toExponential(0)} float64 apply round trip (median ms)`,
        median(node.big),
        median(python.big),
        median(floor.big),
        { ratio: 0.5, floorRatio: 1.1 },
      ],
      [
        `base64 encode+decode ${BIG_SIZE.toExponential(0)} float64 (median ms)`,
        median(node.codec),
        median(python.codec),
        median(floor.codec),
        { ms: 60 },
      ],
      [
        `${CONC_CALLS} calls @ concurrency ${CONCURRENCY} (median total ms)`,
        nodeConc.ms,
        pyConc.ms,
        median(floor.conc),
        {},
      ],
    ];
    const verdict = (n: number, p: number, f: number, goal: Goal) => {
      const said: string[] = [];
      if (goal.ratio !== undefined) {
        if (n / p <= goal.ratio) said.push(`≤ ${goal.ratio}× python met`);
        else
          said.push(`≤ ${goal.ratio}× python NOT met${f / p > goal.ratio ? " (unreachable: floor above goal)" : ""}`);
      }
      if (goal.floorRatio !== undefined)
        said.push(
          `ours/floor ${(n / f).toFixed(2)} ≤ ${goal.floorRatio} ${n / f <= goal.floorRatio ? "met" : "NOT met"}`,
        );
      if (goal.ms !== undefined) {
        if (n <= goal.ms) said.push(`≤ ${goal.ms} ms met`);
        else said.push(`≤ ${goal.ms} ms NOT met${f > goal.ms ? " (unreachable: floor above goal)" : ""}`);
      }
      return said.join("; ");
    };
    const pad = (s: string, n: number) => s.padEnd(n);
    console.log(`\nTesseractClient vs tesseract-core Python client, ${url} (alternating rounds)\n`);
    console.log(
      `${pad("benchmark", 50)}${pad("node", 10)}${pad("python", 10)}${pad("ratio", 7)}${pad("floor", 10)}${pad("floor/py", 10)}goal`,
    );
    for (const [name, n, p, f, goal] of rows) {
      console.log(
        `${pad(name, 50)}${pad(n.toFixed(2), 10)}${pad(p.toFixed(2), 10)}${pad((n / p).toFixed(2), 7)}` +
          `${pad(f.toFixed(2), 10)}${pad((f / p).toFixed(2), 10)}${verdict(n, p, f, goal)}`,
      );
    }
    console.log(
      "\nfloor = the same work with no client at all: small and 10M, the prebuilt request bytes " +
        "(small: over a bare socket; 10M: through a bare undici Pool, response drained, not decoded); " +
        "codec, allocating and writing the two outputs' fresh memory; concurrency, a bare undici Pool. " +
        `Small through a bare undici Pool: ${median(floor.small).toFixed(2)} ms/call.`,
    );
    console.log(
      `concurrency: node ${nodeConc.errors} errors, peak RSS ${nodeConc.peak_rss_mb.toFixed(0)} MB (process, incl. the 10M phase); ` +
        `python ${pyConc.errors} errors, peak RSS ${pyConc.peak_rss_mb.toFixed(0)} MB`,
    );
    const result = {
      date: new Date().toISOString(),
      url,
      node_version: process.version,
      settings: { ROUNDS, SMALL_CALLS, BIG_SIZE, BIG_ROUNDS, CODEC_ROUNDS, CONC_CALLS, CONCURRENCY, CONC_ROUNDS },
      floor,
      rows: rows.map(([name, n, p, f, goal]) => ({
        name,
        node: n,
        python: p,
        ratio: n / p,
        floor: f,
        floor_ratio: f / p,
        ours_over_floor: n / f,
        goal: goal.ratio,
        goal_ours_over_floor: goal.floorRatio,
        goal_ms: goal.ms,
        verdict: verdict(n, p, f, goal),
      })),
      node: { ...node, concurrent: nodeConc },
      python: { ...python, concurrent: pyConc },
    };
    writeResult("client.json", result);
  } finally {
    py.close();
    await client.close();
    await served?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
