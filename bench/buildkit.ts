/**
 * BuildKit against the classic builder, in one run on the same engine: examples/tesseracts/vectoradd
 * (numpy) built by each `builder` three times, interleaved so that machine and network noise hit
 * both alike:
 *
 * | row | what |
 * |---|---|
 * | cold | `noCache` (no layer from the cache; BuildKit's cache mounts emptied first by `POST /build/prune`) |
 * | requirements change | a new requirement line (`six`): classic installs every requirement again (no pip cache in a layer), BuildKit's pip cache mount keeps the downloaded wheels |
 * | api edit | a comment added to `tesseract_api.py`: both re-run only the copy and the final check |
 *
 * The runtime base image is built fresh once before the timed builds (a `noCache` build in this
 * process would otherwise rebuild it inside the first one only) and held for the run.
 *
 *   source scripts/env.sh && npx tsx bench/buildkit.ts
 *
 * Prints a table and writes bench/results/buildkit.json. Removes its images, the runtime hold and
 * the BuildKit build cache records nothing uses at the end.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildTesseractImage, prepareBuild } from "../provider/build";
import { ensureRuntimeImage, holdRuntime, releaseRuntimeHold } from "../provider/build/runtime-image";
import { Progress } from "../provider/common/log";
import { DockerClient } from "../provider/docker";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../test/helpers/tesseract-image";
import { writeResult } from "./results";

const RUN = `buildkit-bench-${process.pid}`;
const HOLDER = `pulumi-tesseract-runtime-holder/buildkit-bench:${process.pid}`;
type Builder = "classic" | "buildkit";
const BUILDERS: Builder[] = ["classic", "buildkit"];
const SCENARIOS = ["cold", "requirementsChange", "apiEdit"] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The classic build stage's cache tags carry no run label: removed by name at the end. */
const cacheTags: string[] = [];

async function timedBuild(dir: string, builder: Builder, noCache: boolean): Promise<number> {
  const t0 = performance.now();
  const built = await buildTesseractImage(dir, {
    ...hostBuildOptions(RUN),
    tag: `${builder}-${RUN}`,
    builder,
    noCache,
    onLine: () => undefined,
  });
  if (built.cacheTag) cacheTags.push(built.cacheTag);
  return (performance.now() - t0) / 1000;
}

async function main() {
  process.env.PULUMI_TESSERACT_QUIET = "1";
  const docker = DockerClient.for();
  const tmp = mkdtempSync(path.join(tmpdir(), "pt-bench-bk-"));
  const dirs = Object.fromEntries(
    BUILDERS.map((b) => {
      const dir = path.join(tmp, b);
      cpSync(path.join(EXAMPLES, "vectoradd"), dir, { recursive: true });
      return [b, dir];
    }),
  ) as Record<Builder, string>;
  const times: Record<Builder, Partial<Record<Scenario, number>>> = { classic: {}, buildkit: {} };
  try {
    const prepared = prepareBuild({ srcDir: dirs.classic, ...hostBuildOptions(RUN) });
    if (!prepared.runtime) throw new Error("vectoradd has no shared runtime base image");
    const progress = new Progress("runtime", [], () => undefined);
    const opts = { networkMode: "host", onLine: () => undefined, progress };
    await ensureRuntimeImage(docker, prepared.runtime, { ...opts, noCache: true });
    await holdRuntime(docker, await ensureRuntimeImage(docker, prepared.runtime, opts), HOLDER);

    for (const scenario of SCENARIOS) {
      for (const builder of BUILDERS) {
        const dir = dirs[builder];
        if (scenario === "cold" && builder === "buildkit") await docker.pruneBuildCache(undefined, true);
        if (scenario === "requirementsChange") appendFileSync(path.join(dir, "tesseract_requirements.txt"), "six\n");
        if (scenario === "apiEdit") appendFileSync(path.join(dir, "tesseract_api.py"), "\n# edited by the bench\n");
        times[builder][scenario] = await timedBuild(dir, builder, scenario === "cold");
        console.error(`${scenario} ${builder}: ${times[builder][scenario]?.toFixed(1)} s`);
      }
    }
    const ratio = (s: Scenario) => (times.buildkit[s] ?? 0) / (times.classic[s] ?? 1);
    const result = {
      bench: "buildkit",
      example: "vectoradd",
      seconds: times,
      buildkitOverClassic: Object.fromEntries(SCENARIOS.map((s) => [s, ratio(s)])),
    };
    console.log("| vectoradd | classic s | BuildKit s | BuildKit / classic |\n|---|---|---|---|");
    for (const s of SCENARIOS)
      console.log(
        `| ${s} | ${times.classic[s]?.toFixed(1)} | ${times.buildkit[s]?.toFixed(1)} | ${ratio(s).toFixed(2)} |`,
      );
    writeResult("buildkit.json", result);
  } finally {
    await cleanupRun(docker, RUN);
    for (const t of cacheTags) await docker.removeImage(t).catch(() => undefined);
    await releaseRuntimeHold(docker, HOLDER).catch(() => undefined);
    await docker.pruneBuildCache(undefined, true).catch(() => undefined);
    await docker.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
