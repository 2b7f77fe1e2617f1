/**
 * Cold build of examples/tesseracts/vectoradd with each build-stage installer, side by side in one
 * run on the same engine: `installer: "pip"` against `installer: "uv"` (`pip install uv`, then
 * `uv pip install`, as upstream's image does). Both build with `noCache` (no layer from the cache)
 * and uv with `--no-cache`, so each downloads and installs everything. Goal: uv ≤ 0.5 × pip.
 *
 *   source scripts/env.sh && npx tsx bench/build-installer.ts
 *
 * Prints a table and writes bench/results/build-installer.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildTesseractImage } from "../provider/build";
import { DockerClient } from "../provider/docker";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../test/helpers/tesseract-image";

const RUN = `installer-bench-${process.pid}`;
const GOAL = 0.5;

/** The build stage's cache tags carry no run label: removed by name at the end. */
const cacheTags: string[] = [];

async function coldBuild(installer: "pip" | "uv"): Promise<number> {
  const t0 = performance.now();
  const built = await buildTesseractImage(path.join(EXAMPLES, "vectoradd"), {
    ...hostBuildOptions(RUN),
    tag: `${installer}-${RUN}`,
    installer,
    noCache: true,
  });
  if (built.cacheTag) cacheTags.push(built.cacheTag);
  return (performance.now() - t0) / 1000;
}

async function main() {
  process.env.PULUMI_TESSERACT_QUIET = "1";
  const docker = DockerClient.for();
  try {
    // one each (a cold build takes minutes); pip first, so a warming index would favour uv only slightly
    const pip = [await coldBuild("pip")];
    const uv = [await coldBuild("uv")];
    const best = (xs: number[]) => Math.min(...xs);
    const ratio = best(uv) / best(pip);
    const result = {
      bench: "build-installer",
      pipColdS: best(pip),
      uvColdS: best(uv),
      uvOverPipRatio: ratio,
      goals: { uvOverPipRatio: GOAL },
    };
    console.log("| cold build of vectoradd | seconds |\n|---|---|");
    console.log(`| pip | ${best(pip).toFixed(1)} |\n| uv | ${best(uv).toFixed(1)} |`);
    console.log(`uv / pip = ${ratio.toFixed(2)} (goal <= ${GOAL}: ${ratio <= GOAL ? "met" : "missed"})`);
    mkdirSync(path.join(__dirname, "results"), { recursive: true });
    writeFileSync(path.join(__dirname, "results", "build-installer.json"), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await cleanupRun(docker, RUN);
    for (const t of cacheTags) await docker.removeImage(t).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
