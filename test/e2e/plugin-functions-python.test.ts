/**
 * The five functions beyond the Tesseract calls from the Python SDK generated from the plugin's
 * schema (the pulumi_tesseract wheel of the test setup), through Pulumi's Python Automation API
 * with an inline program (test/helpers/plugin_python_functions.py): the hello image is built outside
 * Pulumi, the program serves it (debug on) and calls `run_tesseract`, `get_tesseract_images`,
 * `get_tesseract_containers`, `get_tesseract_service_logs` and `run_tesseract_tests` on it. A
 * secret argument makes a secret result. Everything carries the run's label and is removed.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, it } from "node:test";
import { DockerClient } from "../../provider/docker";
import { pythonStackEnv, REPO_ROOT } from "../helpers/plugin-cli";
import { buildHelloCopy, cleanupRun } from "../helpers/tesseract-image";

const run = `plugin-fn-py-${process.pid}`;
const tag = `fn-py-${process.pid}`;
const image = `hello:${tag}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-fn-py-"));
const src = path.join(work, "hello");
const python = path.join(process.env.PULUMI_TESSERACT_PYTHON_SDK ?? "", "venv", "bin", "python");
const TOKEN = `tok-${process.pid}-never-shown`;
let cacheTag: string | undefined;

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  mkdirSync(path.join(work, "project"));
  mkdirSync(path.join(work, "state"));
  const built = await buildHelloCopy(src, tag, run);
  cacheTag = built.cacheTag;
});

after(async () => {
  await cleanupRun(docker, run);
  if (cacheTag) await docker.removeImage(cacheTag).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

it("Python SDK: run_tesseract, the listings, the service logs and run_tesseract_tests", {
  timeout: 900_000,
}, async () => {
  assert.ok(existsSync(python), `no SDK venv at ${python}: run scripts/setup.sh (source scripts/env.sh)`);
  const spec = {
    image,
    run,
    testsDir: path.join(src, "test_cases"),
    workDir: path.join(work, "project"),
    stack: run,
    token: TOKEN,
  };
  const r = spawnSync(python, [path.join(REPO_ROOT, "test/helpers/plugin_python_functions.py")], {
    input: JSON.stringify(spec),
    encoding: "utf8",
    timeout: 800_000,
    env: pythonStackEnv(work),
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr.slice(-8000)}`);
  const seen = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
  const up = seen.up;
  assert.equal(up.ranExitCode, 0);
  assert.equal(JSON.parse(up.ranStdout).greeting, "Hello, python!");
  assert.equal(JSON.parse(up.secretStdout).greeting, "Hello, secret!");
  assert.deepEqual(seen.secret, ["secretStdout"], "only the result computed from a secret is secret");
  assert.ok(up.imageTags.includes(image), `get_tesseract_images lists ${image}`);
  const [cid] = up.containerIds as string[];
  const mine = (up.containers as { id: string; startedBy?: string; owner?: { service?: string } }[]).find(
    (c) => c.id === cid,
  );
  assert.ok(mine, "get_tesseract_containers lists the service's container");
  assert.equal(mine.startedBy, "TesseractService");
  assert.equal(mine.owner?.service, "svc");
  assert.deepEqual(up.logNames, [cid]);
  assert.match(up.logText, /Uvicorn|startup|Started/i);
  assert.equal(up.testsOk, true, JSON.stringify(up.testCases));
  assert.equal(up.testsPassed, 3);
  assert.equal(seen.destroyed, true);
  assert.ok(!`${r.stdout}${r.stderr}`.includes(TOKEN), "the secret leaked into the output");
  assert.deepEqual(await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] }), []);
});
