/**
 * The `tesseract` provider plugin under the real `pulumi` CLI with a Pulumi YAML program (the YAML
 * language host from the test setup; bin/pulumi-resource-tesseract found on PATH): `up` builds
 * the hello Tesseract, serves it, calls it with `fn::invoke` of `tesseract:index:apply`, and
 * collects a local Fractal task group, with `tesseract:dockerHost` set in the stack config; `preview`
 * then shows no changes, also after `refresh`;
 * `destroy` leaves no container, image or task folder. A bad input fails at `preview` with the
 * message the dynamic resource's check gives, before anything is created.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import { DockerClient } from "../../provider/docker";
import * as serviceImpl from "../../provider/resources/tesseract-service-impl";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";
import { cleanupRun, EXAMPLES } from "../helpers/tesseract-image";

const run = `plugin-yaml-${process.pid}`;
const tag = `yaml-${process.pid}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-yaml-"));
const src = path.join(work, "hello");
const tasksDir = path.join(work, "tasks");
const project = new CliProject("pt-plugin-yaml", `yaml-${process.pid}`);
const dockerHost = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";

/** A YAML value on one line (JSON is YAML). */
const y = (v: unknown) => JSON.stringify(v);

function program(): string {
  const ca = hostCaCertificates();
  return `name: pt-plugin-yaml
runtime: yaml
description: The tesseract plugin from Pulumi YAML (test)
resources:
  hello:
    type: tesseract:index:TesseractImage
    properties:
      srcDir: ${y(src)}
      tag: ${y(tag)}
      buildNetwork: host
${ca ? `      caCertificates: ${y(ca)}\n` : ""}      labels:
        pulumi-tesseract.test: ${y(run)}
  helloService:
    type: tesseract:index:TesseractService
    properties:
      image: \${hello.imageName}
      replicas: 2
      startupTimeout: 180
      labels:
        pulumi-tesseract.test: ${y(run)}
  tasks:
    type: tesseract:index:TaskGroup
    properties:
      pip:
        package: testing-tasks-mock
        packageVersion: "0.1.5"
      backend: local
      tasksDir: ${y(tasksDir)}
variables:
  greeting:
    fn::invoke:
      function: tesseract:index:apply
      arguments:
        url: \${helloService.url}
        inputs:
          name: yaml
      return: outputs
outputs:
  imageName: \${hello.imageName}
  imageId: \${hello.imageId}
  endpoints: \${hello.endpoints}
  urls: \${helloService.urls}
  containerIds: \${helloService.containerIds}
  greeting: \${greeting.greeting}
  tasks: \${tasks.tasks}
  venvPath: \${tasks.venvPath}
`;
}

before(() => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  cpSync(path.join(EXAMPLES, "hello"), src, { recursive: true });
});

after(async () => {
  await project.dispose();
  await cleanupRun(docker, run);
  rmSync(work, { recursive: true, force: true });
});

describe("Pulumi YAML stack on the tesseract plugin (real pulumi CLI)", { timeout: 1_800_000 }, () => {
  it("up builds, serves, calls the Tesseract and collects the task group", async () => {
    project.write("Pulumi.yaml", program());
    await project.ok(["stack", "init", project.stack]);
    // Provider configuration: the engine's Configure request reaches the plugin.
    await project.ok(["config", "set", "tesseract:dockerHost", dockerHost]);
    const up = await project.ok(["up", "--yes"]);
    assert.match(up.all, /pulumi-resource-tesseract/, "the ambient plugin from PATH is used");
    const out = await project.outputs();
    assert.equal(out.imageName, `hello:${tag}`);
    assert.deepEqual(out.endpoints, ["apply"]);
    assert.equal(out.greeting, "Hello, yaml!");
    assert.equal(out.urls.length, 2);
    const image = await docker.inspectImage(`hello:${tag}`);
    assert.equal(image?.Id, out.imageId);
    for (const id of out.containerIds) assert.equal((await docker.inspectContainer(id))?.State.Running, true);
    assert.ok(out.tasks.length > 0, "the task group lists tasks");
    assert.ok(existsSync(out.venvPath), "the task venv exists");
    const state = JSON.parse((await project.ok(["stack", "export"])).stdout);
    const img = state.deployment.resources.find((r: { type: string }) => r.type === "tesseract:index:TesseractImage");
    assert.deepEqual(img.inputs.docker, { host: dockerHost }, "tesseract:dockerHost became the image's docker input");
  });

  it("preview after up shows no changes", async () => {
    const r = await project.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(r.code, 0, r.all);
  });

  it("refresh keeps the state; preview still shows no changes", async () => {
    await project.ok(["refresh", "--yes"]);
    const r = await project.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.all);
  });

  it("a changed property is shown per property (detailed diff) and replaces what it must", async () => {
    project.write("Pulumi.yaml", program().replace("replicas: 2", "replicas: 1").replace("name: yaml", "name: diff"));
    const r = await project.ok(["preview", "--diff", "--json"]);
    const steps = JSON.parse(r.stdout).steps as { op: string; urn: string; detailedDiff?: Record<string, unknown> }[];
    const service = steps.find((s) => s.urn.endsWith("::helloService"));
    assert.equal(service?.op, "update", JSON.stringify(service));
    assert.deepEqual(Object.keys(service?.detailedDiff ?? {}), ["replicas"]);
    project.write("Pulumi.yaml", program());
  });

  it("destroy leaves no container, image or task folder", async () => {
    const out = await project.outputs();
    await project.ok(["destroy", "--yes"]);
    for (const id of out.containerIds) assert.equal(await docker.inspectContainer(id), undefined);
    assert.equal(await docker.inspectImage(`hello:${tag}`), undefined);
    assert.deepEqual(await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] }), []);
    assert.equal(existsSync(out.venvPath), false);
    const left = existsSync(tasksDir) ? readdirSync(tasksDir, { recursive: true }) : [];
    assert.deepEqual(left, [], `task folders left: ${left.join(", ")}`);
  });

  it("bad input fails at preview with the dynamic resource's message, creating nothing", async () => {
    project.write(
      "Pulumi.yaml",
      `name: pt-plugin-yaml
runtime: yaml
resources:
  bad:
    type: tesseract:index:TesseractService
    properties:
      image: hello:${tag}
      replicas: 0
      memory: 3m
`,
    );
    const direct = await serviceImpl.check(
      {},
      { image: `hello:${tag}`, replicas: 0, memory: "3m", serviceName: "bad", stack: project.stack },
    );
    const expected = (direct.failures ?? []).map((f) => f.reason);
    assert.equal(expected.length, 2, JSON.stringify(expected));
    const r = await project.run(["preview"]);
    assert.notEqual(r.code, 0);
    for (const reason of expected) assert.ok(r.all.includes(reason), `missing ${reason} in:\n${r.all}`);
    const stack = await project.ok(["stack", "export"]);
    assert.doesNotMatch(stack.stdout, /TesseractService/);
  });
});
