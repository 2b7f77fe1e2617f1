/**
 * Local task groups under hostile input: names and versions must be plain folder names that pip
 * cannot read as options, every path stays inside tasksDir, and check refuses the rest naming the
 * field and the fix.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { Progress } from "../../provider/common/log";
import { collectPipLocal, deleteLocal } from "../../provider/fractal/local";
import { confinedGroupPath, isRemovableGroupPath, localPipFailures } from "../../provider/fractal/local-paths";
import { pipIndexArgs } from "../../provider/fractal/local-python";
import { PipSpec } from "../../provider/fractal/schemas";
import { check } from "../../provider/resources/task-group-impl";

const work = mkdtempSync(path.join(tmpdir(), "pt-hostile-tg-"));
const tasksDir = path.join(work, "a", "b", "tasks");
mkdirSync(tasksDir, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

const spec = (over: Record<string, unknown>) => PipSpec.parse({ package: "pt-pkg", packageVersion: "1.0", ...over });

describe("local pip inputs", () => {
  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ["version ../../..", { packageVersion: "../../.." }, "pip.packageVersion", /not a version.*fix/],
    ["version with slash", { packageVersion: "1.0/../../x" }, "pip.packageVersion", /not a version/],
    ["version starting with --", { packageVersion: "--pre" }, "pip.packageVersion", /not a version/],
    ["package starting with --", { package: "--index-url=http://127.0.0.1:1/" }, "pip.package", /not a package name/],
    ["package ..", { package: ".." }, "pip.package", /not a package name/],
    ["package with slash", { package: "a/b" }, "pip.package", /not a package name/],
    ["extras with option", { packageExtras: "x,--pre" }, "pip.packageExtras", /not a list of extras/],
    [
      "pinned key --",
      { pinnedPackageVersionsPre: { "--index-url=http://127.0.0.1:1/": "1" } },
      "pip.pinnedPackageVersionsPre",
      /pip would read it as an option/,
    ],
    [
      "pinned post key -e",
      { pinnedPackageVersionsPost: { "-e /tmp/x": "1" } },
      "pip.pinnedPackageVersionsPost",
      /not a package name/,
    ],
    [
      "pinned value",
      { pinnedPackageVersionsPre: { numpy: "1 --pre" } },
      "pip.pinnedPackageVersionsPre",
      /not a version/,
    ],
  ];
  for (const [name, over, property, says] of bad)
    it(`refuses ${name}`, () => {
      const failures = localPipFailures(spec(over));
      assert.ok(
        failures.some((f) => f.property === property && says.test(f.reason)),
        JSON.stringify(failures),
      );
    });
  it("accepts ordinary names, versions, extras and pins", () => {
    assert.deepEqual(
      localPipFailures(
        spec({
          package: "fractal-tasks-core",
          packageVersion: "1.4.2rc1+local.1",
          packageExtras: "fractal-tasks, napari",
          pinnedPackageVersionsPre: { numpy: "1.26.4", "pkg[extra]": "2.0.post1" },
        }),
      ),
      [],
    );
  });
  it("a wheel file whose name does not give a name and version is refused", () => {
    const f = localPipFailures(PipSpec.parse({ wheelFile: "/tmp/x-..-py3-none-any.whl" }));
    assert.equal(f[0]?.property, "pip.wheelFile");
  });
});

describe("paths stay inside tasksDir", () => {
  it("confinedGroupPath", () => {
    assert.equal(confinedGroupPath(tasksDir, "pt-pkg", "1.0"), path.join(tasksDir, "pt-pkg", "1.0"));
    assert.throws(() => confinedGroupPath(tasksDir, "pt-pkg", "../../.."), /cannot name a folder/);
    assert.throws(() => confinedGroupPath(tasksDir, "..", "1.0"), /cannot name a folder/);
    assert.throws(() => confinedGroupPath(tasksDir, "pt-pkg", "."), /cannot name a folder/);
  });
  it("isRemovableGroupPath never lets delete reach / or a .. path", () => {
    assert.equal(isRemovableGroupPath(path.join(tasksDir, "pt-pkg", "1.0")), true);
    assert.equal(isRemovableGroupPath("/"), false);
    assert.equal(isRemovableGroupPath(`${tasksDir}/pt-pkg/../..`), false);
    assert.equal(isRemovableGroupPath("relative/pt-pkg/1.0"), false);
  });
  it("deleteLocal refuses a tampered state path", async () => {
    await assert.rejects(deleteLocal({ origin: "pypi", path: `${tasksDir}/../..` }), /refusing to remove/);
    assert.ok(existsSync(tasksDir));
  });
  it("collectPipLocal with a version of ../../.. (bypassing check) creates nothing anywhere", async () => {
    const before = readdirSync(work, { recursive: true }).sort();
    await assert.rejects(
      collectPipLocal(PipSpec.parse({ package: "pt-pkg", packageVersion: "../../.." }), {
        tasksDir,
        pipNoIndex: true,
        stepTimeoutMs: 5_000,
        progress: new Progress("test", [], () => undefined),
      }),
      /cannot name a folder under tasksDir/,
    );
    assert.deepEqual(readdirSync(work, { recursive: true }).sort(), before);
  });
  it("index options are single --opt=value arguments", () => {
    assert.deepEqual(
      pipIndexArgs({
        tasksDir,
        stepTimeoutMs: 1,
        progress: new Progress("t", [], () => undefined),
        pipIndexUrl: "http://127.0.0.1:1/simple",
        pipFindLinks: ["/w"],
      }),
      ["--index-url=http://127.0.0.1:1/simple", "--find-links=/w"],
    );
  });
});

describe("TaskGroup check refuses them at preview (local backend)", () => {
  it("packageVersion ../../.. and a -- pinned key fail check naming the field", async () => {
    const res = await check(undefined, {
      backend: "local",
      tasksDir,
      pip: { package: "pt-pkg", packageVersion: "../../..", pinnedPackageVersionsPost: { "--pre": "1" } },
    });
    const props = (res.failures ?? []).map((f) => f.property).sort();
    assert.deepEqual(props, ["pip.packageVersion", "pip.pinnedPackageVersionsPost"]);
    assert.deepEqual(readdirSync(tasksDir), []);
  });
});
