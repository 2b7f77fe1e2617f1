// Benchmark: TesseractService create→healthy vs `tesseract serve` (tesseract-core CLI) of the same
// image, and 10 services in one `pulumi up` vs one. Run: npx tsx bench/service.ts
// Writes a table to stdout and bench/results/service.json.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { DockerClient } from "../provider/docker";
import { TesseractService } from "../provider/resources/tesseract-service";
import * as impl from "../provider/resources/tesseract-service-impl";
import { ensureHelloImage } from "../test/helpers/service-fixture";
import { writeResult } from "./results";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROOT = join(__dirname, "..");
const run = `svcbench-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const docker = DockerClient.for();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ours(image: string): Promise<number> {
  const checked = await impl.check({}, { serviceName: "bench", image, labels: LABEL });
  const t0 = performance.now();
  const { id, outs } = await impl.create(checked.inputs as Record<string, unknown>);
  const ms = performance.now() - t0;
  await impl.remove(id, outs as impl.ServiceOutputs);
  return ms;
}

function upstream(image: string): number {
  const cli = join(process.env.PULUMI_TESSERACT_VENV!, "bin", "tesseract");
  const t0 = performance.now();
  const out = execFileSync(cli, ["serve", image], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  const ms = performance.now() - t0;
  const name = (JSON.parse(out.slice(out.indexOf("{"))) as { container_name: string }).container_name;
  execFileSync("docker", ["rm", "-f", "-v", name], { stdio: "ignore" }); // upstream teardown leaks volumes
  return ms;
}

async function stackUp(count: number): Promise<{ upMs: number; destroyMs: number }> {
  const image = await ensureHelloImage(docker);
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: `${run}-${count}`,
      projectName: "pt-service-bench",
      program: async () => {
        const urls = [];
        for (let i = 0; i < count; i++) urls.push(new TesseractService(`b${i}`, { image, labels: LABEL }).url);
        return { urls };
      },
    },
    { workDir: ROOT },
  );
  try {
    const t0 = performance.now();
    await stack.up();
    const upMs = performance.now() - t0;
    const t1 = performance.now();
    await stack.destroy();
    return { upMs, destroyMs: performance.now() - t1 };
  } finally {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(stack.name).catch(() => undefined);
  }
}

async function main() {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    // type errors elsewhere still emit lib/
  }
  const image = await ensureHelloImage(docker);
  await ours(image); // warm-up: pools, version negotiation, page cache
  upstream(image);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    a.push(await ours(image));
    b.push(upstream(image));
  }
  const one = await stackUp(1);
  const ten = await stackUp(10);
  const serveRatio = median(a) / median(b);
  const upRatio = ten.upMs / one.upMs;
  const rows = [
    [
      "TesseractService create→healthy (median)",
      `${median(a).toFixed(0)} ms`,
      `${ROUNDS} rounds: ${a.map((x) => x.toFixed(0)).join(", ")}`,
    ],
    [
      "tesseract serve (CLI, median)",
      `${median(b).toFixed(0)} ms`,
      `${ROUNDS} rounds: ${b.map((x) => x.toFixed(0)).join(", ")}`,
    ],
    ["ratio ours / upstream", serveRatio.toFixed(2), "goal ≤ 1.1"],
    ["pulumi up, 1 service", `${one.upMs.toFixed(0)} ms`, `destroy ${one.destroyMs.toFixed(0)} ms`],
    ["pulumi up, 10 services", `${ten.upMs.toFixed(0)} ms`, `destroy ${ten.destroyMs.toFixed(0)} ms`],
    ["ratio 10 / 1", upRatio.toFixed(2), "goal ≤ 3"],
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2]}`);
  writeResult("service.json", {
    date: new Date().toISOString(),
    image,
    rounds: ROUNDS,
    createHealthyMs: a,
    tesseractServeMs: b,
    serveRatio,
    up1Ms: one.upMs,
    up10Ms: ten.upMs,
    upRatio,
    destroy1Ms: one.destroyMs,
    destroy10Ms: ten.destroyMs,
    goals: { serveRatio: 1.1, upRatio: 3 },
  });
  for (const c of await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeContainer(c.Id);
  await docker.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
