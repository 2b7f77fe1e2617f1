/**
 * runTesseract on the real engine with a real Tesseract image (the hello fixture, built by the
 * package's own builder), checked against tesseract-core 1.15's own `tesseract run` on the same
 * image and payload; the container is removed on success, failure, a missing image, a timeout
 * and an abort.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { DockerClient } from "../../provider/docker";
import { RunTesseractArgumentError, RunTesseractTimeoutError, runTesseract } from "../../provider/run/run-tesseract";
import { ensureHelloImage } from "../helpers/service-fixture";
import { removeRunContainers } from "../helpers/tesseract-image";
import { venvBin } from "../helpers/venv";

const run = promisify(execFile);
const RUN_ID = `run-${process.pid}-${Date.now()}`;
const labels = { "pulumi-tesseract.test": RUN_ID };
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-run-"));
let image: string;

/** Containers this test file created that still exist. */
async function leftovers(): Promise<string[]> {
  const found = await docker.listContainers({ label: [`pulumi-tesseract.test=${RUN_ID}`] });
  return found.map((c) => c.Names?.[0] ?? c.Id);
}

/** tesseract-core's own CLI on the same image (stdout, exit code). */
async function upstreamRun(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const cli = venvBin("tesseract") as string;
  try {
    const { stdout } = await run(cli, ["run", ...args], { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 });
    return { stdout, exitCode: 0 };
  } catch (err) {
    const e = err as { stdout?: string; code?: number };
    return { stdout: e.stdout ?? "", exitCode: typeof e.code === "number" ? e.code : -1 };
  }
}

before(async () => {
  image = await ensureHelloImage(docker);
});

after(async () => {
  await removeRunContainers(docker, RUN_ID);
  rmSync(dir, { recursive: true, force: true });
});

describe("runTesseract", { timeout: 300_000 }, () => {
  it("apply with a JSON payload: the same stdout as tesseract-core's `tesseract run`", async () => {
    const payload = JSON.stringify({ inputs: { name: "Ada" } });
    const ours = await runTesseract({ image, command: "apply", args: [payload], labels });
    assert.equal(ours.exitCode, 0, ours.stderr);
    assert.deepEqual(JSON.parse(ours.stdout), { greeting: "Hello, Ada!" });
    if (venvBin("tesseract")) {
      const theirs = await upstreamRun(image, "apply", payload);
      assert.equal(theirs.exitCode, 0);
      assert.equal(ours.stdout.trim(), theirs.stdout.trim());
    }
    assert.deepEqual(await leftovers(), []);
  });

  it("apply with an @file payload: mounted and rewritten as upstream, same stdout", async () => {
    writeFileSync(join(dir, "inputs.json"), JSON.stringify({ inputs: { name: "file" } }));
    const ours = await runTesseract({ image, command: "apply", args: [`@${join(dir, "inputs.json")}`], labels });
    assert.equal(ours.exitCode, 0, ours.stderr);
    assert.deepEqual(JSON.parse(ours.stdout), { greeting: "Hello, file!" });
    if (venvBin("tesseract")) {
      const theirs = await upstreamRun(image, "apply", "@inputs.json");
      assert.equal(ours.stdout.trim(), theirs.stdout.trim());
    }
  });

  it("invalid input: a non-zero exit code and the validation message on stderr, like upstream", async () => {
    const payload = JSON.stringify({ inputs: { name: 3, extra: true } });
    const ours = await runTesseract({ image, command: "apply", args: [payload], labels });
    assert.notEqual(ours.exitCode, 0);
    assert.match(ours.stderr, /extra|Extra inputs/i);
    assert.equal(ours.stdout, "");
    if (venvBin("tesseract")) {
      const theirs = await upstreamRun(image, "apply", payload);
      assert.notEqual(theirs.exitCode, 0);
    }
    assert.deepEqual(await leftovers(), []);
  });

  it("health and openapi-schema", async () => {
    const health = await runTesseract({ image, command: "health", labels });
    assert.equal(health.exitCode, 0, health.stderr);
    assert.match(health.stdout, /ok/);
    const schema = await runTesseract({ image, command: "openapi-schema", labels });
    assert.ok(JSON.parse(schema.stdout).paths["/apply"]);
  });

  it("outputPath + outputFile: the result lands in the host folder, not on stdout", async () => {
    const out = join(dir, "out");
    const r = await runTesseract({
      image,
      command: "apply",
      args: [JSON.stringify({ inputs: { name: "disk" } })],
      outputPath: out,
      outputFile: "result.json",
      labels,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(existsSync(join(out, "result.json")), `no result.json in ${out}`);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "result.json"), "utf8")), { greeting: "Hello, disk!" });
  });

  it("a missing image is a clear error and leaves nothing behind", async () => {
    await assert.rejects(
      runTesseract({ image: `pt-missing-${RUN_ID}:none`, command: "apply", labels }),
      (err: Error) => err instanceof RunTesseractArgumentError && /never pulled/.test(err.message),
    );
    assert.deepEqual(await leftovers(), []);
  });

  it("a timeout rejects and removes the container", async () => {
    // the runtime needs well over 50 ms to import; the deadline passes while it runs
    await assert.rejects(
      runTesseract({ image, command: "apply", args: ['{"inputs":{}}'], timeoutMs: 50, labels }),
      RunTesseractTimeoutError,
    );
    assert.deepEqual(await leftovers(), []);
  });

  it("an abort rejects and removes the container", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error("stop")), 300);
    await assert.rejects(
      runTesseract({ image, command: "apply", args: ['{"inputs":{}}'], signal: ctl.signal, labels }),
      /stop/,
    );
    assert.deepEqual(await leftovers(), []);
  });
});
