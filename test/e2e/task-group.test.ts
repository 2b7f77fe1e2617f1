/**
 * TaskGroup through the real Pulumi engine (Automation API, file backend) against a real
 * fractal-server on PostgreSQL (scripts/fractal-server.sh) and the local backend:
 * collect the fixture wheel on the server (provider config, password as a secret) and locally,
 * compare task lists, deactivate, reactivate, refresh, destroy; collect a real index package and
 * a custom environment with a per-resource `server`; the server ends with no trace of the groups
 * and the password never appears in plain text in `pulumi stack export`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { FractalClient } from "../../provider/fractal/client";
import { TaskGroup } from "../../provider/resources/task-group";
import {
  buildFixtureWheel,
  type FractalServerInfo,
  fractalServerVersion,
  fractalStackConfig,
  listTree,
  purgeServerGroups,
  REPO_ROOT,
  removeDir,
  serverTaskGroups,
  startFractalServer,
  tempTasksDir,
} from "../helpers/fractal-server";
import { createTestStack, type TestStack } from "../helpers/stack";

const FIXTURE_PKG = "pt-fractal-tasks";
const INDEX_PKG = "testing-tasks-mock";
const INDEX_VERSION = "0.1.5";
const CUSTOM_LABEL = "pt-custom-tasks";

function build(): void {
  // Shims load lib/: compile first (type errors elsewhere in the repo do not block emit).
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "pipe", timeout: 300_000 });
  } catch {
    // emitted anyway; the tests below fail loudly if lib/ is unusable
  }
}

interface Summary {
  name: string;
  type: string;
  argsSchemaNonParallel?: unknown;
  argsSchemaParallel?: unknown;
  inputTypes: unknown;
  outputTypes: unknown;
  category?: string;
  tags: string[];
}
/** `pulumi stack export` as a user runs it (the Automation API's exportStack adds --show-secrets). */
function stackExport(ts: TestStack): string {
  return execFileSync("pulumi", ["stack", "export", "--stack", ts.stack.name], {
    cwd: ts.stack.workspace.workDir,
    encoding: "utf8",
    timeout: 60_000,
  });
}

const summary = (tasks: Summary[]) =>
  tasks.map((t) => ({
    name: t.name,
    type: t.type,
    argsSchemaNonParallel: t.argsSchemaNonParallel,
    argsSchemaParallel: t.argsSchemaParallel,
    inputTypes: t.inputTypes,
    outputTypes: t.outputTypes,
    category: t.category,
    tags: t.tags,
  }));

describe("TaskGroup e2e (real engine, real fractal-server)", { timeout: 1_500_000 }, () => {
  let info: FractalServerInfo;
  let wheel: string;
  const tasksDir = tempTasksDir();
  const stacks: TestStack[] = [];

  before(async () => {
    build();
    info = startFractalServer();
    // The server runs the venv's fractal-server (2.24.4 with Python >= 3.12, else 2.18.5).
    assert.equal((await new FractalClient(info).alive()).version, fractalServerVersion());
    wheel = buildFixtureWheel();
    await purgeServerGroups(info, [FIXTURE_PKG, INDEX_PKG, CUSTOM_LABEL]);
  });

  after(async () => {
    for (const s of stacks) await s.dispose();
    await purgeServerGroups(info, [FIXTURE_PKG, INDEX_PKG, CUSTOM_LABEL]).catch(() => undefined);
    removeDir(tasksDir);
  });

  it("wheel on the server (provider config) and locally: same tasks; deactivate, reactivate, destroy", async () => {
    let active = true;
    const program = async () => {
      const server = new TaskGroup("server-wheel", { pip: { wheelFile: wheel }, active });
      const local = new TaskGroup("local-wheel", { pip: { wheelFile: wheel }, active, backend: "local", tasksDir });
      return {
        serverId: server.taskGroupId,
        serverTasks: server.tasks,
        serverActive: server.active,
        serverPath: server.path,
        localTasks: local.tasks,
        localActive: local.active,
        localVenv: local.venvPath,
        localPath: local.path,
      };
    };
    const ts = await createTestStack("fractal-wheel", program, fractalStackConfig(info));
    stacks.push(ts);
    const up1 = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
    const o = up1.outputs;
    assert.equal(o.serverActive.value, true);
    assert.equal(o.serverTasks.value.length, 2);
    assert.deepEqual(
      summary(o.localTasks.value),
      summary(o.serverTasks.value),
      "local backend yields the same task list",
    );
    assert.ok(existsSync(o.localVenv.value), "local venv exists");
    const groups = await serverTaskGroups(info);
    const g = groups.find((x) => x.id === o.serverId.value);
    assert.ok(g && g.pkg_name === FIXTURE_PKG && g.version === "0.1.0" && g.active, "server has the group");
    assert.ok(ts.output.join("").includes("collect"), "progress reached the engine");

    // The password is a secret: never in plain text in the exported state.
    const exported = stackExport(ts);
    assert.ok(exported.includes("ciphertext"), "secrets are encrypted in state");
    assert.ok(!exported.includes(info.password), "password in plain text in stack export");

    // Deactivate both (in place: no replacement).
    active = false;
    const up2 = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
    assert.equal(up2.summary.resourceChanges?.update, 2, JSON.stringify(up2.summary.resourceChanges));
    assert.equal(up2.outputs.serverId.value, o.serverId.value, "same server group");
    assert.equal(up2.outputs.serverActive.value, false);
    assert.equal(up2.outputs.localActive.value, false);
    assert.ok(!existsSync(o.localVenv.value), "local venv removed");
    assert.ok(existsSync(path.join(o.localPath.value, "pip_freeze.txt")), "freeze kept");
    assert.ok(!existsSync(path.join(o.serverPath.value, "venv")), "server venv removed");
    const g2 = (await serverTaskGroups(info)).find((x) => x.id === o.serverId.value);
    assert.equal(g2?.active, false);

    // Reactivate both.
    active = true;
    const up3 = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
    assert.equal(up3.outputs.serverActive.value, true);
    assert.equal(up3.outputs.localActive.value, true);
    assert.ok(existsSync(o.localVenv.value));

    // Refresh sees no drift; then drift: remove the local venv behind Pulumi's back.
    removeDir(o.localVenv.value);
    const ref = await ts.stack.refresh({ onOutput: (s) => ts.output.push(s) });
    assert.equal(
      ref.summary.resourceChanges?.update,
      1,
      `refresh detects the missing venv: ${JSON.stringify(ref.summary.resourceChanges)}`,
    );
    const up4 = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
    assert.equal(up4.outputs.localActive.value, true);
    assert.ok(existsSync(o.localVenv.value), "up reinstalled the venv");

    await ts.stack.destroy({ onOutput: (s) => ts.output.push(s) });
    assert.equal(
      (await serverTaskGroups(info)).filter((x) => x.pkg_name === FIXTURE_PKG).length,
      0,
      "no group left on the server",
    );
    assert.ok(!existsSync(o.serverPath.value), "server folder removed");
    assert.deepEqual(listTree(tasksDir), [], "no local folder left");
  });

  it("index package and custom environment with a per-resource server (secret), then destroy", async () => {
    const customRoot = path.join(REPO_ROOT, "test/helpers/fixtures/fractal-tasks/src/pt_fractal_tasks");
    const program = async () => {
      const server = { url: info.url, email: info.email, password: pulumi.secret(info.password) };
      const idx = new TaskGroup("index-pkg", {
        pip: { package: INDEX_PKG, packageVersion: INDEX_VERSION, pythonVersion: "3.11" },
        server,
        privateGroup: true,
      });
      const custom = new TaskGroup("custom-env", {
        custom: {
          manifest: path.join(customRoot, "__FRACTAL_MANIFEST__.json"),
          pythonInterpreter: path.join(process.env.PULUMI_TESSERACT_VENV as string, "bin", "python"),
          label: CUSTOM_LABEL,
          packageRoot: customRoot,
          version: "0.1.0",
        },
        server,
      });
      return {
        idxTasks: idx.tasks,
        idxVersion: idx.version,
        idxOrigin: idx.origin,
        customTasks: custom.tasks,
        customOrigin: custom.origin,
        idxId: idx.taskGroupId,
        customId: custom.taskGroupId,
      };
    };
    const ts = await createTestStack("fractal-index", program);
    stacks.push(ts);
    const up = await ts.stack.up({ onOutput: (s) => ts.output.push(s) });
    assert.equal(up.outputs.idxVersion.value, INDEX_VERSION);
    assert.equal(up.outputs.idxOrigin.value, "pypi");
    assert.deepEqual(
      up.outputs.idxTasks.value.map((t: Summary) => t.name),
      ["generic_task", "generic_task_parallel"],
    );
    assert.equal(up.outputs.customOrigin.value, "other");
    assert.deepEqual(
      up.outputs.customTasks.value.map((t: { commandNonParallel?: string }) =>
        Boolean(t.commandNonParallel?.endsWith("/create_zarr.py")),
      ),
      [true, false],
    );
    const exported = stackExport(ts);
    assert.ok(!exported.includes(info.password), "password in plain text in stack export");
    const state = JSON.parse(exported) as {
      deployment: { resources: { type: string; outputs?: { server?: unknown } }[] };
    };
    const tg = state.deployment.resources.find((r) => r.type.endsWith("TaskGroup") && r.outputs?.server);
    assert.ok(
      tg && JSON.stringify(tg.outputs?.server).includes("ciphertext"),
      "per-resource server stored as a secret",
    );
    await ts.stack.destroy({ onOutput: (s) => ts.output.push(s) });
    const left = (await serverTaskGroups(info)).filter((x) => x.pkg_name === INDEX_PKG || x.pkg_name === CUSTOM_LABEL);
    assert.deepEqual(left, [], "no group left on the server");
    assert.ok(!existsSync(path.join(info.tasksDir, "1", INDEX_PKG, INDEX_VERSION)), "no server folder left");
  });

  it("bad input fails at preview, naming field and character", async () => {
    const ts = await createTestStack("fractal-bad", async () => {
      new TaskGroup("bad", { pip: { package: "testing-tasks-mock; rm -rf /" }, backend: "local", tasksDir });
    });
    stacks.push(ts);
    await assert.rejects(ts.stack.preview(), (err: Error) => {
      assert.match(err.message, /pip\.package/);
      assert.match(err.message, /";"/);
      return true;
    });
  });
});
