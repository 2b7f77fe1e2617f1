/**
 * Pure parts of the server-version, drift and origin logic (extra unit tests; the real proofs run
 * against real fractal-servers in test/integration/fractal-versions.test.ts and
 * test/e2e/task-group-drift.test.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { freezeDiff, freezeFromActivityLog, packageRootOf, taskListDrift } from "../../provider/fractal/drift";
import { pixiMismatches } from "../../provider/fractal/origins";
import type { TaskInfo } from "../../provider/fractal/schemas";
import { compareVersions, featuresOf, isSupported, SUPPORTED_RANGE } from "../../provider/fractal/server-version";

describe("server versions", () => {
  it("supports 2.24.0 up to (not including) 2.27.0", () => {
    for (const v of ["2.24.0", "2.24.4", "2.25.3", "2.26.0", "2.26.9"]) assert.ok(isSupported(v), v);
    for (const v of ["2.18.5", "2.23.7", "2.27.0", "3.0.0", "", "dev"]) assert.ok(!isSupported(v), v);
  });
  it("refuses an unsupported version naming the range", () => {
    assert.throws(
      () => featuresOf("2.18.5", "http://x"),
      (e: Error) => e.message.includes(SUPPORTED_RANGE),
    );
  });
  it("knows what differs", () => {
    assert.ok(!featuresOf("2.24.4").pythonVersionLiteral.includes("3.15"));
    assert.ok(!featuresOf("2.25.2").pythonVersionLiteral.includes("3.15"));
    assert.ok(featuresOf("2.25.3").pythonVersionLiteral.includes("3.15"));
    assert.equal(featuresOf("2.25.4").pixiLockfileForm, "boolean");
    assert.equal(featuresOf("2.26.0").pixiLockfileForm, "true-false");
    assert.equal(compareVersions("2.10.0", "2.9.9"), 1);
  });
});

describe("drift", () => {
  it("diffs pip freezes by package", () => {
    const a = "pip==25.0\nsetuptools==80.1.0\nfoo @ file:///x/foo-0.1.0-py3-none-any.whl#sha256=ab\n";
    assert.deepEqual(freezeDiff(a, a), []);
    assert.deepEqual(freezeDiff(a, "pip==25.0\nsetuptools==70.0.0\nbar==1\n"), [
      "setuptools==80.1.0 → setuptools==70.0.0",
      "-foo @ file:///x/foo-0.1.0-py3-none-any.whl#sha256=ab",
      "+bar==1",
    ]);
  });
  it("finds the freeze in a collection log", () => {
    const log = [
      "2026-12-01 04:30:00,001 - fractal_server.tasks.v2.local.collect.ID1 - DEBUG - START subprocess call to 'bash /t/1/pkg/0.1.0/scripts/17_collect_3_pip_freeze.sh'",
      "2026-12-01 04:30:00,900 - fractal_server.tasks.v2.local.collect.ID1 - DEBUG - returncode=0",
      "2026-12-01 04:30:00,901 - fractal_server.tasks.v2.local.collect.ID1 - DEBUG - STDOUT:",
      "2026-12-01 04:30:00,902 - fractal_server.tasks.v2.local.collect.ID1 - DEBUG - pip==25.0",
      "setuptools==80.1.0",
      "",
      "2026-12-01 04:30:00,903 - fractal_server.tasks.v2.local.collect.ID1 - DEBUG - END",
    ].join("\n");
    assert.equal(freezeFromActivityLog(log), "pip==25.0\nsetuptools==80.1.0\n");
    assert.equal(freezeFromActivityLog("nothing here"), undefined);
  });
  const task = (over: Partial<TaskInfo> = {}): TaskInfo => ({
    name: "a",
    type: "non_parallel",
    commandNonParallel: "/v/bin/python /v/lib/python3.12/site-packages/my_pkg/a.py",
    inputTypes: {},
    outputTypes: {},
    tags: [],
    ...over,
  });
  it("classifies task-list drift by repair", () => {
    assert.deepEqual(taskListDrift([task()], [task()]), []);
    assert.deepEqual(
      taskListDrift([task()], [task({ category: "X" })]).map((d) => d.repair),
      ["patch-tasks"],
    );
    assert.deepEqual(
      taskListDrift([task()], [task({ docsInfo: "changed" })]).map((d) => d.repair),
      ["replace"],
    );
    assert.deepEqual(
      taskListDrift([task()], [task(), task({ name: "b" })]).map((d) => d.detail),
      ["task 'b' was added"],
    );
    assert.deepEqual(
      taskListDrift([task()], [task({ category: "X" })], true).map((d) => d.repair),
      ["reinstall"],
    );
  });
  it("finds a local package root from a task command", () => {
    assert.equal(packageRootOf([task()], "my-pkg"), "/v/lib/python3.12/site-packages/my_pkg");
  });
});

describe("pixi origin", () => {
  it("adopts on exact match only", () => {
    assert.deepEqual(pixiMismatches({ origin: "pixi", pixi_version: "0.54.1" }, { package: "p", version: "1" }), []);
    assert.equal(
      pixiMismatches({ origin: "pixi", pixi_version: "0.54.1" }, { package: "p", version: "1", pixiVersion: "0.40.0" })
        .length,
      1,
    );
    assert.equal(pixiMismatches({ origin: "pypi", pixi_version: null }, { package: "p", version: "1" }).length, 1);
  });
});
