/**
 * TesseractImage benchmark through the real Pulumi engine (Automation API, inline program):
 *   1. cold build: `pulumi up` of the vectoradd example on a fresh base image ID (a one-LABEL image
 *      on top of debian:bookworm-slim), so no layer can come from the cache;
 *   2. no-op `pulumi up` (diff says unchanged: the builder is not called);
 *   3. rebuild after editing only tesseract_api.py, as a ratio to the cold build (goal <= 0.15);
 * plus build-context generation side by side with `tesseract build --generate-only` (upstream
 * cannot build here: it needs buildx).
 *
 *   source scripts/env.sh && npx tsc -p tsconfig.json && npx tsx bench/image.ts
 *
 * Prints a table and writes bench/results/image.json.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { pack } from "tar-stream";
import { generateBuildContext } from "../provider/build-context";
import { DockerClient } from "../provider/docker";
import { TesseractImage } from "../provider/resources/tesseract-image";
import { readTesseractConfig } from "../provider/tesseract-config";
import { cleanupRun, hostCaCertificates } from "../test/helpers/tesseract-image";
import { writeResult } from "./results";

const ROOT = path.join(__dirname, "..");
const run = `imgbench-${process.pid}`;
const tag = `bench-${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), "pt-img-bench-"));
const src = path.join(dir, "vectoradd");
cpSync(path.join(ROOT, "examples/tesseracts/vectoradd"), src, { recursive: true });

const base = `pulumi-tesseract-bench/base:${process.pid}`;
const program = async () => {
  const image = new TesseractImage("vectoradd", {
    srcDir: src,
    tag,
    configOverride: { "build_config.base_image": base },
    caCertificates: hostCaCertificates(),
    buildNetwork: "host",
    labels: { "pulumi-tesseract.test": run },
  });
  return { imageId: image.imageId };
};

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [(performance.now() - t0) / 1000, r];
}

async function main() {
  const docker = DockerClient.for();
  const p = pack();
  p.entry(
    { name: "Dockerfile", mtime: new Date(0) },
    `FROM debian:bookworm-slim\nLABEL pulumi-tesseract.test=${run} pulumi-tesseract.bench-base=${Date.now()}\n`,
  );
  p.finalize();
  await docker.build(p as unknown as Readable, { tags: [base], labels: { "pulumi-tesseract.test": run } }, () => {});
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: run, projectName: "pt-image-bench", program },
    { workDir: ROOT },
  );
  const results: Record<string, number | string | boolean> = {};
  let buildLines = 0;
  const onOutput = (s: string) => {
    buildLines += (s.match(/Step \d+\/\d+ :/g) ?? []).length;
  };
  try {
    const [cold, coldRes] = await timed(() => stack.up({ onOutput }));
    if (coldRes.summary.result !== "succeeded") throw new Error("cold up failed");
    results.coldBuildSeconds = cold;

    buildLines = 0;
    const [noop, noopRes] = await timed(() => stack.up({ onOutput }));
    results.noopUpSeconds = noop;
    results.noopCalledBuilder = buildLines > 0 || Boolean(noopRes.summary.resourceChanges?.update);

    writeFileSync(path.join(src, "tesseract_api.py"), "\n# benchmark edit\n", { flag: "a" });
    buildLines = 0;
    const [edit, editRes] = await timed(() => stack.up({ onOutput }));
    if (editRes.summary.resourceChanges?.update !== 1) throw new Error("the API edit did not update the image");
    results.apiEditRebuildSeconds = edit;
    results.apiEditRatio = edit / cold;

    // context generation: ours (in process) vs tesseract build --generate-only (CLI, Python start-up included)
    const cfg = readTesseractConfig(src);
    const reps = 20;
    const [ours] = await timed(async () => {
      for (let i = 0; i < reps; i++) generateBuildContext(src, cfg);
    });
    results.contextGenerationMs = (ours / reps) * 1000;
    const cli = process.env.PULUMI_TESSERACT_VENV && path.join(process.env.PULUMI_TESSERACT_VENV, "bin", "tesseract");
    if (cli && existsSync(cli)) {
      const out = path.join(dir, "gen");
      const [theirs] = await timed(async () => {
        for (let i = 0; i < 3; i++)
          execFileSync(cli, ["build", "--generate-only", "--build-dir", `${out}${i}`, src], { stdio: "ignore" });
      });
      results.upstreamGenerateOnlyMs = (theirs / 3) * 1000;
    }
  } finally {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(stack.name).catch(() => undefined);
    await cleanupRun(docker, run);
    rmSync(dir, { recursive: true, force: true });
    await docker.close();
  }

  const rows: [string, string, string][] = [
    ["cold build (pulumi up, fresh base image ID)", `${(results.coldBuildSeconds as number).toFixed(1)} s`, ""],
    [
      "no-op pulumi up",
      `${(results.noopUpSeconds as number).toFixed(1)} s`,
      results.noopCalledBuilder ? "CALLED THE BUILDER" : "builder not called",
    ],
    [
      "rebuild after editing tesseract_api.py",
      `${(results.apiEditRebuildSeconds as number).toFixed(1)} s`,
      `ratio ${(results.apiEditRatio as number).toFixed(3)} (goal <= 0.15)`,
    ],
    ["build context generation (ours)", `${(results.contextGenerationMs as number).toFixed(1)} ms`, ""],
  ];
  if (results.upstreamGenerateOnlyMs !== undefined)
    rows.push([
      "tesseract build --generate-only (upstream CLI)",
      `${(results.upstreamGenerateOnlyMs as number).toFixed(0)} ms`,
      "includes Python start-up",
    ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${"measure".padEnd(w)}  ${"value".padStart(10)}  note`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padStart(10)}  ${c}`);
  writeResult("image.json", { date: new Date().toISOString(), example: "vectoradd", ...results });
  if (results.noopCalledBuilder || (results.apiEditRatio as number) > 0.15) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
