/**
 * Two stacks of the root stack (index.ts at the repository root, the program a user's `pulumi up`
 * runs there) side by side on one Docker engine and one home folder: both up and healthy at once
 * (same images, their own containers, free host ports, their own task folders); destroying one
 * leaves the other working (called again, and a preview wants no change: its images were not
 * taken away); destroying the other leaves nothing of either.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { holderTagFor, isHolderTag } from "../../provider/build/holders";
import { DockerClient } from "../../provider/docker";
import { apply } from "../../provider/functions";
import { ownProgram } from "../../scripts/program";
import { createTestStack, REPO_ROOT, type TestStack } from "../helpers/stack";

// One engine, named: on a loaded machine the socket discovery's 3 s ping can time out while the
// engine is busy with the other stack's builds (the engine is the same either way).
process.env.DOCKER_HOST ||= "unix:///var/run/docker.sock";
const docker = new DockerClient();
const stacks: TestStack[] = [];
const NAMES = ["hello", "vectoradd", "packaged", "calculus"] as const;

after(async () => {
  for (const ts of stacks) await ts.dispose();
  await docker.close();
});

async function stackObjects(stackName: string) {
  const label = { label: [`pulumi-tesseract.stack=${stackName}`] };
  return {
    containers: (await docker.listContainers(label, true)).map((c) => c.Names[0]),
    networks: (await docker.listNetworks(label)).map((n) => n.Name),
    volumes: (await docker.listVolumes(label)).map((v) => v.Name),
  };
}

interface Up {
  ts: TestStack;
  out: Record<string, any>;
}

async function upRoot(name: string): Promise<Up> {
  const program = ownProgram(REPO_ROOT);
  const ts = await createTestStack(name, async () => {
    delete require.cache[program];
    return { ...require(program) };
  });
  stacks.push(ts);
  const up = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
  assert.equal(up.summary.result, "succeeded");
  return { ts, out: Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value])) };
}

/** The holder tag of one of the stack's images (what the provider derives from the image's URN). */
function holderOf(ts: TestStack, name: string): string {
  const urn = `urn:pulumi:${ts.stack.name}::pulumi-tesseract-tests::pulumi-nodejs:dynamic/tesseract:TesseractImage::${name}`;
  return holderTagFor(name, urn) as string;
}

async function greet(url: string, who: string): Promise<unknown> {
  return (await apply({ url, inputs: { name: who } })).outputs;
}

test("two root stacks on one engine and home folder: both work, each destroys only its own", {
  timeout: 60 * 60_000,
}, async () => {
  const a = await upRoot("two-a");
  const b = await upRoot("two-b");

  // Both healthy at once, each with its own containers, ports and task folder.
  const urlsA = a.out.urls as { hello: string; calculus: string[] };
  const urlsB = b.out.urls as { hello: string; calculus: string[] };
  assert.notEqual(urlsA.hello, urlsB.hello);
  assert.deepEqual(await greet(urlsA.hello, "a"), { greeting: "Hello, a!" });
  assert.deepEqual(await greet(urlsB.hello, "b"), { greeting: "Hello, b!" });
  assert.equal((await stackObjects(a.ts.stack.name)).containers.length, 5);
  assert.equal((await stackObjects(b.ts.stack.name)).containers.length, 5);
  const venvA = a.out.fractalVenv as string;
  const venvB = b.out.fractalVenv as string;
  assert.notEqual(venvA, venvB, "each stack collects into its own task folder");
  assert.ok(venvA.includes(`${path.sep}${a.ts.stack.name}${path.sep}`), venvA);
  assert.ok(existsSync(path.join(venvA, "bin", "python")) && existsSync(path.join(venvB, "bin", "python")));

  // One image per Tesseract, held by both stacks: B's up took A's images and built nothing.
  assert.deepEqual(a.out.imageNames, b.out.imageNames);
  const imageIds: string[] = [];
  for (const [i, name] of NAMES.entries()) {
    const heldA = await docker.inspectImage(holderOf(a.ts, name));
    const heldB = await docker.inspectImage(holderOf(b.ts, name));
    assert.ok(heldA && heldB, `both holder tags exist for ${name}`);
    assert.equal(heldA.Id, heldB.Id, `${name}: both stacks hold one image`);
    const tagged = await docker.inspectImage((b.out.imageNames as string[])[i]);
    assert.equal(tagged?.Id, heldB.Id, `${name}'s tags are on it`);
    imageIds.push(heldB.Id);
  }
  const reused = b.ts.output.join("").match(/reused [0-9a-f]{12}, built earlier/g) ?? [];
  assert.equal(reused.length >= NAMES.length, true, `B's up reused the ${NAMES.length} images: ${reused.length}`);

  // Destroy A: B keeps working, and nothing of it needs redoing.
  const destroyA = await a.ts.stack.destroy({ onOutput: (s) => a.ts.output.push(s) });
  assert.equal(destroyA.summary.result, "succeeded");
  assert.deepEqual(await stackObjects(a.ts.stack.name), { containers: [], networks: [], volumes: [] });
  assert.equal(existsSync(path.dirname(venvA)), false, "A's task group folder is removed");
  assert.equal(existsSync(path.dirname(path.dirname(path.dirname(venvA)))), false, "with A's stack folder");
  assert.deepEqual(await greet(urlsB.hello, "b again"), { greeting: "Hello, b again!" });
  assert.ok(existsSync(path.join(venvB, "bin", "python")), "B's task group stays");
  for (const [i, name] of NAMES.entries()) {
    const info = await docker.inspectImage((b.out.imageNames as string[])[i]);
    assert.equal(info?.Id, imageIds[i], `${name} keeps its tags for B`);
    assert.equal(await docker.inspectImage(holderOf(a.ts, name)), undefined, `A's holder tag on ${name} is gone`);
  }
  const preview = await b.ts.stack.preview({ onOutput: (s) => b.ts.output.push(s) });
  assert.deepEqual(
    Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0),
    [],
    "B's preview wants no change after A's destroy",
  );

  // Destroy B: nothing of either is left.
  const destroyB = await b.ts.stack.destroy({ onOutput: (s) => b.ts.output.push(s) });
  assert.equal(destroyB.summary.result, "succeeded");
  assert.deepEqual(await stackObjects(b.ts.stack.name), { containers: [], networks: [], volumes: [] });
  assert.equal(existsSync(path.dirname(path.dirname(path.dirname(venvB)))), false, "B's stack folder is removed");
  for (const [i, name] of NAMES.entries()) {
    const info = await docker.inspectImage(imageIds[i]);
    const holders = (info?.RepoTags ?? []).filter(isHolderTag);
    assert.ok(!holders.includes(holderOf(b.ts, name)), `B's holder tag on ${name} is gone`);
    // Its tags go with the last holder (the image too, unless a container outside this test runs
    // it); another resource outside this test holding the same image keeps them.
    const ours = [(b.out.imageNames as string[])[i], `${name}:latest`];
    if (info && holders.length === 0)
      assert.deepEqual(
        (info.RepoTags ?? []).filter((t) => ours.includes(t)),
        [],
        `${name}'s tags removed with its last holder`,
      );
  }
});
