/**
 * Client benchmark: pulumi-tesseract's TesseractClient vs tesseract-core's Python client
 * (`Tesseract.from_url`, in a subprocess timing itself) against the same served calculus Tesseract
 * (tesseract-runtime without Docker, TESSERACT_OUTPUT_FORMAT=json+base64 as `Tesseract.from_image`
 * serves). Node and Python rounds alternate so machine noise hits both alike.
 *
 *   source scripts/env.sh && npx tsx bench/client.ts [--url http://127.0.0.1:8000]
 *
 * Prints a table and writes bench/results/client.json. Env: BENCH_ROUNDS (5), BENCH_SMALL_CALLS
 * (100 per round), BENCH_BIG_SIZE (10,000,000), BENCH_BIG_ROUNDS (3).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { TesseractClient } from "../provider/client/client";
import { decodeBase64ToBuffer, encodeBase64, type NDArray } from "../provider/client/codec";
import { serveRuntime, venv } from "../test/helpers/serve-runtime";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SMALL_CALLS = Number(process.env.BENCH_SMALL_CALLS ?? 100);
const BIG_SIZE = Number(process.env.BENCH_BIG_SIZE ?? 10_000_000);
const BIG_ROUNDS = Number(process.env.BENCH_BIG_ROUNDS ?? 3);
const CODEC_ROUNDS = 5;
const CONC_CALLS = 1000;
const CONCURRENCY = 32;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The Python client in a subprocess, driven one command per line. */
class PythonSide {
  private child: ChildProcessWithoutNullStreams;
  private lines: AsyncIterator<string>;
  private stderr = "";
  constructor(url: string) {
    this.child = spawn(path.join(venv() as string, "bin/python"), [path.join(__dirname, "client_py.py"), url]);
    this.child.stderr.on("data", (b) => {
      this.stderr = (this.stderr + b).slice(-4000);
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  async next(timeoutMs = 600_000): Promise<{ times_ms: number[]; errors?: number; peak_rss_mb: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`python side timed out: ${this.stderr}`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.lines.next(), timeout]);
      if (r.done) throw new Error(`python side exited: ${this.stderr}`);
      return JSON.parse(r.value);
    } finally {
      clearTimeout(timer);
    }
  }
  run(cmd: string) {
    this.child.stdin.write(`${cmd}\n`);
    return this.next();
  }
  close() {
    this.child.stdin.end("quit\n");
    setTimeout(() => this.child.kill("SIGKILL"), 5000).unref();
  }
}

async function main() {
  const urlArg = process.argv.indexOf("--url");
  const served = urlArg > 0 ? undefined : await serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64" } });
  const url = urlArg > 0 ? process.argv[urlArg + 1] : (served?.url as string);
  const client = new TesseractClient(url);
  const py = new PythonSide(url);
  try {
    await py.next(120_000); // ready
    const small = { a: new Float64Array([1, 2, 3]), b: new Float64Array([4, 5, 6]), s: 2 };
    for (let i = 0; i < 20; i++) await client.apply(small);

    const node = { small: [] as number[], big: [] as number[], codec: [] as number[] };
    const python = { small: [] as number[], big: [] as number[], codec: [] as number[] };

    // small apply round trips
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < SMALL_CALLS; i++) {
        const t0 = performance.now();
        await client.apply(small);
        node.small.push(performance.now() - t0);
      }
      python.small.push(...(await py.run(`small ${SMALL_CALLS}`)).times_ms);
    }

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
    await bigCall();
    await py.run(`big ${BIG_SIZE} 1`);
    for (let r = 0; r < BIG_ROUNDS; r++) {
      node.big.push(await bigCall());
      python.big.push(...(await py.run(`big ${BIG_SIZE} 1`)).times_ms);
    }

    // base64 encode + decode of BIG_SIZE float64
    const raw = new Float64Array(BIG_SIZE).map(() => Math.random() - 0.5);
    const nd: NDArray = { shape: [BIG_SIZE], dtype: "float64", data: raw };
    for (let r = 0; r < CODEC_ROUNDS; r++) {
      const t0 = performance.now();
      const back = new Float64Array(decodeBase64ToBuffer(encodeBase64(nd)));
      node.codec.push(performance.now() - t0);
      if (back[BIG_SIZE - 1] !== raw[BIG_SIZE - 1]) throw new Error("codec corrupted");
      python.codec.push(...(await py.run(`codec ${BIG_SIZE} 1`)).times_ms);
    }

    // 1,000 calls at concurrency 32
    let next = 0;
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < CONC_CALLS) {
          next++;
          try {
            await client.apply(small);
          } catch {
            errors++;
          }
        }
      }),
    );
    const nodeConc = { ms: performance.now() - t0, errors, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
    const pc = await py.run(`conc ${CONC_CALLS} ${CONCURRENCY}`);
    const pyConc = { ms: pc.times_ms[0], errors: pc.errors ?? -1, peak_rss_mb: pc.peak_rss_mb };

    const rows: [string, number, number, number | undefined][] = [
      ["small apply round trip (median ms/call)", median(node.small), median(python.small), 0.6],
      [`${BIG_SIZE.toExponential(0)} float64 apply round trip (median ms)`, median(node.big), median(python.big), 0.5],
      [
        `base64 encode+decode ${BIG_SIZE.toExponential(0)} float64 (median ms)`,
        median(node.codec),
        median(python.codec),
        undefined,
      ],
      [`${CONC_CALLS} calls @ concurrency ${CONCURRENCY} (total ms)`, nodeConc.ms, pyConc.ms, undefined],
    ];
    const pad = (s: string, n: number) => s.padEnd(n);
    console.log(`\nTesseractClient vs tesseract-core Python client, ${url} (alternating rounds)\n`);
    console.log(`${pad("benchmark", 50)}${pad("node", 11)}${pad("python", 11)}${pad("ratio", 8)}goal`);
    for (const [name, n, p, goal] of rows) {
      const ratio = n / p;
      const verdict = goal ? `≤ ${goal}× ${ratio <= goal ? "met" : "NOT met"}` : "";
      console.log(
        `${pad(name, 50)}${pad(n.toFixed(2), 11)}${pad(p.toFixed(2), 11)}${pad(ratio.toFixed(2), 8)}${verdict}`,
      );
    }
    const codecMedian = median(node.codec);
    console.log(`\ncodec goal ≤ 60 ms: node ${codecMedian.toFixed(1)} ms (${codecMedian <= 60 ? "met" : "NOT met"})`);
    console.log(
      `concurrency: node ${nodeConc.errors} errors, peak RSS ${nodeConc.peak_rss_mb.toFixed(0)} MB (process, incl. the 10M phase); ` +
        `python ${pyConc.errors} errors, peak RSS ${pyConc.peak_rss_mb.toFixed(0)} MB`,
    );
    const result = {
      date: new Date().toISOString(),
      url,
      node_version: process.version,
      settings: { ROUNDS, SMALL_CALLS, BIG_SIZE, BIG_ROUNDS, CODEC_ROUNDS, CONC_CALLS, CONCURRENCY },
      rows: rows.map(([name, n, p, goal]) => ({ name, node: n, python: p, ratio: n / p, goal })),
      node: { ...node, concurrent: nodeConc },
      python: { ...python, concurrent: pyConc },
    };
    mkdirSync(path.join(__dirname, "results"), { recursive: true });
    writeFileSync(path.join(__dirname, "results/client.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log("\nwrote bench/results/client.json");
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
