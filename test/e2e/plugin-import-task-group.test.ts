/**
 * `pulumi import tesseract:index:TaskGroup` with the real CLI and the YAML language host: a task
 * group collected locally outside Pulumi (the TaskGroup lifecycle's `create`, `testing-tasks-mock`
 * from the package index) is adopted by its ID `local:<folder>`, the code `pulumi import` generates
 * becomes the program, and `preview` then shows no changes; `destroy` removes the folder. A missing
 * folder is "not found"; a folder no TaskGroup made, and an ID of neither form, fail with the fix.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as taskGroupImpl from "../../provider/resources/task-group-impl";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";

const PROJECT = "pt-plugin-import-tg";
const project = new CliProject(PROJECT, `import-tg-${process.pid}`);
const HEADER = `name: ${PROJECT}\nruntime: yaml\n`;
const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-import-tg-"));
const tasksDir = path.join(work, "tasks");
const stranger = path.join(work, "not-a-group");
let id = "";

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  const checked = await taskGroupImpl.check(undefined, {
    pip: { package: "testing-tasks-mock", packageVersion: "0.1.5" },
    backend: "local",
    tasksDir,
  });
  assert.equal(checked.failures, undefined);
  const created = await taskGroupImpl.create(checked.inputs as never);
  id = created.id;
  mkdirSync(stranger);
  project.write("Pulumi.yaml", HEADER);
  await project.ok(["stack", "init", project.stack]);
});

after(async () => {
  await project.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe("pulumi import of a local TaskGroup (real CLI, YAML)", { timeout: 1_800_000 }, () => {
  it("a missing folder is not found; a foreign folder or an ID of neither form fails with the fix", async () => {
    const missing = await project.run([
      "import",
      "tesseract:index:TaskGroup",
      "tasks",
      `local:${path.join(work, "none")}`,
      "--yes",
    ]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.all, /does not exist/);
    const foreign = await project.run(["import", "tesseract:index:TaskGroup", "tasks", `local:${stranger}`, "--yes"]);
    assert.notEqual(foreign.code, 0);
    assert.match(foreign.all, /was not collected by a TaskGroup/);
    const other = await project.run(["import", "tesseract:index:TaskGroup", "tasks", "fractal:42", "--yes"]);
    assert.notEqual(other.code, 0);
    assert.match(other.all, /must be the numeric ID of a task group/);
  });

  it("imports by local:<folder>, then preview with the generated code shows no changes", async () => {
    assert.match(id, /^local:/);
    const gen = path.join(project.dir, "imported.yaml");
    await project.ok(["import", "tesseract:index:TaskGroup", "tasks", id, "--yes", "--protect=false", "--out", gen]);
    const code = readFileSync(gen, "utf8");
    assert.match(code, /type: tesseract:(index:)?TaskGroup/);
    assert.match(code, /testing-tasks-mock/);
    project.write("Pulumi.yaml", HEADER + code);
    const preview = await project.run(["preview", "--expect-no-changes", "--diff"]);
    assert.equal(preview.code, 0, preview.all);
    const state = JSON.parse((await project.ok(["stack", "export"])).stdout);
    const res = state.deployment.resources.find((r: { type: string }) => r.type === "tesseract:index:TaskGroup");
    assert.equal(res.id, id);
    assert.ok(res.outputs.tasks.length > 0, "the tasks were read from the installed manifest");
  });

  it("destroy removes the imported group's folder", async () => {
    await project.ok(["destroy", "--yes"]);
    assert.equal(existsSync(id.slice("local:".length)), false);
    const left = existsSync(tasksDir) ? readdirSync(tasksDir, { recursive: true }) : [];
    assert.deepEqual(left, []);
  });
});
