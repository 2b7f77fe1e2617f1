/**
 * Cold builds of several Tesseracts in one `pulumi up` (issue 24): with the shared runtime base image
 * (`pulumi-tesseract-runtime:<hash16>`, docs/tesseract-image.md) the 4 images of one `up` install the
 * tesseract-core runtime once. In one run, through the real Pulumi engine (Automation API):
 *   1. one cold build: `pulumi up` of one TesseractImage (vectoradd) on a fresh base image;
 *   2. four cold builds: `pulumi up` of four TesseractImages (vectoradd under four names, built in
 *      parallel by the engine, as the root stack's four images are) on another fresh base image.
 * Cold: each base image is a new one-LABEL image on top of debian:bookworm-slim, so no layer
 * (runtime base image included: its hash covers the base image) comes from the cache.
 * Row `fourOverOneRatio` = (2) / (1), goal <= 1.5.
 *
 *   source scripts/env.sh && npx tsc -p tsconfig.json && npx tsx bench/build-parallel.ts
 *
 * Prints a table and writes bench/results/build-parallel.json.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { pack } from "tar-stream";
import { DockerClient } from "../provider/docker";
import { TesseractImage } from "../provider/resources/tesseract-image";
import { cleanupRun, hostCaCertificates } from "../test/helpers/tesseract-image";
import { writeResult } from "./results";

const ROOT = path.join(__dirname, "..");
const GOAL = 1.5;
const run = `parbench-${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), "pt-par-bench-"));
const src = path.join(dir, "vectoradd");
cpSync(path.join(ROOT, "examples/tesseracts/vectoradd"), src, { recursive: true });

/** A program of `names.length` TesseractImages of vectoradd on `base`, one per name. */
function program(base: string, names: string[]) {
  return async () => {
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const image = new TesseractImage(name, {
        srcDir: src,
        tag: run,
        configOverride: { "build_config.base_image": base, name },
        caCertificates: hostCaCertificates(),
        buildNetwork: "host",
        labels: { "pulumi-tesseract.test": run },
      });
      out[name] = image.imageId;
    }
    return out;
  };
}

/** A fresh base image (a new ID: nothing built on it is in the cache). */
async function freshBase(docker: DockerClient, name: string): Promise<string> {
  const tag = `pulumi-tesseract-bench/${name}:${process.pid}`;
  const p = pack();
  p.entry(
    { name: "Dockerfile", mtime: new Date(0) },
    `FROM debian:bookworm-slim\nLABEL pulumi-tesseract.test=${run} pulumi-tesseract.bench-base=${Date.now()}-${name}\n`,
  );
  p.finalize();
  await docker.build(p as unknown as Readable, { tags: [tag], labels: { "pulumi-tesseract.test": run } }, () => {});
  return tag;
}

/** Seconds of one cold `pulumi up` of `names` on a fresh base, and how many runtime builds it logged. */
async function coldUp(docker: DockerClient, label: string, names: string[]) {
  const base = await freshBase(docker, label);
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: `${run}-${label}`, projectName: "pt-parallel-bench", program: program(base, names) },
    { workDir: ROOT },
  );
  let runtimeBuilds = 0;
  const onOutput = (s: string) => {
    runtimeBuilds += (s.match(/built the runtime base image/g) ?? []).length;
  };
  try {
    const t0 = performance.now();
    const res = await stack.up({ onOutput });
    const seconds = (performance.now() - t0) / 1000;
    if (res.summary.result !== "succeeded") throw new Error(`${label}: up failed`);
    return { seconds, runtimeBuilds };
  } finally {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(stack.name).catch(() => undefined);
  }
}

async function main() {
  const docker = DockerClient.for();
  try {
    const one = await coldUp(docker, "one", ["va0"]);
    const four = await coldUp(docker, "four", ["va1", "va2", "va3", "va4"]);
    const ratio = four.seconds / one.seconds;
    const leftRuntime = (await docker.listImages({ label: ["pulumi-tesseract.runtime"] })).filter((i) =>
      (i.RepoTags ?? []).some((t) => t.includes(`pulumi-tesseract-runtime-holder/va`)),
    ).length;
    console.log("| cold pulumi up of vectoradd | s | runtime builds logged |\n|---|---|---|");
    console.log(`| 1 image | ${one.seconds.toFixed(1)} | ${one.runtimeBuilds} |`);
    console.log(`| 4 images (parallel, one up) | ${four.seconds.toFixed(1)} | ${four.runtimeBuilds} |`);
    console.log(`4 / 1 = ${ratio.toFixed(2)} (goal <= ${GOAL}: ${ratio <= GOAL ? "met" : "missed"})`);
    writeResult("build-parallel.json", {
      bench: "build-parallel",
      date: new Date().toISOString(),
      example: "vectoradd",
      oneColdUpS: one.seconds,
      fourColdUpS: four.seconds,
      runtimeBuildsOne: one.runtimeBuilds,
      runtimeBuildsFour: four.runtimeBuilds,
      runtimeHoldersLeftAfterDestroy: leftRuntime,
      fourOverOneRatio: ratio,
      goals: { fourOverOneRatio: GOAL },
    });
    if (ratio > GOAL) process.exitCode = 1;
  } finally {
    await cleanupRun(docker, run);
    rmSync(dir, { recursive: true, force: true });
    await docker.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
