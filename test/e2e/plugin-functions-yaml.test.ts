/**
 * The five functions beyond the Tesseract calls — `runTesseract`, `getTesseractImages`,
 * `getTesseractContainers`, `getTesseractServiceLogs`, `runTesseractTests` — from a Pulumi YAML
 * stack through the real CLI (`fn::invoke`, the plugin on PATH): the hello image is built outside
 * Pulumi, the stack serves it (debug on, so `/test` is served) and invokes each function on it. A
 * `runTesseract` given a secret argument returns a secret result; the secret is in no output, log or
 * state. Everything carries the run's test label and is removed afterwards.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DockerClient } from "../../provider/docker";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";
import { buildHelloCopy, cleanupRun } from "../helpers/tesseract-image";

const run = `plugin-fn-yaml-${process.pid}`;
const tag = `fn-yaml-${process.pid}`;
const image = `hello:${tag}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-fn-yaml-"));
const src = path.join(work, "hello");
const project = new CliProject("pt-plugin-fn-yaml", `fn-yaml-${process.pid}`);
/** Given to runTesseract as a secret environment value (a secret stack setting): must show up nowhere. */
const TOKEN = `tok-${process.pid}-never-shown`;
let cacheTag: string | undefined;

/** A YAML value on one line (JSON is YAML). */
const y = (v: unknown) => JSON.stringify(v);
const labels = `{ "pulumi-tesseract.test": ${y(run)} }`;

const PROGRAM = `name: pt-plugin-fn-yaml
runtime: yaml
config:
  token:
    type: string
resources:
  svc:
    type: tesseract:index:TesseractService
    properties:
      image: ${y(image)}
      debug: true
      startupTimeout: 180
      labels: ${labels}
variables:
  ran:
    fn::invoke:
      function: tesseract:index:runTesseract
      arguments:
        image: ${y(image)}
        command: apply
        args: [${y(JSON.stringify({ inputs: { name: "run" } }))}]
        labels: ${labels}
  ranSecret:
    fn::invoke:
      function: tesseract:index:runTesseract
      arguments:
        image: ${y(image)}
        command: apply
        args: [${y(JSON.stringify({ inputs: { name: "secret" } }))}]
        environment:
          TOKEN: \${token}
        labels: ${labels}
  images:
    fn::invoke:
      function: tesseract:index:getTesseractImages
      arguments: {}
  containers:
    fn::invoke:
      function: tesseract:index:getTesseractContainers
      arguments: {}
  logs:
    fn::invoke:
      function: tesseract:index:getTesseractServiceLogs
      arguments:
        containerIds: \${svc.containerIds}
        tail: 50
  tests:
    fn::invoke:
      function: tesseract:index:runTesseractTests
      arguments:
        url: \${svc.url}
        dir: ${y(path.join(src, "test_cases"))}
outputs:
  containerIds: \${svc.containerIds}
  ranStdout: \${ran.stdout}
  ranExitCode: \${ran.exitCode}
  secretStdout: \${ranSecret.stdout}
  images: \${images.images}
  containers: \${containers.containers}
  logs: \${logs.logs}
  testsOk: \${tests.ok}
  testsPassed: \${tests.passed}
  testCases: \${tests.cases}
`;

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  const built = await buildHelloCopy(src, tag, run);
  cacheTag = built.cacheTag;
  project.write("Pulumi.yaml", PROGRAM);
  await project.ok(["stack", "init", project.stack]);
  // A stack secret (a source line holding it could be echoed by the YAML host with an error).
  await project.ok(["config", "set", "--secret", "token", TOKEN]);
});

after(async () => {
  await project.dispose();
  await cleanupRun(docker, run);
  if (cacheTag) await docker.removeImage(cacheTag).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

describe("the listing, run and test functions from Pulumi YAML (real CLI, fn::invoke)", { timeout: 900_000 }, () => {
  it("up invokes all five; a secret argument makes a secret result", async () => {
    const up = await project.ok(["up", "--yes", "--skip-preview"]);
    const out = await project.outputs();

    assert.equal(out.ranExitCode, 0);
    assert.equal(JSON.parse(out.ranStdout).greeting, "Hello, run!");
    assert.equal(JSON.parse(out.secretStdout).greeting, "Hello, secret!");

    const img = (out.images as { tags: string[]; name: string; managed: boolean }[]).find((i) =>
      i.tags.includes(image),
    );
    assert.ok(img, `getTesseractImages lists ${image}`);
    assert.equal(img.name, "hello");
    assert.equal(img.managed, true);

    const [cid] = out.containerIds as string[];
    const mine = (out.containers as { id: string; startedBy?: string; owner?: { service?: string } }[]).find(
      (c) => c.id === cid,
    );
    assert.ok(mine, "getTesseractContainers lists the service's container");
    assert.equal(mine.startedBy, "TesseractService");
    assert.equal(mine.owner?.service, "svc");

    const logs = out.logs as { name: string; logs: string }[];
    assert.deepEqual(
      logs.map((l) => l.name),
      [cid],
    );
    assert.match(logs[0].logs, /Uvicorn|startup|Started/i, "the service's server log");

    assert.equal(out.testsOk, true, JSON.stringify(out.testCases));
    assert.equal(out.testsPassed, 3);

    // Secrecy: the result computed from a secret is a secret; plain results stay plain.
    const shown = JSON.parse((await project.ok(["stack", "output", "--json"])).stdout);
    assert.equal(shown.secretStdout, "[secret]");
    assert.notEqual(shown.ranStdout, "[secret]");
    const state = (await project.ok(["stack", "export"])).stdout;
    for (const text of [up.all, state, JSON.stringify(shown)]) assert.ok(!text.includes(TOKEN), "the secret leaked");
    // runTesseract's containers are gone.
    const left = await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
    assert.deepEqual(
      left.map((c) => c.Id),
      [cid],
      "only the service's container is left",
    );
  });

  it("a bad argument fails naming the field, and the secret is not echoed", async () => {
    project.write(
      "Pulumi.yaml",
      `name: pt-plugin-fn-yaml
runtime: yaml
config:
  token:
    type: string
variables:
  bad:
    fn::invoke:
      function: tesseract:index:runTesseract
      arguments:
        image: ${y(image)}
        command: serve
        environment:
          TOKEN: \${token}
outputs:
  stdout: \${bad.stdout}
`,
    );
    const r = await project.run(["preview"]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /runTesseract: command .*must be one of/);
    assert.ok(!r.all.includes(TOKEN), r.all);
    project.write("Pulumi.yaml", PROGRAM);
  });
});
