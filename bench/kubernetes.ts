// Benchmark: TesseractService on Kubernetes (the test cluster of scripts/kubernetes.sh, pulling
// from its plain-HTTP registry). Rows: time from create to every replica ready, for 1 and 3
// replicas, and `apply` throughput through the Service (port-forward spread over the ready pods)
// with 3 replicas vs 1, as a ratio of time per call (below 1: the replicas share the load).
// Run: npx tsx bench/kubernetes.ts   Writes a table to stdout and bench/results/kubernetes.json.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pushImage } from "../provider/build/push";
import { TesseractClient } from "../provider/client";
import { Progress } from "../provider/common/log";
import { DockerClient } from "../provider/docker";
import { buildTesseractImage, removeTesseractImage } from "../provider/resources/tesseract-image-impl";
import * as impl from "../provider/resources/tesseract-service-impl";
import { openServiceForward } from "../provider/serve/kubernetes/forward";
import { kubectl, startTestInfra } from "../test/helpers/kubernetes";
import { hostBuildOptions } from "../test/helpers/tesseract-image";
import { writeResult } from "./results";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROOT = join(__dirname, "..");
const run = `k8sbench-${process.pid}`;
const namespace = `pt-bench-${process.pid}`;
const CALLS = Number(process.env.BENCH_K8S_CALLS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_K8S_CONCURRENCY ?? 6);
const docker = DockerClient.for();

async function main() {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  const infra = startTestInfra("cluster");
  const env = infra.env;
  const kubeconfig = readFileSync(env.kubeconfig, "utf8");
  kubectl(env, ["create", "namespace", namespace]);
  const built = await buildTesseractImage(join(ROOT, "examples/tesseracts/hello"), {
    ...hostBuildOptions(run),
    tag: run,
    onLine: () => {},
  });
  const results: Record<string, unknown> = { calls: CALLS, concurrency: CONCURRENCY };
  try {
    const { repoDigest } = await pushImage(
      docker,
      built.imageId,
      { registry: env.registryHttp, repository: `pt-bench/hello-${process.pid}` },
      "bench",
      new Progress("bench", []),
    );
    const perCall: Record<number, number> = {};
    for (const replicas of [1, 3]) {
      const checked = await impl.check(
        {},
        { serviceName: `bench${replicas}`, image: repoDigest, replicas, kubernetes: { kubeconfig, namespace } },
      );
      const t0 = performance.now();
      const { id, outs } = await impl.create(checked.inputs as Record<string, unknown>);
      const readyS = (performance.now() - t0) / 1000;
      const o = outs as { service: string };
      const fwd = await openServiceForward({ kubeconfig, namespace, service: o.service, targetPort: 8000 });
      const client = new TesseractClient(fwd.url, { connections: CONCURRENCY });
      try {
        for (let i = 0; i < 20; i++) await client.apply({ name: "warm" }); // connections and imports warm
        let next = 0;
        let errors = 0;
        const t1 = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next++ < CALLS) await client.apply({ name: "bench" }).catch(() => errors++);
          }),
        );
        const s = (performance.now() - t1) / 1000;
        perCall[replicas] = (s * 1000) / CALLS;
        results[`replicas${replicas}`] = {
          upToReadyS: Number(readyS.toFixed(2)),
          callsPerS: Number((CALLS / s).toFixed(1)),
          msPerCall: Number(perCall[replicas].toFixed(2)),
          errors,
          connectionsPerPod: Object.fromEntries(fwd.connections),
        };
      } finally {
        await client.close();
        await fwd.close();
        await impl.remove(id, outs as impl.ServiceOutputs);
      }
    }
    results.threeVsOneReplicasRatio = Number((perCall[3] / perCall[1]).toFixed(3));
  } finally {
    kubectl(env, ["delete", "namespace", namespace, "--wait=true", "--timeout=120s"], 150_000);
    await removeTesseractImage(built).catch(() => undefined);
    for (const img of await docker.listImages())
      for (const t of img.RepoTags ?? []) if (t.includes(`pt-bench/hello-${process.pid}`)) await docker.removeImage(t);
    await docker.close();
    infra.stop();
  }
  console.log("\nKubernetes target (single node, 2 cores)        1 replica   3 replicas");
  const r1 = results.replicas1 as Record<string, number>;
  const r3 = results.replicas3 as Record<string, number>;
  console.log(
    `create → all replicas ready (s)                  ${String(r1.upToReadyS).padStart(9)}   ${String(r3.upToReadyS).padStart(10)}`,
  );
  console.log(
    `apply through the Service, calls/s (${CONCURRENCY} in flight) ${String(r1.callsPerS).padStart(9)}   ${String(r3.callsPerS).padStart(10)}`,
  );
  console.log(`time per call, 3 replicas / 1 replica: ${results.threeVsOneReplicasRatio}`);
  writeResult("kubernetes.json", results);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
