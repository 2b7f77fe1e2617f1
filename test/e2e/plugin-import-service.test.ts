/**
 * `pulumi import tesseract:index:TesseractService` with the real CLI and the YAML language host: a
 * service started outside Pulumi (the package's service lifecycle `create`, two replicas with
 * environment, memory, restart policy and labels) is adopted by its service ID, the code
 * `pulumi import` generates becomes the program, and `preview` then shows no changes; `destroy`
 * removes the containers. An unknown ID is "not found"; a container not started by a
 * TesseractService fails with the fix.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { DockerClient } from "../../provider/docker";
import * as serviceImpl from "../../provider/resources/tesseract-service-impl";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";
import { ensureHelloImage } from "../helpers/service-fixture";
import { removeRunContainers } from "../helpers/tesseract-image";

const run = `plugin-import-svc-${process.pid}`;
const docker = DockerClient.for();
const PROJECT = "pt-plugin-import-svc";
const project = new CliProject(PROJECT, `import-svc-${process.pid}`);
const HEADER = `name: ${PROJECT}\nruntime: yaml\n`;
const serviceName = `imported-${process.pid}`;
const plainName = `pt-import-plain-${process.pid}`;
let serviceId = "";
let containerIds: string[] = [];

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  const image = await ensureHelloImage(docker);
  const checked = await serviceImpl.check(undefined, {
    image,
    replicas: 2,
    environment: { GREETING: "hi" },
    memory: "256m",
    restartPolicy: "on-failure:3",
    labels: { "pulumi-tesseract.test": run },
    serviceName,
    stack: project.stack,
    project: PROJECT,
  });
  assert.equal(checked.failures, undefined);
  const created = await serviceImpl.create(checked.inputs as Record<string, unknown>);
  serviceId = created.id;
  containerIds = created.outs.containerIds;
  // A container that merely looks like a service's: same image, no service labels.
  await docker.createContainer(plainName, { Image: image, Labels: { "pulumi-tesseract.test": run } } as never);
  project.write("Pulumi.yaml", HEADER);
  await project.ok(["stack", "init", project.stack]);
});

after(async () => {
  await project.dispose();
  await removeRunContainers(docker, run);
  const plain = await docker.inspectContainer(plainName);
  if (plain) await docker.removeContainer(plain.Id);
});

describe("pulumi import of a TesseractService (real CLI, YAML)", { timeout: 1_800_000 }, () => {
  it("an unknown service ID is not found", async () => {
    const r = await project.run(["import", "tesseract:index:TesseractService", serviceName, `no-such-${run}`, "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /does not exist|not found/i);
  });

  it("a container not started by a TesseractService fails with the fix", async () => {
    const r = await project.run(["import", "tesseract:index:TesseractService", serviceName, plainName, "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(r.all, /not started by a TesseractService/);
  });

  it("imports by service ID, then preview with the generated code shows no changes", async () => {
    const gen = path.join(project.dir, "imported.yaml");
    await project.ok([
      "import",
      "tesseract:index:TesseractService",
      serviceName,
      serviceId,
      "--yes",
      "--protect=false",
      "--out",
      gen,
    ]);
    const code = readFileSync(gen, "utf8");
    assert.match(code, /type: tesseract:(index:)?TesseractService/);
    assert.match(code, /replicas: 2/);
    assert.match(code, /GREETING: hi/);
    assert.match(code, /memory: 256m/);
    assert.match(code, /restartPolicy: on-failure:3/);
    project.write("Pulumi.yaml", HEADER + code);
    const preview = await project.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(preview.code, 0, preview.all);
    const state = JSON.parse((await project.ok(["stack", "export"])).stdout);
    const res = state.deployment.resources.find((r: { type: string }) => r.type === "tesseract:index:TesseractService");
    assert.equal(res.id, serviceId);
    assert.deepEqual(res.outputs.containerIds, containerIds);
    assert.equal(res.outputs.serviceName, serviceName);
  });

  it("destroy removes the imported service's containers", async () => {
    await project.ok(["destroy", "--yes"]);
    for (const id of containerIds) assert.equal(await docker.inspectContainer(id), undefined);
    const left = await docker.listContainers({ label: [`pulumi-tesseract.service-id=${serviceId}`] }, true);
    assert.equal(left.length, 0);
  });
});
