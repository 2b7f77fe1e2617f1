/**
 * TaskGroup against every fractal-server of the test matrix (scripts/fractal-versions.txt: the newest
 * release and 2.24.x, each a real server on PostgreSQL from its own venv and database), through the
 * provider implementation's `check` / `create` / `read` / `remove`:
 *  - the version is read from `/api/alive/`; one test per API difference between the versions;
 *  - a `pythonVersion` the server's resource does not offer fails at `check`, and the server sees no
 *    collection request (superuser: read from the resource; a plain user: a probe that creates nothing);
 *  - pixi groups (inserted into the server's database as if collected through `/collect/pixi/` by
 *    someone else: no pixi binary here) read back with `origin: "pixi"`, adopted only on an exact
 *    match; creating one is refused at `check`;
 * and fractal-server 2.18.5 (the shared venv's) is refused at `check` with the supported range.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { FormData } from "undici";
import { FractalClient } from "../../provider/fractal/client";
import { featuresOf, SUPPORTED_RANGE, serverVersion } from "../../provider/fractal/server-version";
import { check, create, read, remove, type TaskGroupOutputs } from "../../provider/resources/task-group-impl";
import {
  type FractalServerInfo,
  fractalMatrix,
  fractalServerDir,
  purgeServerGroups,
  serverTaskGroups,
  startFractalServer,
} from "../helpers/fractal-server";

process.env.PULUMI_TESSERACT_QUIET = "1";

const PIXI_PKG = "pt-pixi-tasks";
const PIXI_VERSION = "1.2.3";

function serverLog(version: string): string {
  return readFileSync(path.join(fractalServerDir(version), "server.log"), "utf8");
}

function psql(version: string, sql: string): string {
  const env = readFileSync(path.join(fractalServerDir(version), ".fractal_server.env"), "utf8");
  const db = /^POSTGRES_DB=(.*)$/m.exec(env)?.[1] as string;
  const bin = execFileSync("bash", ["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1"], {
    encoding: "utf8",
  }).trim();
  return execFileSync(
    path.join(bin, "psql"),
    ["-h", "127.0.0.1", "-p", process.env.PULUMI_TESSERACT_PG_PORT ?? "55432", "-U", "postgres", "-d", db],
    { input: `\\set ON_ERROR_STOP 1\n${sql}`, encoding: "utf8", timeout: 30_000, stdio: ["pipe", "pipe", "pipe"] },
  ).trim();
}

async function failuresOf(news: Record<string, unknown>) {
  return (await check({}, news)).failures ?? [];
}

/** A verified plain user with the admin's profile (created once per server; idempotent). */
async function plainUser(info: FractalServerInfo): Promise<{ url: string; email: string; password: string }> {
  const admin = new FractalClient(info);
  const email = "pt-plain-user@example.org";
  const password = "pt-plain-user-password";
  const me = await admin.call<{ profile_id: number }>("GET", "/auth/current-user/");
  const users = await admin.call<{ id: number; email: string }[]>("GET", "/auth/users/");
  let user = users.find((u) => u.email === email);
  if (!user)
    user = await admin.call(
      "POST",
      "/auth/register/",
      {
        json: { email, password, project_dirs: ["/tmp/pt-plain-user"] },
      },
      [201],
    );
  await admin.call("PATCH", `/auth/users/${(user as { id: number }).id}/`, {
    json: { is_verified: true, profile_id: me.profile_id },
  });
  return { url: info.url, email, password };
}

for (const version of fractalMatrix()) {
  describe(`fractal-server ${version}`, { timeout: 600_000 }, () => {
    let info: FractalServerInfo;
    let server: { url: string; email: string; password: string };

    before(async () => {
      info = startFractalServer(version);
      server = { url: info.url, email: info.email, password: info.password };
      await purgeServerGroups(info, [PIXI_PKG]);
    });
    after(async () => {
      await purgeServerGroups(info, [PIXI_PKG]).catch(() => undefined);
    });

    it("the client reads the server version from /api/alive/ and supports it", async () => {
      assert.equal(await serverVersion(info.url), version);
      assert.equal(featuresOf(version).version, version);
      assert.deepEqual(await failuresOf({ pip: { package: "testing-tasks-mock" }, server }), []);
    });

    it("difference: python_version 3.15 exists only since 2.25.3", async () => {
      const f = await failuresOf({ pip: { package: "testing-tasks-mock", pythonVersion: "3.15" }, server });
      assert.equal(f.length, 1, JSON.stringify(f));
      assert.equal(f[0].property, "pip.pythonVersion");
      if (featuresOf(version).pythonVersionLiteral.includes("3.15")) {
        // The server knows 3.15, but this resource does not offer it.
        assert.match(f[0].reason, /offers Python 3\.11, 3\.12, 3\.13.*not 3\.15/);
      } else {
        assert.match(f[0].reason, new RegExp(`fractal-server ${version} accepts python_version .*3\\.14 only`));
      }
      // The server agrees: its form schema has (or lacks) 3.15.
      const openapi = await new FractalClient(info).call<Record<string, unknown>>("GET", "/openapi.json");
      assert.equal(
        JSON.stringify(openapi).includes('"3.15"'),
        featuresOf(version).pythonVersionLiteral.includes("3.15"),
      );
    });

    it("difference: /collect/pixi/ parses use_pixi_lockfile as a boolean (2.24) or as 'true'/'false' (2.26)", async () => {
      const client = new FractalClient(info);
      const form = () => {
        const f = new FormData();
        f.set("file", new Blob(["x"]), "pkg-1.0.tar.gz");
        f.set("use_pixi_lockfile", "1"); // a boolean to pydantic, not one of "true"/"false"
        return { form: f };
      };
      const body = await client.call<{ detail: unknown }>(
        "POST",
        "/api/v2/task/collect/pixi/?private=true",
        form,
        [422],
      );
      const detail = JSON.stringify(body.detail);
      if (featuresOf(version).pixiLockfileForm === "true-false") assert.match(detail, /use_pixi_lockfile/);
      else assert.match(detail, /Pixi task collection is not available/);
    });

    it('pythonVersion "3.9" fails at check; the server sees no collection request (superuser)', async () => {
      const before = serverLog(version).length;
      const f = await failuresOf({ pip: { package: "testing-tasks-mock", pythonVersion: "3.9" }, server });
      assert.equal(f.length, 1, JSON.stringify(f));
      assert.equal(f[0].property, "pip.pythonVersion");
      assert.match(f[0].reason, /offers Python 3\.11, 3\.12, 3\.13 \(default 3\.1\d\), not 3\.9/);
      const seen = serverLog(version).slice(before);
      assert.doesNotMatch(seen, /collect\/pip/, "no collection request reached the server");
      assert.deepEqual(await failuresOf({ pip: { package: "testing-tasks-mock", pythonVersion: "3.12" }, server }), []);
    });

    it('pythonVersion "3.9" fails at check for a plain user too (a probe that creates nothing)', async () => {
      const user = await plainUser(info);
      const f = await failuresOf({ pip: { package: "testing-tasks-mock", pythonVersion: "3.9" }, server: user });
      assert.equal(f.length, 1, JSON.stringify(f));
      assert.match(f[0].reason, /does not offer Python 3\.9/);
      assert.deepEqual(
        await failuresOf({ pip: { package: "testing-tasks-mock", pythonVersion: "3.12" }, server: user }),
        [],
      );
      const groups = await new FractalClient(user).taskGroups();
      assert.deepEqual(groups, [], "the probe created no task group");
      const acts = await new FractalClient(user).activities({ action: "collect" });
      assert.deepEqual(acts, [], "the probe started no collection");
    });

    it("pixi: refused at check when there is nothing to adopt, or locally", async () => {
      const f = await failuresOf({ pixi: { package: PIXI_PKG, version: PIXI_VERSION }, server });
      assert.equal(f[0]?.property, "pixi");
      assert.match(f[0].reason, /creating pixi task groups is not supported .*no pixi group pt-pixi-tasks==1\.2\.3/);
      const l = await failuresOf({ pixi: { package: PIXI_PKG, version: PIXI_VERSION }, backend: "local" });
      assert.match(l[0]?.reason ?? "", /creating pixi task groups is not supported/);
    });

    it("pixi: a group collected by someone else reads back as pixi, adopted only on an exact match", async () => {
      const groupPath = path.join(info.tasksDir, "1", PIXI_PKG, PIXI_VERSION);
      mkdirSync(path.join(groupPath, "source_dir"), { recursive: true }); // what the server's delete removes
      const cmd = `${groupPath}/source_dir/project_python.sh ${groupPath}/source_dir/pt_pixi_tasks/run.py`;
      psql(
        version,
        `WITH g AS (
           INSERT INTO taskgroupv2 (user_id, resource_id, origin, pkg_name, version, pixi_version, path, active,
                                    timestamp_created, env_info)
           VALUES (1, 1, 'pixi', '${PIXI_PKG}', '${PIXI_VERSION}', '0.54.1', '${groupPath}', true, now(), 'version: 6')
           RETURNING id)
         INSERT INTO taskv2 (name, type, command_non_parallel, version, input_types, output_types, taskgroupv2_id)
         SELECT 'pixi_task', 'non_parallel', '${cmd}', '${PIXI_VERSION}', '{}', '{}', id FROM g;`,
      );
      const wrong = await failuresOf({
        pixi: { package: PIXI_PKG, version: PIXI_VERSION, pixiVersion: "0.40.0" },
        server,
      });
      assert.match(wrong[0]?.reason ?? "", /pixi_version: server has "0\.54\.1", wanted "0\.40\.0".*exact match/);
      // A pip spec of the same identity meets the pixi group: not adopted (a wheel: the server checks
      // ownership before it would read anything).
      const wheelDir = mkdtempSync(path.join(tmpdir(), "pt-pixi-wheel-"));
      const wheelFile = path.join(wheelDir, "pt_pixi_tasks-1.2.3-py3-none-any.whl");
      writeFileSync(wheelFile, "not a wheel");
      const asPip = await check({}, { pip: { wheelFile }, server });
      assert.deepEqual(asPip.failures ?? [], []);
      await assert.rejects(
        create(asPip.inputs as never),
        /different settings \(origin: server has "pixi", wanted "wheel-file"/,
      );
      rmSync(wheelDir, { recursive: true, force: true });

      const ok = await check({}, { pixi: { package: PIXI_PKG, version: PIXI_VERSION, pixiVersion: "0.54.1" }, server });
      assert.deepEqual(ok.failures ?? [], []);
      const { id, outs } = await create(ok.inputs as never);
      const o = outs as TaskGroupOutputs;
      assert.equal(o.origin, "pixi");
      assert.equal(o.pixiVersion, "0.54.1");
      assert.deepEqual(
        o.tasks.map((t) => [t.name, t.commandNonParallel]),
        [["pixi_task", cmd]],
      );
      const r = await read(id, o);
      assert.equal((r.props as TaskGroupOutputs).origin, "pixi", "read keeps the real origin");
      assert.equal((r.props as TaskGroupOutputs).drift, undefined);
      await remove(id, o);
      assert.deepEqual(
        (await serverTaskGroups(info)).filter((g) => g.pkg_name === PIXI_PKG),
        [],
      );
    });
  });
}

describe("an unsupported fractal-server (2.18.5)", { timeout: 300_000 }, () => {
  let info: FractalServerInfo;
  before(() => {
    info = startFractalServer("2.18.5");
  });
  after(() => {
    execFileSync("bash", [path.join(__dirname, "../../scripts/fractal-server.sh"), "stop"], {
      env: { ...process.env, PULUMI_TESSERACT_FRACTAL_SERVER_VERSION: "2.18.5" },
      stdio: "ignore",
    });
  });
  it("fails at check with the supported range, before anything is sent but /api/alive/", async () => {
    const before = serverLog("2.18.5").length;
    const server = { url: info.url, email: info.email, password: info.password };
    const f = await failuresOf({ pip: { package: "testing-tasks-mock" }, server });
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.ok(f[0].reason.includes(`fractal-server 2.18.5 at ${info.url} is not supported`), f[0].reason);
    assert.ok(f[0].reason.includes(SUPPORTED_RANGE), f[0].reason);
    const seen = serverLog("2.18.5").slice(before);
    assert.doesNotMatch(seen, /"(POST|PATCH)/, "nothing but reads reached the server");
  });
});
