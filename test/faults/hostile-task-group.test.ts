/**
 * Hostile local task-group inputs: versions and names that are paths (`../../..`, `/`, `.`), pip
 * options in package names, extras, pinned keys and values, a wheel file named to escape, and a
 * tampered state path at delete. Each case is a row `hostile/task-group/<case>` in the faults
 * report: refused at `check` naming the field and the fix, or (for calls that bypass `check`)
 * refused by the backend before anything is created. Afterwards nothing exists outside tasksDir
 * and tasksDir is empty.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { Progress } from "../../provider/common/log";
import { collectPipLocal, deleteLocal } from "../../provider/fractal/local";
import { PipSpec } from "../../provider/fractal/schemas";
import { check } from "../../provider/resources/task-group-impl";
import { findSecrets, Report } from "../helpers/faults/report";

const report = new Report("hostile-task-group");
const work = mkdtempSync(path.join(tmpdir(), "pt-hostile-tg-"));
const tasksDir = path.join(work, "one", "two", "three", "tasks");
mkdirSync(tasksDir, { recursive: true });
const SECRET = `pt-idx-${Math.random().toString(36).slice(2, 10)}`;
const wheels = mkdtempSync(path.join(tmpdir(), "pt-hostile-tg-wheels-"));
const wheel = (name: string) => {
  const f = path.join(wheels, name);
  writeFileSync(f, "not really a wheel");
  return f;
};
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(wheels, { recursive: true, force: true });
});

/** Everything below `work`, to prove nothing was created outside tasksDir (or inside it). */
const snapshot = () => readdirSync(work, { recursive: true }).map(String).sort();
const before = snapshot();

const pip = (over: Record<string, unknown>) => ({
  backend: "local",
  tasksDir,
  pipIndexUrl: `https://u:${SECRET}@127.0.0.1:1/simple`,
  pip: { package: "pt-tasks", packageVersion: "0.1.0", ...over },
});

const checkCases: [string, Record<string, unknown>, string][] = [
  ["packageVersion ../../..", { packageVersion: "../../.." }, "pip.packageVersion"],
  ["packageVersion ..", { packageVersion: ".." }, "pip.packageVersion"],
  ["packageVersion .", { packageVersion: "." }, "pip.packageVersion"],
  ["packageVersion with a slash", { packageVersion: "1.0/../../../x" }, "pip.packageVersion"],
  ["packageVersion absolute", { packageVersion: "/etc" }, "pip.packageVersion"],
  ["packageVersion an option", { packageVersion: "--pre" }, "pip.packageVersion"],
  ["package an option", { package: "--index-url=http://127.0.0.1:1/" }, "pip.package"],
  ["package -e path", { package: "-e/tmp/x" }, "pip.package"],
  ["package ..", { package: ".." }, "pip.package"],
  ["package a path", { package: "../../x" }, "pip.package"],
  ["package with a newline", { package: "a\nb" }, "pip.package"],
  ["packageExtras with an option", { packageExtras: "x,--pre" }, "pip.packageExtras"],
  [
    "pinned pre key --index-url",
    { pinnedPackageVersionsPre: { "--index-url=http://127.0.0.1:1/": "1" } },
    "pip.pinnedPackageVersionsPre",
  ],
  ["pinned post key -r file", { pinnedPackageVersionsPost: { "-r/etc/passwd": "1" } }, "pip.pinnedPackageVersionsPost"],
  ["pinned key a path", { pinnedPackageVersionsPre: { "../x": "1" } }, "pip.pinnedPackageVersionsPre"],
  ["pinned value an option", { pinnedPackageVersionsPost: { numpy: "--pre" } }, "pip.pinnedPackageVersionsPost"],
];

function record(fault: string, t0: number, result: "pass" | "fail", detail: string): void {
  report.data.faults.push({ fault, result, seconds: (Date.now() - t0) / 1000, detail });
  report.flush();
}

describe("hostile local task-group inputs", { concurrency: false }, () => {
  for (const [name, over, field] of checkCases) {
    test(`check refuses ${name}`, async () => {
      const t0 = Date.now();
      const fault = `hostile/task-group/${name}`;
      report.add("inputsTried");
      try {
        const res = await check(undefined, pip(over));
        const failures = res.failures ?? [];
        const text = failures.map((f) => `${f.property}: ${f.reason}`).join("\n");
        const leaked = findSecrets(text, [SECRET]);
        report.add("secretsFound", leaked.length);
        assert.deepEqual(leaked, [], `LEAKED ${leaked.join(", ")}`);
        assert.ok(failures.length > 0, "accepted");
        report.add("inputsRefused");
        const named = failures.filter((f) => f.property === field);
        assert.ok(named.length > 0, `no failure names ${field}:\n${text}`);
        if (named.some((f) => /fix|must|forbidden|not allowed/i.test(f.reason))) report.add("inputsExplained");
        record(fault, t0, "pass", `refused: ${named[0].reason.slice(0, 160)}`);
      } catch (err) {
        record(fault, t0, "fail", (err as Error).message.split("\n")[0]);
        throw err;
      }
    });
  }

  test("check refuses a wheel file named <name>-..-<tags>.whl", async () => {
    const t0 = Date.now();
    const fault = "hostile/task-group/wheelFile version ..";
    report.add("inputsTried");
    const res = await check(undefined, {
      backend: "local",
      tasksDir,
      pip: { wheelFile: wheel("pt-..-py3-none-any.whl") },
    });
    const ok = (res.failures ?? []).some((f) => f.property === "pip.wheelFile" && /fix/.test(f.reason));
    if (ok) {
      report.add("inputsRefused");
      report.add("inputsExplained");
    }
    record(fault, t0, ok ? "pass" : "fail", ok ? "refused + explained" : JSON.stringify(res.failures));
    assert.ok(ok);
  });

  const progress = new Progress("hostile", [], () => undefined);
  const bypass: [string, Record<string, unknown>][] = [
    ["collect bypassing check: version ../../..", { package: "pt-tasks", packageVersion: "../../.." }],
    ["collect bypassing check: version /", { package: "pt-tasks", packageVersion: "/" }],
    ["collect bypassing check: package ..", { package: "..", packageVersion: "1.0" }],
  ];
  for (const [name, spec] of bypass) {
    test(name, async () => {
      const t0 = Date.now();
      const fault = `hostile/task-group/${name}`;
      report.add("inputsTried");
      try {
        await assert.rejects(
          collectPipLocal(PipSpec.parse(spec), { tasksDir, pipNoIndex: true, stepTimeoutMs: 5_000, progress }),
          /cannot name a folder under tasksDir/,
        );
        report.add("inputsRefused");
        report.add("inputsExplained");
        assert.deepEqual(snapshot(), before, "something was created");
        record(fault, t0, "pass", "handled: refused by the backend before any folder was made");
      } catch (err) {
        record(fault, t0, "fail", (err as Error).message.split("\n")[0]);
        throw err;
      }
    });
  }

  test("delete with a tampered state path removes nothing", async () => {
    const t0 = Date.now();
    const fault = "hostile/task-group/delete tampered state path";
    report.add("inputsTried");
    await assert.rejects(deleteLocal({ origin: "pypi", path: `${tasksDir}/../../..` }), /refusing to remove/);
    await assert.rejects(deleteLocal({ origin: "pypi", path: "/" }), /refusing to remove/);
    report.add("inputsRefused");
    assert.deepEqual(snapshot(), before);
    record(fault, t0, "pass", "handled: refused, nothing removed");
  });

  test("nothing left behind: no folder outside tasksDir, tasksDir empty", () => {
    const t0 = Date.now();
    assert.deepEqual(snapshot(), before);
    assert.deepEqual(readdirSync(tasksDir), []);
    record("hostile/task-group/nothing left behind", t0, "pass", "handled: no folder outside tasksDir, tasksDir empty");
  });
});
