/**
 * `pulumi import tesseract:index:TaskGroup <name> <taskGroupId>` with the real CLI and the YAML
 * language host against the test fractal-server: `testing-tasks-mock==0.1.5` collected on the server
 * outside Pulumi (the package's own ServerBackend) is adopted by its numeric ID, the code
 * `pulumi import` generates becomes the program, `preview` shows no changes, and `destroy` removes
 * the group from the server. An ID the server does not have is "does not exist".
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Progress } from "../../provider/common/log";
import type { CheckedInputs } from "../../provider/fractal/backend";
import { FractalClient } from "../../provider/fractal/client";
import { ServerBackend } from "../../provider/fractal/server-backend";
import { type FractalServerInfo, startFractalServer } from "../helpers/fractal-server";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";

const PROJECT = "pt-plugin-import-stg";
const project = new CliProject(PROJECT, `import-stg-${process.pid}`);
const HEADER = `name: ${PROJECT}\nruntime: yaml\n`;
let server: FractalServerInfo;
let groupId = 0;

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  server = startFractalServer();
  const inputs = {
    pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
    backend: "server",
    active: true,
    server: { url: server.url, email: server.email, password: server.password },
  } as CheckedInputs;
  const outs = await new ServerBackend().collect(inputs, new Progress("import test collection", [server.password]));
  groupId = outs.taskGroupId as number;
  project.write("Pulumi.yaml", HEADER);
  await project.ok(["stack", "init", project.stack]);
  await project.ok(["config", "set", "tesseract:fractalUrl", server.url]);
  await project.ok(["config", "set", "tesseract:fractalEmail", server.email]);
  await project.ok(["config", "set", "--secret", "tesseract:fractalPassword", server.password]);
});

after(async () => {
  await project.dispose();
  // Only when a test failed before destroy: the group collected here must not stay behind.
  if (groupId && (await new FractalClient(server).taskGroup(groupId)))
    await new ServerBackend().remove(
      { taskGroupId: groupId, server } as never,
      new Progress("import test cleanup", [server.password]),
    );
});

describe("pulumi import of a server TaskGroup by ID (real CLI, YAML)", { timeout: 1_800_000 }, () => {
  it("an ID the server does not have is not found", async () => {
    const missing = await project.run(["import", "tesseract:index:TaskGroup", "tasks", "987654321", "--yes"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.all, /does not exist/);
  });

  it("imports by task group ID, then preview with the generated code shows no changes", async () => {
    assert.ok(groupId > 0);
    const gen = path.join(project.dir, "imported.yaml");
    await project.ok([
      "import",
      "tesseract:index:TaskGroup",
      "tasks",
      String(groupId),
      "--yes",
      "--protect=false",
      "--out",
      gen,
    ]);
    const code = readFileSync(gen, "utf8");
    assert.match(code, /type: tesseract:(index:)?TaskGroup/);
    assert.match(code, /testing-tasks-mock/);
    project.write("Pulumi.yaml", HEADER + code);
    const preview = await project.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(preview.code, 0, preview.all);
    const state = JSON.parse((await project.ok(["stack", "export", "--show-secrets"])).stdout);
    const res = state.deployment.resources.find((r: { type: string }) => r.type === "tesseract:index:TaskGroup");
    assert.equal(res.outputs.taskGroupId, groupId);
    assert.equal(res.outputs.serverUrl, server.url);
    assert.ok(res.outputs.tasks.length > 0, "the tasks were read from the server");
    assert.equal(JSON.stringify(res.outputs).includes(server.password), false, "no password in the state");
  });

  it("destroy removes the imported group from the server", async () => {
    await project.ok(["destroy", "--yes"]);
    assert.equal(await new FractalClient(server).taskGroup(groupId), undefined);
  });
});
