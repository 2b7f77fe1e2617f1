/**
 * Cold build of examples/tesseracts/vectoradd with each build-stage installer, side by side in one
 * run on the same engine: `installer: "pip"` against `installer: "uv"` (`pip install uv`, then
 * `uv pip install`, as upstream's image does). Both build with `noCache` (no layer from the cache)
 * and uv with `--no-cache`, so each downloads and installs everything. Goal: uv ≤ 0.5 × pip.
 *
 * Each step is timed from the build log (the time between its `Step n/m` line and the next), so
 * the table also shows what the installer can change at all: the install steps (`pip install`,
 * `uv venv`, `uv pip install`, `pip install … uv`) against the rest (apt in both stages, copies, the final
 * `tesseract-runtime check`), which is the same for both. The rest over pip's total is the best
 * ratio any installer could reach (an installer taking no time): the goal's floor, written as
 * `floors.uvOverPipRatio` for bench/summary.ts.
 *
 *   source scripts/env.sh && npx tsx bench/build-installer.ts
 *
 * Prints a table and writes bench/results/build-installer.json.
 */
import path from "node:path";
import { buildTesseractImage } from "../provider/build";
import { DockerClient } from "../provider/docker";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../test/helpers/tesseract-image";
import { writeResult } from "./results";

const RUN = `installer-bench-${process.pid}`;
const GOAL = 0.5;

/** The build stage's cache tags carry no run label: removed by name at the end. */
const cacheTags: string[] = [];

/** Steps that make the venv or install Python packages: the only ones the installer changes. */
const INSTALL_STEP = /pip install|uv venv/;

interface ColdBuild {
  totalS: number;
  /** Seconds in the install steps. */
  installS: number;
  /** Seconds per step, in order (`Step n/m : …` text, truncated). */
  steps: { step: string; s: number }[];
}

async function coldBuild(installer: "pip" | "uv"): Promise<ColdBuild> {
  const marks: { step: string; install: boolean; t: number }[] = [];
  const t0 = performance.now();
  const built = await buildTesseractImage(path.join(EXAMPLES, "vectoradd"), {
    ...hostBuildOptions(RUN),
    tag: `${installer}-${RUN}`,
    installer,
    noCache: true,
    onLine: (line) => {
      if (/^Step \d+\/\d+ : /.test(line))
        marks.push({ step: line.slice(0, 120), install: INSTALL_STEP.test(line), t: performance.now() });
    },
  });
  const end = performance.now();
  if (built.cacheTag) cacheTags.push(built.cacheTag);
  const steps = marks.map((m, i) => ({ step: m.step, install: m.install, s: ((marks[i + 1]?.t ?? end) - m.t) / 1000 }));
  const installS = steps.filter((x) => x.install).reduce((a, x) => a + x.s, 0);
  return { totalS: (end - t0) / 1000, installS, steps };
}

async function main() {
  process.env.PULUMI_TESSERACT_QUIET = "1";
  const docker = DockerClient.for();
  try {
    // one each (a cold build takes minutes); pip first, so a warming index would favour uv only slightly
    const pip = await coldBuild("pip");
    const uv = await coldBuild("uv");
    const ratio = uv.totalS / pip.totalS;
    const floor = (pip.totalS - pip.installS) / pip.totalS;
    const result = {
      bench: "build-installer",
      pipColdS: pip.totalS,
      uvColdS: uv.totalS,
      uvOverPipRatio: ratio,
      pipInstallStepsS: pip.installS,
      uvInstallStepsS: uv.installS,
      installStepsUvOverPip: uv.installS / pip.installS,
      goals: { uvOverPipRatio: GOAL },
      // an installer taking no time at all: the best uv / pip any installer could reach
      floors: { uvOverPipRatio: floor },
      steps: { pip: pip.steps, uv: uv.steps },
    };
    console.log("| cold build of vectoradd | total s | install steps s | rest s |\n|---|---|---|---|");
    for (const [name, b] of [
      ["pip", pip],
      ["uv", uv],
    ] as const)
      console.log(
        `| ${name} | ${b.totalS.toFixed(1)} | ${b.installS.toFixed(1)} | ${(b.totalS - b.installS).toFixed(1)} |`,
      );
    console.log(
      `uv / pip = ${ratio.toFixed(2)} (goal <= ${GOAL}: ${ratio <= GOAL ? "met" : "missed"}); install steps alone ` +
        `${(uv.installS / pip.installS).toFixed(2)}; with an installer taking no time the build would be ` +
        `${floor.toFixed(2)} × pip${floor > GOAL ? " (goal unreachable: the rest of the build is above it)" : ""}`,
    );
    writeResult("build-installer.json", result);
  } finally {
    await cleanupRun(docker, RUN);
    for (const t of cacheTags) await docker.removeImage(t).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
