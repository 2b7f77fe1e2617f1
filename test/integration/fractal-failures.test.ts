/**
 * TaskGroup failure paths against a real fractal-server and the local backend, through the
 * provider implementation (check → create): package or version that does not exist, a collection
 * that fails mid-way (post-pin that cannot be installed, invalid manifest, missing manifest), step
 * timeouts, adoption of an identical existing group and refusal of a different one, re-login on 401.
 * Each failure must leave no group on the server and no folder locally.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FractalClient } from "../../provider/fractal/client";
import { check, create, remove, type TaskGroupOutputs } from "../../provider/resources/task-group-impl";
import {
  buildFixtureWheel,
  buildVariantWheel,
  type FractalServerInfo,
  listTree,
  purgeServerGroups,
  removeDir,
  serverTaskGroups,
  startFractalServer,
  tempTasksDir,
} from "../helpers/fractal-server";

process.env.PULUMI_TESSERACT_QUIET = "1";

async function checked(news: Record<string, unknown>) {
  const r = await check({}, news);
  assert.deepEqual(r.failures ?? [], [], "check passes");
  return r.inputs as never;
}

describe("TaskGroup failures (real fractal-server + local backend)", { timeout: 900_000 }, () => {
  let info: FractalServerInfo;
  let server: { url: string; email: string; password: string };
  let wheel: string;
  let badManifestWheel: string;
  let noManifestWheel: string;
  const tasksDir = tempTasksDir();
  const PKGS = ["pt-fractal-tasks", "testing-tasks-mock", "pt-no-such-package-zz9"];

  before(async () => {
    info = startFractalServer();
    server = { url: info.url, email: info.email, password: info.password };
    wheel = buildFixtureWheel();
    badManifestWheel = buildVariantWheel({
      version: "0.0.8",
      editManifest: (m) => ({ ...m, manifest_version: "9999" }),
    });
    noManifestWheel = buildVariantWheel({ version: "0.0.7", dropManifest: true });
    await purgeServerGroups(info, PKGS);
  });

  after(async () => {
    await purgeServerGroups(info, PKGS).catch(() => undefined);
    removeDir(tasksDir);
  });

  const noServerTrace = async (pkg: string) => {
    const left = (await serverTaskGroups(info)).filter((g) => g.pkg_name === pkg);
    assert.deepEqual(left, [], `no ${pkg} group left on the server`);
  };
  const noLocalTrace = () => assert.deepEqual(listTree(tasksDir), [], "no folder left locally");

  describe("server backend", () => {
    it("package that does not exist", async () => {
      await assert.rejects(
        create(await checked({ pip: { package: "pt-no-such-package-zz9" }, server })),
        /422.*pt-no-such-package-zz9|pt-no-such-package-zz9.*422/s,
      );
      await noServerTrace("pt-no-such-package-zz9");
    });
    it("version that does not exist", async () => {
      await assert.rejects(
        create(await checked({ pip: { package: "testing-tasks-mock", packageVersion: "99.1" }, server })),
        /No version starting with 99\.1/,
      );
      await noServerTrace("testing-tasks-mock");
    });
    it("collection that fails mid-way (post-pin cannot be installed): log tail in the error, group removed", async () => {
      await assert.rejects(
        create(
          await checked({
            pip: { wheelFile: wheel, pinnedPackageVersionsPost: { "pt-no-such-package-zz9": "1.0" } },
            server,
          }),
        ),
        (err: Error) => {
          assert.match(err.message, /collection:.*failed \(activity \d+\)/);
          assert.match(err.message, /activity log \(tail\)/);
          assert.match(err.message, /pt-no-such-package-zz9/);
          return true;
        },
      );
      await noServerTrace("pt-fractal-tasks");
      assert.ok(!existsSync(path.join(info.tasksDir, "1", "pt-fractal-tasks", "0.1.0")), "server removed the folder");
    });
    it("invalid manifest inside the wheel", async () => {
      await assert.rejects(create(await checked({ pip: { wheelFile: badManifestWheel }, server })), /manifest_version/);
      await noServerTrace("pt-fractal-tasks");
    });
    it("adopts an identical existing group, refuses a different one", async () => {
      const first = await create(await checked({ pip: { wheelFile: wheel }, server }));
      try {
        const again = await create(await checked({ pip: { wheelFile: wheel }, server }));
        assert.equal(again.outs.taskGroupId, first.outs.taskGroupId, "adopted");
        await assert.rejects(
          create(await checked({ pip: { wheelFile: wheel, packageExtras: "extra" }, server })),
          /already owns task group \d+ .*different settings.*pip_extras/,
        );
      } finally {
        await remove(first.id, first.outs as TaskGroupOutputs);
      }
      await noServerTrace("pt-fractal-tasks");
    });
    it("logs in again when the token is rejected (401)", async () => {
      const client = new FractalClient(server);
      await client.login();
      (client as unknown as { token: string }).token = "expired.or.garbage";
      const me = await client.currentUser();
      assert.equal(me.email, info.email);
    });
    it("wrong password: clear error", async () => {
      await assert.rejects(
        create(await checked({ pip: { wheelFile: wheel }, server: { ...server, password: "wrong-password" } })),
        /refused the login/,
      );
    });
  });

  describe("local backend", () => {
    const local = { backend: "local", tasksDir };
    it("package that does not exist", async () => {
      await assert.rejects(
        create(await checked({ pip: { package: "pt-no-such-package-zz9" }, ...local })),
        /does not exist on the package index/,
      );
      noLocalTrace();
    });
    it("version that does not exist", async () => {
      await assert.rejects(
        create(await checked({ pip: { package: "testing-tasks-mock", packageVersion: "99.1" }, ...local })),
        /no version of 'testing-tasks-mock' starting with '99\.1'/,
      );
      noLocalTrace();
    });
    it("collection that fails mid-way: folder removed, log tail in the error", async () => {
      await assert.rejects(
        create(
          await checked({
            pip: { wheelFile: wheel, pinnedPackageVersionsPost: { "pt-no-such-package-zz9": "1.0" } },
            ...local,
          }),
        ),
        /install post-pinned pt-no-such-package-zz9==1\.0 failed[\s\S]*activity log \(tail\)/,
      );
      noLocalTrace();
    });
    it("invalid manifest and missing manifest", async () => {
      await assert.rejects(
        create(await checked({ pip: { wheelFile: badManifestWheel }, ...local })),
        /invalid manifest .*manifest_version/,
      );
      noLocalTrace();
      await assert.rejects(
        create(await checked({ pip: { wheelFile: noManifestWheel }, ...local })),
        /manifest path not found/,
      );
      noLocalTrace();
    });
    it("step timeout", async () => {
      await assert.rejects(
        create(await checked({ pip: { wheelFile: wheel }, ...local, stepTimeoutSeconds: 0.2 })),
        /timed out after/,
      );
      noLocalTrace();
    });
    it("custom: interpreter that does not exist, package name that cannot be found", async () => {
      const manifest = { manifest_version: "2", task_list: [{ name: "a", executable_non_parallel: "a.py" }] };
      await assert.rejects(
        create(
          await checked({
            custom: { manifest, pythonInterpreter: "/no/such/python", label: "x", packageRoot: "/tmp", version: "1.0" },
            ...local,
          }),
        ),
        /not an executable file/,
      );
      await assert.rejects(
        create(
          await checked({
            custom: {
              manifest,
              pythonInterpreter: process.execPath.replace(/node$/, "node"),
              label: "x",
              packageName: "no_such_mod_zz9",
              version: "1.0",
            },
            ...local,
          }),
        ),
        /cannot determine the package root/,
      );
    });
  });
});
