/**
 * Drift of collected task groups, through the provider implementation (check → create → read →
 * diff → update), against a real fractal-server (the selected version of the matrix) and the local
 * backend: a venv deleted by hand, a package version changed by hand in the venv, a task changed by
 * hand (server: `PATCH /api/v2/task/{id}/`; local: the installed manifest edited). `read` reports each
 * in `drift`, `diff` asks for an update, `update` repairs it, and the venv's `pip freeze --all` is
 * again the one recorded at collection.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FractalClient } from "../../provider/fractal/client";
import { freezeDiff, pipFreeze } from "../../provider/fractal/drift";
import {
  check,
  create,
  diff,
  read,
  remove,
  type TaskGroupOutputs,
  update,
} from "../../provider/resources/task-group-impl";
import {
  buildFixtureWheel,
  type FractalServerInfo,
  purgeServerGroups,
  removeDir,
  startFractalServer,
  tempTasksDir,
} from "../helpers/fractal-server";

process.env.PULUMI_TESSERACT_QUIET = "1";
const PKG = "pt-fractal-tasks";

/** read → the refreshed props (asserting the group is still there). */
async function refreshed(id: string, o: TaskGroupOutputs): Promise<TaskGroupOutputs> {
  const r = await read(id, o);
  assert.equal(r.id, id, "the group is still there");
  return r.props as TaskGroupOutputs;
}

/** diff + update, as `pulumi up` after a refresh does; returns the new outputs. */
async function up(id: string, olds: TaskGroupOutputs, inputs: never): Promise<TaskGroupOutputs> {
  const d = await diff(id, olds, inputs);
  assert.equal(d.changes, true, "drift makes a change");
  assert.deepEqual(d.replaces ?? [], [], "repaired in place");
  return (await update(id, olds, inputs)).outs as TaskGroupOutputs;
}

async function sameFreeze(o: TaskGroupOutputs): Promise<void> {
  const now = await pipFreeze(o.venvPath as string);
  assert.ok(now, "pip freeze runs in the venv");
  assert.deepEqual(freezeDiff(o.envInfo as string, now as string), [], "the venv is the recorded freeze again");
}

function pipInstall(venv: string, spec: string): void {
  execFileSync(path.join(venv, "bin", "python"), ["-m", "pip", "install", "-q", "--no-deps", spec], {
    stdio: "pipe",
    timeout: 300_000,
    env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
  });
}

describe("TaskGroup drift (real fractal-server + local backend)", { timeout: 1_200_000 }, () => {
  let info: FractalServerInfo;
  let wheel: string;
  const tasksDir = tempTasksDir();

  before(async () => {
    info = startFractalServer();
    wheel = buildFixtureWheel();
    await purgeServerGroups(info, [PKG]);
  });
  after(async () => {
    await purgeServerGroups(info, [PKG]).catch(() => undefined);
    removeDir(tasksDir);
  });

  for (const backend of ["server", "local"] as const) {
    it(`${backend}: venv deleted, package version changed, task changed → read reports, update repairs`, async () => {
      const where =
        backend === "server"
          ? { server: { url: info.url, email: info.email, password: info.password } }
          : { backend: "local", tasksDir };
      const c = await check({}, { pip: { wheelFile: wheel }, ...where });
      assert.deepEqual(c.failures ?? [], []);
      const inputs = c.inputs as never;
      const { id, outs } = await create(inputs);
      let o = outs as TaskGroupOutputs;
      try {
        assert.match(o.envInfo ?? "", /pt-fractal-tasks @ file:/, "the collection's freeze is recorded");
        assert.equal((await refreshed(id, o)).drift, undefined, "no drift right after the collection");

        // 1. The venv deleted by hand.
        removeDir(o.venvPath as string);
        let r = await refreshed(id, o);
        assert.deepEqual(
          r.drift?.map((d) => [d.what, d.repair]),
          [["venv", "reinstall"]],
          JSON.stringify(r.drift),
        );
        o = await up(id, r, inputs);
        assert.equal(o.active, true);
        await sameFreeze(o);
        assert.equal((await refreshed(id, o)).drift, undefined, "repaired");

        // 2. One package version changed by hand in the venv.
        pipInstall(o.venvPath as string, "setuptools==70.0.0");
        r = await refreshed(id, o);
        assert.equal(r.drift?.length, 1, JSON.stringify(r.drift));
        assert.equal(r.drift?.[0].what, "freeze");
        assert.match(r.drift?.[0].detail ?? "", /setuptools==[\d.]+ → setuptools==70\.0\.0/);
        o = await up(id, r, inputs);
        await sameFreeze(o);

        // 3. A task changed by hand.
        if (backend === "server") {
          const client = new FractalClient(info);
          const g = await client.taskGroup(o.taskGroupId as number);
          const t = g?.task_list.find((x) => x.name === o.tasks[0].name);
          await client.call("PATCH", `/api/v2/task/${t?.id}/`, { json: { category: "Changed By Hand" } });
          r = await refreshed(id, o);
          assert.deepEqual(
            r.drift?.map((d) => d.repair),
            ["patch-tasks"],
            JSON.stringify(r.drift),
          );
          assert.match(r.drift?.[0].detail ?? "", /category is "Changed By Hand"/);
          o = await up(id, r, inputs);
          const back = (await client.taskGroup(o.taskGroupId as number))?.task_list.find((x) => x.id === t?.id);
          assert.equal(back?.category ?? undefined, o.tasks[0].category, "the category is patched back");
        } else {
          const root = path.dirname((o.tasks[0].commandNonParallel ?? o.tasks[0].commandParallel ?? "").split(" ")[1]);
          const manifest = path.join(root, "__FRACTAL_MANIFEST__.json");
          const m = JSON.parse(readFileSync(manifest, "utf8"));
          m.task_list[0].category = "Changed By Hand";
          writeFileSync(manifest, JSON.stringify(m));
          r = await refreshed(id, o);
          assert.deepEqual(
            r.drift?.map((d) => [d.what, d.repair]),
            [["tasks", "reinstall"]],
            JSON.stringify(r.drift),
          );
          o = await up(id, r, inputs);
          assert.notEqual(JSON.parse(readFileSync(manifest, "utf8")).task_list[0].category, "Changed By Hand");
        }
        assert.equal((await refreshed(id, o)).drift, undefined, "all repaired");
      } finally {
        await remove(id, o);
      }
    });
  }
});
