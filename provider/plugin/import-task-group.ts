/**
 * `pulumi import tesseract:index:TaskGroup <name> 'local:<folder>'`: adopts a task group collected
 * locally (`backend: local`) into `<tasksDir>/<package>/<version>`, the ID a local group gets. The
 * collection recorded what it installed in the folder (`pulumi-tesseract-task-group.json`,
 * `pip_freeze.txt`); the tasks are read again from the installed package's manifest, the same way
 * a collection computes them. The inputs are rebuilt from that record and checked as `check` does,
 * and the state is what a create of them stores, so the generated code previews with no changes.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import type * as provider from "@pulumi/pulumi/provider";
import { UserError } from "../common/errors";
import { type CheckedInputs, groupOutputs } from "../fractal/backend";
import { localRecordedFreeze } from "../fractal/drift-repair";
import type { GroupState } from "../fractal/group-state";
import { loadManifest } from "../fractal/local-custom";
import { prepareTasks } from "../fractal/schemas";
import * as taskGroupImpl from "../resources/task-group-impl";
import { importServerTaskGroup } from "./import-server-task-group";

const STATE_FILE = "pulumi-tesseract-task-group.json";
const run = promisify(execFile);

/** Tasks of the installed package, from its `__FRACTAL_MANIFEST__.json` (as `collectPipLocal`). */
async function installedTasks(state: GroupState): Promise<GroupState["tasks"]> {
  const py = path.join(state.venvPath ?? "", "bin", "python");
  const { stdout } = await run(py, ["-m", "pip", "show", "--files", state.pkgName], { timeout: 120_000 });
  const location = /^Location:\s*(.*)$/m.exec(stdout)?.[1]?.trim() ?? "";
  const manifests = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.endsWith("__FRACTAL_MANIFEST__.json"));
  if (!location || manifests.length !== 1)
    throw new UserError(
      `TaskGroup import: ${state.pkgName} in ${state.venvPath} has no single __FRACTAL_MANIFEST__.json`,
    );
  const manifest = await loadManifest(path.join(location, manifests[0]));
  return prepareTasks(manifest, py, path.join(location, state.pkgName.replace(/-/g, "_")), state.version);
}

/** Reads the group folder (or, for a numeric ID, the server's group); `{ id: "" }` when it does not exist. */
export async function importTaskGroup(id: string): Promise<provider.ReadResult> {
  if (/^\d+$/.test(id)) return importServerTaskGroup(id);
  if (!id.startsWith("local:"))
    throw new UserError(
      `TaskGroup import ID ${JSON.stringify(id)} must be the numeric ID of a task group on the configured fractal-server (e.g. "42"), or "local:<folder>", the folder a local collection made (<tasksDir>/<package>/<version>, e.g. "local:/srv/fractal-tasks/fractal-tasks-core/1.4.0")`,
    );
  const folder = path.resolve(id.slice("local:".length));
  const exists = await fs.stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) return { id: "", props: {} };
  const text = await fs.readFile(path.join(folder, STATE_FILE), "utf8").catch(() => undefined);
  if (text === undefined)
    throw new UserError(
      `TaskGroup import: ${folder} was not collected by a TaskGroup (no ${STATE_FILE} in it); import a folder <tasksDir>/<package>/<version> a local TaskGroup made`,
    );
  const { pythonBin: _bin, ...recorded } = JSON.parse(text) as GroupState & { pythonBin?: string };
  if (recorded.path !== folder)
    throw new UserError(`TaskGroup import: ${folder} records another path (${recorded.path}); it was moved`);
  if (!recorded.active || recorded.origin === "other")
    throw new UserError(
      `TaskGroup import: ${recorded.pkgName}==${recorded.version} in ${folder} is inactive (its venv was removed), so its tasks cannot be read; activate it, or collect it again`,
    );
  const pip: Record<string, unknown> =
    recorded.origin === "wheel-file" && recorded.archivePath
      ? { wheelFile: recorded.archivePath }
      : { package: recorded.pkgName, packageVersion: recorded.version };
  if (recorded.pipExtras) pip.packageExtras = recorded.pipExtras;
  if (Object.keys(recorded.pinnedPackageVersionsPre ?? {}).length)
    pip.pinnedPackageVersionsPre = recorded.pinnedPackageVersionsPre;
  if (Object.keys(recorded.pinnedPackageVersionsPost ?? {}).length)
    pip.pinnedPackageVersionsPost = recorded.pinnedPackageVersionsPost;
  if (recorded.pythonVersion) pip.pythonVersion = recorded.pythonVersion;
  const raw = { pip, backend: "local", tasksDir: path.dirname(path.dirname(folder)) };
  const checked = await taskGroupImpl.check(undefined, raw);
  if (checked.failures?.length)
    throw new UserError(
      `TaskGroup import: ${folder} gives inputs a TaskGroup does not accept:\n${checked.failures.map((f) => `  - ${f.reason}`).join("\n")}`,
    );
  const inputs = checked.inputs as CheckedInputs;
  const state: GroupState = { ...recorded, tasks: await installedTasks(recorded), activityLog: "imported" };
  const props = groupOutputs(inputs, state, "local", undefined, await localRecordedFreeze(state));
  return { id: `local:${folder}`, props: props as unknown as Record<string, unknown>, inputs: { ...inputs } };
}
