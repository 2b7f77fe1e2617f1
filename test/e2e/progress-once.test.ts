/**
 * Progress once: a build's progress reaches the real engine live, attached to the image's row, as
 * ephemeral diagnostics (not repeated in the Diagnostics summary), and a failed build's error
 * carries the end of the log that explains it, not the whole log. Both ways in: the TypeScript
 * package's dynamic provider (Automation API, engine events through `onEvent`) and the provider
 * plugin under the `pulumi` CLI with a Pulumi YAML program (`--event-log`).
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { DockerClient } from "../../provider/docker";
import { TesseractImage } from "../../provider/resources/tesseract-image";
import { CliProject } from "../helpers/plugin-cli";
import { createTestStack, type TestStack } from "../helpers/stack";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";

const run = `progress-once-${process.pid}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-progress-once-"));
const src = path.join(work, "hello");
cpSync(path.join(EXAMPLES, "hello"), src, { recursive: true });
const MARKER = "progress-once-failing-step";
/** A custom build step that fails after printing a line the error must carry. */
const FAILING = { "build_config.custom_build_steps": [`RUN echo ${MARKER} && exit 3`] };
let ts: TestStack | undefined;
let cli: CliProject | undefined;

after(async () => {
  await ts?.dispose();
  await cli?.dispose();
  await cleanupRun(docker, run);
  rmSync(work, { recursive: true, force: true });
  await docker.close();
});

type Diag = NonNullable<EngineEvent["diagnosticEvent"]>;

/** What the checks need of a run's events. */
function analyse(events: EngineEvent[], type: string) {
  const imageUrn = events.map((e) => e.resourcePreEvent?.metadata.urn).find((u) => u?.endsWith(`${type}::hello`));
  assert.ok(imageUrn, `a resource event for the image (${type})`);
  // The engine's own debug lines (resource registration) are not the provider's progress.
  const diags = events.flatMap((e, i) =>
    e.diagnosticEvent && (e.diagnosticEvent.severity as string) !== "debug"
      ? [{ i, d: e.diagnosticEvent as Diag }]
      : [],
  );
  const progress = diags.filter(({ d }) => d.message.includes("TesseractImage"));
  const done = events.findIndex((e) => e.resOutputsEvent?.metadata.urn === imageUrn);
  return { imageUrn, diags, progress, done };
}

/** Lines of a message (the engine adds a trailing newline). */
const lines = (s: string) => s.replace(/\n$/, "").split("\n");

function checkSucceeded(events: EngineEvent[], type: string): void {
  const { imageUrn, progress, done } = analyse(events, type);
  const live = progress.filter(({ d }) => d.ephemeral);
  assert.ok(live.length >= 3, `ephemeral progress lines: ${JSON.stringify(progress.slice(0, 5))}`);
  assert.ok(
    live.every(({ d }) => d.urn === imageUrn),
    `every live line is on the image's row (${imageUrn}): ${JSON.stringify(live.find(({ d }) => d.urn !== imageUrn))}`,
  );
  assert.ok(done > 0, "the image's outputs event");
  assert.ok(
    live.filter(({ i }) => i < done).length >= 3,
    "progress arrives during the build, before the image is done",
  );
  assert.ok(
    live.some(({ d }) => /building |Step \d+\/\d+|#\d+ /.test(d.message)),
    "the build log itself is among them",
  );
  const kept = progress.filter(({ d }) => !d.ephemeral);
  assert.ok(kept.length <= 3, `at most a few lines are kept for the summary: ${JSON.stringify(kept)}`);
  assert.ok(
    kept.some(({ d }) => /built [0-9a-f]{12} in /.test(d.message)),
    "the summary keeps the outcome",
  );
}

function checkFailed(events: EngineEvent[], type: string): string {
  const { imageUrn, diags } = analyse(events, type);
  const errors = diags.filter(({ d }) => d.severity === "error" && d.urn === imageUrn);
  const error = errors.map(({ d }) => d.message).join("\n");
  assert.match(error, /last build log lines/, error);
  assert.match(error, new RegExp(MARKER), "the tail holds the line that explains the failure");
  assert.ok(lines(error).length <= 60, `the error carries a tail, not the whole log (${lines(error).length} lines)`);
  assert.ok(!/Step 1\/|#1 \[internal\]/.test(error), "not the beginning of the log");
  return error;
}

/** The part of the CLI's (or Automation API's) output after `Diagnostics:`. */
function summaryOf(output: string): string {
  const at = output.lastIndexOf("Diagnostics:");
  return at < 0 ? "" : output.slice(at);
}

describe("progress once", { timeout: 40 * 60_000 }, () => {
  it("dynamic provider: live ephemeral progress on the image's row; a failure's error carries the tail", async () => {
    let failing = false;
    ts = await createTestStack("progress-once", async () => {
      const image = new TesseractImage("hello", {
        srcDir: src,
        tag: run,
        ...hostBuildOptions(run),
        ...(failing ? { configOverride: FAILING } : {}),
      });
      return { imageName: image.imageName };
    });
    const events: EngineEvent[] = [];
    const output: string[] = [];
    const up = await ts.stack.up({ onEvent: (e) => events.push(e), onOutput: (s) => output.push(s) });
    assert.equal(up.summary.result, "succeeded");
    checkSucceeded(events, "pulumi-nodejs:dynamic/tesseract:TesseractImage");
    const live = events.flatMap((e) => (e.diagnosticEvent?.ephemeral ? [e.diagnosticEvent.message.trim()] : []));
    const summary = summaryOf(output.join(""));
    for (const l of live.filter((m) => m.length > 20).slice(0, 40))
      assert.ok(!summary.includes(l), `not repeated in the Diagnostics summary: ${l}\n${summary.slice(0, 2000)}`);

    failing = true;
    const failedEvents: EngineEvent[] = [];
    const failedOutput: string[] = [];
    await assert.rejects(ts.stack.up({ onEvent: (e) => failedEvents.push(e), onOutput: (s) => failedOutput.push(s) }));
    checkFailed(failedEvents, "pulumi-nodejs:dynamic/tesseract:TesseractImage");
    const failedSummary = summaryOf(failedOutput.join(""));
    assert.match(failedSummary, new RegExp(MARKER));
    assert.ok(lines(failedSummary).length < 120, `a short summary (${lines(failedSummary).length} lines)`);
  });

  it("provider plugin (YAML): the same, through the engine's log from the plugin", async () => {
    cli = new CliProject("pt-progress-once", `progress-${process.pid}`);
    const yaml = (failing: boolean) => `name: pt-progress-once
runtime: yaml
resources:
  hello:
    type: tesseract:index:TesseractImage
    properties:
      srcDir: ${JSON.stringify(src)}
      tag: ${JSON.stringify(`${run}-yaml`)}
      buildNetwork: host
${hostBuildOptions(run).caCertificates ? `      caCertificates: ${JSON.stringify(hostBuildOptions(run).caCertificates)}\n` : ""}      labels:
        pulumi-tesseract.test: ${JSON.stringify(run)}
${failing ? `      configOverride: ${JSON.stringify(FAILING)}\n` : ""}outputs:
  imageName: \${hello.imageName}
`;
    cli.write("Pulumi.yaml", yaml(false));
    await cli.ok(["stack", "init", cli.stack]);
    const readEvents = (file: string): EngineEvent[] =>
      existsSync(file)
        ? readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as EngineEvent)
        : [];

    // `--event-log` (what the Automation API reads) is a hidden flag of the CLI.
    const debug = { PULUMI_DEBUG_COMMANDS: "true" };
    const ok = path.join(work, "events-ok.jsonl");
    const up = await cli.run(["up", "--yes", "--skip-preview", "--event-log", ok], 30 * 60_000, debug);
    assert.equal(up.code, 0, up.all.slice(-6000));
    checkSucceeded(readEvents(ok), "tesseract:index:TesseractImage");
    const live = readEvents(ok).flatMap((e) =>
      e.diagnosticEvent?.ephemeral ? [e.diagnosticEvent.message.trim()] : [],
    );
    const summary = summaryOf(up.stdout);
    for (const l of live.filter((m) => m.length > 20).slice(0, 40))
      assert.ok(!summary.includes(l), `not repeated in the Diagnostics summary: ${l}`);

    cli.write("Pulumi.yaml", yaml(true));
    const bad = path.join(work, "events-failed.jsonl");
    const failed = await cli.run(["up", "--yes", "--skip-preview", "--event-log", bad], 30 * 60_000, debug);
    assert.notEqual(failed.code, 0, failed.all.slice(-3000));
    checkFailed(readEvents(bad), "tesseract:index:TesseractImage");
    assert.match(summaryOf(failed.stdout), new RegExp(MARKER), failed.stdout.slice(-3000));
  });
});
