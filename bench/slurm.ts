// Benchmark: TesseractService on Slurm (the two-node test cluster of scripts/slurm.sh, everything
// through the login node over ssh). Rows: the provider's create → every replica healthy for the
// environment mode with a cold environment (built on the login node), the same warm (reused by
// content hash), the container mode (podman, the image loaded from a `docker save` archive on the
// shared file system), and `apply` throughput against the jobs' in-cluster URLs with 2 replicas vs
// 1 (calls spread over the replicas, as a caller on the cluster makes them). Ratios: warm/cold,
// container/warm environment, time per call 2 replicas / 1 replica.
// Run: npx tsx bench/slurm.ts   Writes a table to stdout and bench/results/slurm.json.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TesseractClient } from "../provider/client";
import * as impl from "../provider/resources/tesseract-service-impl";
import type { StoredServiceState } from "../provider/serve/serve-target";
import { ensureHelloImage } from "../test/helpers/service-fixture";
import { podmanJobOptions, removePodmanStorage, startSlurmCluster } from "../test/helpers/slurm";
import { writeResult } from "./results";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROOT = join(__dirname, "..");
const CALLS = Number(process.env.BENCH_SLURM_CALLS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_SLURM_CONCURRENCY ?? 6);
const secs = (ms: number) => Number((ms / 1000).toFixed(2));

async function main() {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  const cluster = startSlurmCluster();
  const env = cluster.env;
  const workDir = mkdtempSync("/tmp/pt-slurm-bench-");
  const login = {
    host: "127.0.0.1",
    port: Number(env.login.split(":").pop()),
    user: "root",
    privateKey: readFileSync(env.sshKey, "utf8"),
    knownHosts: readFileSync(env.knownHosts, "utf8"),
  };
  const base = { login, partition: env.partition, workDir, cpusPerTask: 1, startTimeout: 600 };
  const results: Record<string, unknown> = { calls: CALLS, concurrency: CONCURRENCY };
  const live: { id: string; outs: StoredServiceState }[] = [];

  /** The provider's check + create of a service; the time from create to every replica healthy. */
  async function up(name: string, raw: Record<string, unknown>) {
    const checked = await impl.check({}, { serviceName: name, ...raw });
    if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
    const t0 = performance.now();
    const { id, outs } = await impl.create(checked.inputs as Record<string, unknown>);
    live.push({ id, outs: outs as StoredServiceState });
    return { ms: performance.now() - t0, urls: (outs as { urls: string[] }).urls, id, outs };
  }
  async function down(id: string) {
    const i = live.findIndex((s) => s.id === id);
    await impl.remove(id, live[i].outs);
    live.splice(i, 1);
  }
  /** `CALLS` applies, `CONCURRENCY` in flight, spread round robin over the replicas' URLs. */
  async function throughput(urls: string[]) {
    const clients = urls.map((u) => new TesseractClient(u, { connections: CONCURRENCY }));
    try {
      const inputs = { a: [1, 2], b: [3, 4], s: 2 };
      for (let i = 0; i < 20; i++) await clients[i % clients.length].apply(inputs); // warm
      let next = 0;
      let errors = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let n = next++; n < CALLS; n = next++)
            await clients[n % clients.length].apply(inputs).catch(() => errors++);
        }),
      );
      const s = (performance.now() - t0) / 1000;
      return { callsPerS: Number((CALLS / s).toFixed(1)), msPerCall: Number(((s * 1000) / CALLS).toFixed(2)), errors };
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }

  try {
    const srcDir = join(ROOT, "examples/tesseracts/vectoradd");
    const cold = await up("cold", { slurm: { ...base, srcDir, nodes: ["node1"] } });
    results.environmentColdS = secs(cold.ms);
    results.replicas1 = await throughput(cold.urls);
    await down(cold.id);
    const warm = await up("warm", { slurm: { ...base, srcDir, nodes: ["node1"] } });
    results.environmentWarmS = secs(warm.ms);
    await down(warm.id);
    const two = await up("two", { slurm: { ...base, srcDir, replicas: 2, nodes: ["node1", "node2"] } });
    results.environmentWarmTwoReplicasS = secs(two.ms);
    results.replicas2 = await throughput(two.urls);
    await down(two.id);

    const archive = join(workDir, "hello.tar");
    let t0 = performance.now();
    execFileSync("docker", ["save", await ensureHelloImage(), "-o", archive], { timeout: 300_000 });
    results.dockerSaveS = secs(performance.now() - t0);
    const podman = await up("podman", {
      image: `docker-archive:${archive}`,
      slurm: { ...base, mode: "podman", nodes: ["node2"], ...podmanJobOptions(workDir) },
    });
    results.podmanS = secs(podman.ms);
    t0 = performance.now();
    await down(podman.id);
    results.podmanStopS = secs(performance.now() - t0);

    const r1 = results.replicas1 as { msPerCall: number };
    const r2 = results.replicas2 as { msPerCall: number };
    results.warmVsColdRatio = Number((warm.ms / cold.ms).toFixed(3));
    results.podmanVsWarmEnvironmentRatio = Number((podman.ms / warm.ms).toFixed(2));
    results.twoVsOneReplicasRatio = Number((r2.msPerCall / r1.msPerCall).toFixed(3));
  } finally {
    for (const s of [...live]) await impl.remove(s.id, s.outs).catch(() => undefined);
    removePodmanStorage(workDir);
    rmSync(workDir, { recursive: true, force: true });
    cluster.stop();
  }
  const r = results as Record<string, number> & Record<"replicas1" | "replicas2", Record<string, number>>;
  console.log("\nSlurm target (2 nodes on one 2-core machine)                 seconds   ratio");
  console.log(`environment mode, cold (built on the login node) → healthy  ${String(r.environmentColdS).padStart(7)}`);
  console.log(
    `environment mode, warm (reused by content hash) → healthy    ${String(r.environmentWarmS).padStart(7)}   ${r.warmVsColdRatio} of cold`,
  );
  console.log(
    `environment mode, warm, 2 replicas on 2 nodes → healthy      ${String(r.environmentWarmTwoReplicasS).padStart(7)}`,
  );
  console.log(
    `podman mode (image from a docker save archive) → healthy     ${String(r.podmanS).padStart(7)}   ${r.podmanVsWarmEnvironmentRatio}× warm environment (+ ${r.dockerSaveS} s docker save)`,
  );
  console.log(
    `apply, ${CONCURRENCY} in flight: 1 replica ${r.replicas1.callsPerS} calls/s, 2 replicas ${r.replicas2.callsPerS} calls/s; time per call 2/1: ${r.twoVsOneReplicasRatio}`,
  );
  writeResult("slurm.json", results);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
