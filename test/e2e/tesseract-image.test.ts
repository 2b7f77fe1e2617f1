// TesseractImage through the real Pulumi engine (Automation API, inline program, file backend):
// up builds; a second up/preview changes nothing and never calls the builder; editing
// tesseract_api.py rebuilds from cached dependency layers; an image removed by hand is rebuilt by
// `up --refresh`; destroy removes it. Run `npx tsc -p tsconfig.json` first: the shim loads lib/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { DockerClient } from "../../provider/docker";
import { TesseractImage } from "../../provider/resources/tesseract-image";
import { testWorkspace } from "../helpers/stack";
import { cleanupRun, EXAMPLES, hostCaCertificates } from "../helpers/tesseract-image";

const ROOT = join(__dirname, "..", "..");
const run = `imge2e-${process.pid}`;
const tag = `e2e-${process.pid}`;
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-img-e2e-"));
const src = join(dir, "hello");
let stack: Stack;
let log = "";

function program() {
  return async () => {
    const image = new TesseractImage("hello", {
      srcDir: src,
      tag,
      caCertificates: hostCaCertificates(),
      buildNetwork: "host",
      labels: { "pulumi-tesseract.test": run },
    });
    return {
      imageId: image.imageId,
      imageName: image.imageName,
      contextHash: image.contextHash,
      endpoints: image.endpoints,
      tags: image.tags,
      name: image.name,
    };
  };
}

const onOutput = (s: string) => {
  log += s;
};

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  cpSync(join(EXAMPLES, "hello"), src, { recursive: true });
  stack = await LocalWorkspace.createOrSelectStack(
    { stackName: run, projectName: "pt-image-e2e", program: program() },
    testWorkspace("pt-image-e2e"),
  );
});

after(async () => {
  await stack?.destroy().catch(() => undefined);
  await stack?.workspace.removeStack(stack.name).catch(() => undefined);
  await cleanupRun(docker, run);
  rmSync(dir, { recursive: true, force: true });
});

const timings: Record<string, number> = {};

test("up builds the image", { timeout: 900_000 }, async () => {
  const t0 = Date.now();
  const res = await stack.up({ onOutput });
  timings.create = Date.now() - t0;
  assert.equal(res.summary.result, "succeeded");
  assert.equal(res.summary.resourceChanges?.create, 2); // the stack and the image
  assert.equal(res.outputs.imageName.value, `hello:${tag}`);
  assert.deepEqual(res.outputs.endpoints.value, ["apply"]);
  assert.equal(res.outputs.name.value, "hello");
  const info = await docker.inspectImage(`hello:${tag}`);
  assert.equal(info?.Id, res.outputs.imageId.value);
  assert.equal(info?.Config.Labels?.["pulumi-tesseract.context-hash"], res.outputs.contextHash.value);
  assert.match(log, /TesseractImage hello:e2e-\d+: building/, "build progress reaches the engine's output");
});

test("a second up and a preview change nothing and do not call the builder", { timeout: 300_000 }, async () => {
  log = "";
  const before = await docker.inspectImage(`hello:${tag}`);
  const prev = await stack.preview({ onOutput });
  assert.deepEqual(prev.changeSummary, { same: 2 });
  const t0 = Date.now();
  const res = await stack.up({ onOutput });
  timings.noop = Date.now() - t0;
  assert.deepEqual(res.summary.resourceChanges, { same: 2 });
  assert.doesNotMatch(log, /building|Step \d+\/\d+/, "no build ran");
  assert.equal((await docker.inspectImage(`hello:${tag}`))?.Created, before?.Created);
});

test("editing tesseract_api.py rebuilds fast, from cached dependency layers", { timeout: 900_000 }, async () => {
  log = "";
  const old = (await stack.outputs()).imageId.value as string;
  writeFileSync(join(src, "tesseract_api.py"), "\n# edited by the e2e test\n", { flag: "a" });
  const t0 = Date.now();
  const res = await stack.up({ onOutput });
  timings.apiEdit = Date.now() - t0;
  assert.equal(res.summary.resourceChanges?.update, 1);
  assert.notEqual(res.outputs.imageId.value, old);
  assert.match(
    log,
    /Step 1\/\d+ : FROM pulumi-tesseract-runtime:[0-9a-f]{16} AS build_stage/,
    "from the runtime image",
  );
  assert.doesNotMatch(log, /building the runtime base image/, "the runtime base image was not built again");
  assert.match(log, /Step \d+\/\d+ : COPY --from=build_stage \/python-env \/python-env[\s\S]*?Using cache/);
  assert.equal(await docker.inspectImage(old), undefined, "the superseded image is removed");
});

test("an image removed by hand is rebuilt by up --refresh", { timeout: 900_000 }, async () => {
  const id = (await stack.outputs()).imageId.value as string;
  await docker.removeImage(id, { force: true });
  assert.equal(await docker.inspectImage(`hello:${tag}`), undefined);
  const res = await stack.up({ onOutput, refresh: true });
  assert.equal(res.summary.result, "succeeded");
  const info = await docker.inspectImage(`hello:${tag}`);
  assert.ok(info, "rebuilt");
  assert.equal(info?.Id, res.outputs.imageId.value);
});

test("a broken tesseract_api.py fails preview with the file and line, and the state is unchanged", {
  timeout: 300_000,
}, async () => {
  const before = (await stack.outputs()).imageId.value;
  writeFileSync(join(src, "tesseract_api.py"), "\ndef jacobian(inputs, wrt, of):\n    pass\n", { flag: "a" });
  const err = await stack.preview({ onOutput }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.match(String((err as Error).message), /second argument of jacobian must be named jac_inputs/);
  assert.equal((await stack.outputs()).imageId.value, before);
  assert.ok(await docker.inspectImage(`hello:${tag}`), "the image is still there");
});

test("destroy removes the image and leaves nothing behind", { timeout: 300_000 }, async () => {
  const { contextHash } = await stack.outputs();
  const state = await stack.exportStack();
  const holderTag = (state.deployment.resources ?? [])
    .map((r: { outputs?: { holderTag?: string } }) => r.outputs?.holderTag)
    .find(Boolean) as string;
  const runtimeHolder = holderTag.replace("pulumi-tesseract-holder/", "pulumi-tesseract-runtime-holder/");
  const runtime = await docker.inspectImage(runtimeHolder);
  assert.ok(
    runtime?.RepoTags?.some((t) => t.startsWith("pulumi-tesseract-runtime:")),
    "the stack holds its runtime base image",
  );
  const res = await stack.destroy({ onOutput });
  assert.equal(res.summary.result, "succeeded");
  assert.equal(await docker.inspectImage(`hello:${tag}`), undefined);
  assert.deepEqual(await docker.listImages({ label: [`pulumi-tesseract.test=${run}`] }), []);
  assert.deepEqual(await docker.listImages({ label: [`pulumi-tesseract.context-hash=${contextHash.value}`] }), []);
  assert.equal(
    await docker.inspectImage(`pulumi-tesseract-cache/hello:${String(contextHash.value).slice(0, 16)}`),
    undefined,
  );
  // the runtime base image: this stack's holder tag is gone, and the image with it unless another
  // stack on this shared engine holds it
  const holders = (await docker.listImages({ label: ["pulumi-tesseract.runtime"] })).flatMap((i) =>
    (i.RepoTags ?? []).filter((t) => t.startsWith("pulumi-tesseract-runtime-holder/hello:")),
  );
  assert.ok(!holders.includes(runtimeHolder), `${runtimeHolder} is removed`);
  // (build stages inherit the runtime's labels: only the runtime images themselves are judged)
  for (const img of await docker.listImages({ label: ["pulumi-tesseract.runtime"] })) {
    const tags = img.RepoTags ?? [];
    if (!tags.some((t) => t.startsWith("pulumi-tesseract-runtime:"))) continue;
    assert.ok(
      tags.some((t) => t.startsWith("pulumi-tesseract-runtime-holder/")),
      `a runtime image no one holds is left: ${tags.join(",")}`,
    );
  }
  process.stderr.write(`e2e timings (ms): ${JSON.stringify(timings)}\n`);
});

void pulumi;
