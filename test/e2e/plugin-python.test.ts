/**
 * A Python stack on the Python SDK generated from the plugin's schema (the pulumi_tesseract wheel
 * built by the test setup) through Pulumi's Python Automation API with an inline program: build the
 * hello Tesseract, serve it, call `apply`, preview with no changes, destroy with nothing left.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import { DockerClient } from "../../provider/docker";
import { pythonStackEnv, REPO_ROOT } from "../helpers/plugin-cli";
import { cleanupRun, EXAMPLES } from "../helpers/tesseract-image";

const run = `plugin-py-${process.pid}`;
const tag = `py-${process.pid}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-py-"));
const python = path.join(process.env.PULUMI_TESSERACT_PYTHON_SDK ?? "", "venv", "bin", "python");

before(() => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  cpSync(path.join(EXAMPLES, "hello"), path.join(work, "hello"), { recursive: true });
  mkdirSync(path.join(work, "project"));
  mkdirSync(path.join(work, "state"));
});

after(async () => {
  await cleanupRun(docker, run);
  rmSync(work, { recursive: true, force: true });
});

it("Python inline program on pulumi_tesseract: build, serve, apply, destroy", { timeout: 1_800_000 }, async () => {
  assert.ok(existsSync(python), `no SDK venv at ${python}: run scripts/setup.sh (source scripts/env.sh)`);
  const spec = {
    srcDir: path.join(work, "hello"),
    tag,
    run,
    caCertificates: hostCaCertificates() ?? null,
    workDir: path.join(work, "project"),
    stack: run,
  };
  const r = spawnSync(python, [path.join(REPO_ROOT, "test/helpers/plugin_python_stack.py")], {
    input: JSON.stringify(spec),
    encoding: "utf8",
    timeout: 1_700_000,
    env: pythonStackEnv(work),
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr.slice(-8000)}`);
  const seen = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
  assert.equal(seen.up.imageName, `hello:${tag}`);
  assert.equal(seen.up.greeting, "Hello, python!");
  assert.deepEqual(seen.previewChanges, {}, "preview after up shows no changes");
  assert.equal(seen.destroyed, true);
  assert.equal(await docker.inspectImage(`hello:${tag}`), undefined);
  for (const id of seen.up.containerIds) assert.equal(await docker.inspectContainer(id), undefined);
});
