/**
 * Drift and preview checks of TaskGroup through the real Pulumi engine (Automation API, file
 * backend), against a real fractal-server (the selected version of the matrix) and the local backend:
 *  - the venv deleted by hand → `pulumi refresh` reports it (`drift` output) → `pulumi up` reinstalls
 *    it → the same `pip freeze`; one package version changed by hand → `refresh` reports it;
 *  - `pythonVersion: "3.9"` against the test server (which offers 3.11+) fails at `preview`, and the
 *    server receives no collection request.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { freezeDiff, pipFreeze } from "../../provider/fractal/drift";
import { TaskGroup } from "../../provider/resources/task-group";
import {
  buildFixtureWheel,
  type FractalServerInfo,
  fractalServerDir,
  fractalStackConfig,
  purgeServerGroups,
  REPO_ROOT,
  removeDir,
  startFractalServer,
  tempTasksDir,
} from "../helpers/fractal-server";
import { createTestStack, type TestStack } from "../helpers/stack";

const PKG = "pt-fractal-tasks";

function build(): void {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "pipe", timeout: 300_000 });
  } catch {
    // emitted anyway; the tests below fail loudly if lib/ is unusable
  }
}

describe("TaskGroup drift and preview checks (real engine, real fractal-server)", { timeout: 1_500_000 }, () => {
  let info: FractalServerInfo;
  let wheel: string;
  const tasksDir = tempTasksDir();
  const stacks: TestStack[] = [];

  before(async () => {
    build();
    info = startFractalServer();
    wheel = buildFixtureWheel();
    await purgeServerGroups(info, [PKG]);
  });
  after(async () => {
    for (const s of stacks) await s.dispose();
    await purgeServerGroups(info, [PKG]).catch(() => undefined);
    removeDir(tasksDir);
  });

  it("venv deleted by hand: refresh reports it, up reinstalls the same freeze; a changed package is reported", async () => {
    const program = async () => {
      const server = new TaskGroup("server", { pip: { wheelFile: wheel } });
      const local = new TaskGroup("local", { pip: { wheelFile: wheel }, backend: "local", tasksDir });
      return {
        serverVenv: server.venvPath,
        serverFreeze: server.envInfo,
        serverDrift: server.drift,
        localVenv: local.venvPath,
        localFreeze: local.envInfo,
        localDrift: local.drift,
      };
    };
    const ts = await createTestStack("fractal-drift", program, fractalStackConfig(info));
    stacks.push(ts);
    const on = { onOutput: (s: string) => ts.output.push(s) };
    const o = (await ts.stack.up(on)).outputs;
    for (const k of ["server", "local"]) {
      assert.match(o[`${k}Freeze`].value, /pt-fractal-tasks @ file:/, `${k}: freeze recorded`);
      assert.equal(o[`${k}Drift`]?.value, undefined);
    }

    // Both venvs deleted by hand.
    removeDir(o.serverVenv.value);
    removeDir(o.localVenv.value);
    const ref = await ts.stack.refresh(on);
    assert.equal(ref.summary.resourceChanges?.update, 2, JSON.stringify(ref.summary.resourceChanges));
    const afterRefresh = await ts.stack.exportStack();
    const drifts = afterRefresh.deployment.resources
      .filter((r: { type: string }) => r.type.endsWith("TaskGroup"))
      .map((r: { outputs: { drift?: { what: string }[] } }) => r.outputs.drift?.map((d) => d.what));
    assert.deepEqual(drifts, [["venv"], ["venv"]], "refresh reports both venvs gone");

    const up2 = await ts.stack.up(on);
    assert.equal(up2.summary.resourceChanges?.update, 2, JSON.stringify(up2.summary.resourceChanges));
    for (const k of ["server", "local"]) {
      const now = await pipFreeze(up2.outputs[`${k}Venv`].value);
      assert.ok(now, `${k}: venv reinstalled`);
      assert.deepEqual(freezeDiff(o[`${k}Freeze`].value, now as string), [], `${k}: same freeze`);
      assert.equal(up2.outputs[`${k}Drift`]?.value, undefined);
    }

    // One package version changed by hand in the local venv: refresh reports it.
    execFileSync(
      path.join(o.localVenv.value, "bin", "python"),
      ["-m", "pip", "install", "-q", "--no-deps", "setuptools==70.0.0"],
      { stdio: "pipe", timeout: 300_000, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } },
    );
    const ref2 = await ts.stack.refresh(on);
    assert.equal(ref2.summary.resourceChanges?.update, 1, JSON.stringify(ref2.summary.resourceChanges));
    const pre = await ts.stack.preview(on);
    assert.equal(pre.changeSummary.update, 1, "the next up repairs it");

    await ts.stack.destroy(on);
  });

  it('pythonVersion "3.9" fails at preview; the server sees no collection request', async () => {
    const log = path.join(fractalServerDir(), "server.log");
    const before = readFileSync(log, "utf8").length;
    const ts = await createTestStack(
      "fractal-py39",
      async () => {
        new TaskGroup("py39", { pip: { wheelFile: wheel, pythonVersion: "3.9" } });
      },
      fractalStackConfig(info),
    );
    stacks.push(ts);
    await assert.rejects(ts.stack.preview(), (err: Error) => {
      assert.match(err.message, /pip\.pythonVersion "3\.9"/);
      assert.match(err.message, /offers Python 3\.11, 3\.12, 3\.13/);
      return true;
    });
    const seen = readFileSync(log, "utf8").slice(before);
    assert.doesNotMatch(seen, /collect\/pip/, "no collection request reached the server");
  });
});
