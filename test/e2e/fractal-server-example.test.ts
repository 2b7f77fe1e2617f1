/**
 * examples/fractal-server through the real engine against the test fractal-server: the index
 * package collected by the server (password as a secret in stack config) and locally; destroy
 * leaves no group on the server and no local task folder.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { ownProgram } from "../../scripts/program";
import { purgeServerGroups, REPO_ROOT, serverTaskGroups, startFractalServer } from "../helpers/fractal-server";
import { createTestStack, type TestStack } from "../helpers/stack";

const PKG = "testing-tasks-mock";
let ts: TestStack | undefined;

after(async () => {
  await ts?.dispose();
});

test("examples/fractal-server: up on the server and locally, destroy leaves no trace", {
  timeout: 15 * 60_000,
}, async () => {
  const server = startFractalServer();
  await purgeServerGroups(server, [PKG]);
  // The program a user's `pulumi up` runs in that folder (fails if that is not its index.ts).
  const program = ownProgram(path.join(REPO_ROOT, "examples", "fractal-server"));
  ts = await createTestStack(
    "fractal-example",
    async () => {
      delete require.cache[program];
      return { ...require(program) };
    },
    {
      "fractal:url": { value: server.url },
      "fractal:email": { value: server.email },
      "fractal:password": { value: server.password, secret: true },
    },
  );
  const up = await ts.stack.up({ onOutput: (s) => ts?.output.push(s) });
  const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
  assert.ok((out.serverTasks as string[]).length > 0, JSON.stringify(out));
  assert.ok(
    (out.localCommands as string[]).every((c) => c.includes("/venv/bin/python ")),
    JSON.stringify(out),
  );
  assert.ok(existsSync(out.localVenv as string));
  assert.ok((await serverTaskGroups(server)).some((g) => g.id === out.serverTaskGroupId));
  assert.ok(!ts.output.join("").includes(server.password), "the password never reaches pulumi's output");

  await ts.stack.destroy({ onOutput: (s) => ts?.output.push(s) });
  assert.equal((await serverTaskGroups(server)).filter((g) => g.pkg_name === PKG).length, 0);
  assert.equal(existsSync(path.dirname(out.localVenv as string)), false, "the local version folder is removed");
});
