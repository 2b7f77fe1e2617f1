/**
 * The main job end to end with the real engine on the file backend: `pulumi up` of the root stack
 * (index.ts: four example images, four services, calls from the stack, a local Fractal task
 * group), then `preview` shows no changes, `refresh` keeps everything, and `destroy` leaves no
 * container, network or volume of the stack and no task folder.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { DockerClient } from "../../provider/docker";
import { ownProgram } from "../../scripts/program";
import { createTestStack, REPO_ROOT, type TestStack } from "../helpers/stack";

const docker = new DockerClient();
let ts: TestStack | undefined;

after(async () => {
  await ts?.dispose();
  await docker.close();
});

async function stackObjects(stackName: string) {
  const label = { label: [`pulumi-tesseract.stack=${stackName}`] };
  return {
    containers: (await docker.listContainers(label)).map((c) => c.Names[0]),
    networks: (await docker.listNetworks(label)).map((n) => n.Name),
    volumes: (await docker.listVolumes(label)).map((v) => v.Name),
  };
}

test("root stack: up, no-change preview, refresh, destroy", { timeout: 40 * 60_000 }, async () => {
  // Each operation runs the program afresh, as `pulumi up` would: drop the cached module first.
  // The program a user's `pulumi up` runs in the root (fails if that is not its index.ts).
  const program = ownProgram(REPO_ROOT);
  ts = await createTestStack("root", async () => {
    delete require.cache[program];
    return { ...require(program) };
  });
  const { stack } = ts;
  const log = (s: string) => ts?.output.push(s);

  const up = await stack.up({ onOutput: log });
  assert.equal(up.summary.result, "succeeded");
  const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
  assert.deepEqual(out.greeting, { greeting: "Hello, pulumi!" });
  assert.deepEqual((out.vectoraddOutputs as { result: { data: number[] } }).result.data, [12, 24, 36]);
  const jac = out.jacobian as Record<string, Record<string, { shape: number[] }>>;
  assert.deepEqual(jac.result.a.shape, [3, 3]);
  assert.deepEqual(jac.norm.s.shape, []);
  assert.equal((out.urls as { calculus: string[] }).calculus.length, 2);
  assert.ok((out.fractalTaskNames as string[]).length > 0, JSON.stringify(out.fractalTaskNames));
  const venv = out.fractalVenv as string;
  assert.ok(existsSync(path.join(venv, "bin", "python")), venv);
  assert.ok(ts.output.join("").includes("building"), "build progress reaches pulumi's output");

  const preview = await stack.preview({ onOutput: log });
  const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  assert.deepEqual(changes, [], "a second preview shows no changes");

  const refresh = await stack.refresh({ onOutput: log });
  assert.equal(refresh.summary.result, "succeeded");
  // With the diff, so a failure says which resource wants what (seen once: 1 replace, 1 update).
  const againOut: string[] = [];
  const again = await stack.preview({ onOutput: (l) => againOut.push(l), diff: true });
  assert.deepEqual(
    Object.entries(again.changeSummary).filter(([op, n]) => op !== "same" && n > 0),
    [],
    `refresh keeps the declared state:\n${againOut.join("").slice(-6000)}`,
  );

  const stackName = stack.name;
  const before = await stackObjects(stackName);
  assert.equal(before.containers.length, 5, JSON.stringify(before));

  const destroy = await stack.destroy({ onOutput: log });
  assert.equal(destroy.summary.result, "succeeded");
  assert.deepEqual(await stackObjects(stackName), { containers: [], networks: [], volumes: [] });
  assert.equal(existsSync(path.dirname(venv)), false, "the task group's folder is removed");
});
