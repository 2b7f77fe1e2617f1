/**
 * The local backend: task collection done on this machine the way fractal-server's
 * `collect_local` does it (folder per package/version, `python -m venv --copies`, pip install
 * with pre/post pins, `pip freeze --all`, manifest found through `pip show --files`, commands
 * built from the venv's python), plus what the server lacks: per-step timeouts, index options,
 * and a guarantee that a failed collection leaves no folder behind.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../common/errors";
import type { Progress } from "../common/log";
import { currentResource, type ResourceScope } from "../common/resource-context";
import type { GroupState } from "./group-state";
import { loadManifest } from "./local-custom";
import { confinedGroupPath, isRemovableGroupPath } from "./local-paths";
import {
  ActivityLog,
  exists,
  isExecutableFile,
  pipEnv,
  pipIdentity,
  pipIndexArgs,
  resolveInterpreter,
  runStep,
  tail,
} from "./local-python";
import { type PipSpec, prepareTasks } from "./schemas";
import { normalizePackageName, validateCmd } from "./validators";

export interface LocalOptions {
  tasksDir: string;
  pythonInterpreters?: Partial<Record<string, string>>;
  pipIndexUrl?: string;
  pipExtraIndexUrls?: string[];
  pipFindLinks?: string[];
  pipNoIndex?: boolean;
  /** Per-step timeout (venv creation, each pip call). */
  stepTimeoutMs: number;
  progress: Progress;
}

/** The base of default task folders: `$PULUMI_TESSERACT_TASKS_DIR` or `~/.cache/pulumi-tesseract/fractal-tasks`. */
export function tasksBaseDir(): string {
  return (
    process.env.PULUMI_TESSERACT_TASKS_DIR || path.join(os.homedir(), ".cache", "pulumi-tesseract", "fractal-tasks")
  );
}

/** A project or stack name as one safe path segment. */
function segment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, "_");
  return s === "." || s === ".." || s === "" ? `_${s}` : s;
}

/**
 * The default tasks directory: `<base>/<project>/<stack>` (base: {@link tasksBaseDir}), so two
 * stacks sharing a home folder (or two projects) never collect into the same folder; just the
 * base outside a Pulumi run (library use). The project and stack come from the resource the
 * current provider call works for (common/resource-context.ts).
 */
export function defaultTasksDir(
  scope: Pick<ResourceScope, "project" | "stack"> | undefined = currentResource(),
): string {
  const base = tasksBaseDir();
  return scope ? path.join(base, segment(scope.project), segment(scope.stack)) : base;
}

const STATE_FILE = "pulumi-tesseract-task-group.json";
const FREEZE_FILE = "pip_freeze.txt";

/** Collects a pip package (index or local wheel) into `<tasksDir>/<pkgName>/<version>`. */
export async function collectPipLocal(spec: PipSpec, o: LocalOptions): Promise<GroupState> {
  const log = new ActivityLog(o.progress);
  const { pkgName, version } = await pipIdentity(spec, o);
  // name and version become folders: plain segments only, inside tasksDir (the index picks the version)
  const groupPath = confinedGroupPath(o.tasksDir, pkgName, version);
  const venvPath = path.join(groupPath, "venv");
  for (const [label, value] of [
    ["task-group path", groupPath],
    ["venv path", venvPath],
  ]) {
    const err = validateCmd(value);
    if (err) throw new UserError(`${label} '${value}' ${err} (choose another tasksDir)`);
  }
  const interp = await resolveInterpreter(spec.pythonVersion, o.pythonInterpreters);
  if (await exists(groupPath)) {
    throw new UserError(
      `${groupPath} already exists: another TaskGroup (or an earlier run) holds ${pkgName}==${version} in this tasksDir; delete it or use another tasksDir`,
    );
  }
  await fs.mkdir(groupPath, { recursive: true });
  try {
    log.write(`Created ${groupPath}`);
    let archivePath: string | undefined;
    if (spec.wheelFile) {
      archivePath = path.join(groupPath, path.basename(spec.wheelFile));
      await fs.copyFile(spec.wheelFile, archivePath);
      log.write(`Copied wheel into ${archivePath}`);
    }
    const extras = spec.packageExtras ? `[${spec.packageExtras}]` : "";
    const installString = archivePath ? `${archivePath}${extras}` : `${spec.package}${extras}==${version}`;
    const pins = (d?: Record<string, string>) => Object.entries(d ?? {}).map(([k, v]) => `${k}==${v}`);
    const t = o.stepTimeoutMs;
    const py = path.join(venvPath, "bin", "python");
    const idx = pipIndexArgs(o);
    const env = pipEnv();
    await runStep(
      log,
      `create venv in ${venvPath} (Python ${interp.version})`,
      interp.bin,
      ["-m", "venv", venvPath, "--copies"],
      t,
    );
    await runStep(
      log,
      "upgrade pip and install setuptools",
      py,
      ["-m", "pip", "install", ...idx, "--upgrade", "--", "pip", "setuptools"],
      t,
      env,
    );
    if (pins(spec.pinnedPackageVersionsPre).length) {
      await runStep(
        log,
        `install pre-pinned ${pins(spec.pinnedPackageVersionsPre).join(" ")}`,
        py,
        ["-m", "pip", "install", ...idx, "--", ...pins(spec.pinnedPackageVersionsPre)],
        t,
        env,
      );
    }
    await runStep(log, `install ${installString}`, py, ["-m", "pip", "install", ...idx, "--", installString], t, env);
    if (pins(spec.pinnedPackageVersionsPost).length) {
      await runStep(
        log,
        `install post-pinned ${pins(spec.pinnedPackageVersionsPost).join(" ")}`,
        py,
        ["-m", "pip", "install", ...idx, "--", ...pins(spec.pinnedPackageVersionsPost)],
        t,
        env,
      );
    }
    const freeze = await runStep(log, "pip freeze --all", py, ["-m", "pip", "freeze", "--all"], t, env);
    await fs.writeFile(path.join(groupPath, FREEZE_FILE), freeze);
    const show = await runStep(log, `pip show ${pkgName}`, py, ["-m", "pip", "show", "--files", "--", pkgName], t, env);
    const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, "m").exec(show)?.[1]?.trim() ?? "";
    const shownName = field("Name");
    const shownVersion = field("Version");
    const location = field("Location");
    log.write(`Package name: ${shownName}; version: ${shownVersion}; parent folder: ${location}`);
    if (shownName !== pkgName && normalizePackageName(shownName) !== pkgName) {
      throw new UserError(
        `package name mismatch after installation: expected '${pkgName}', pip show says '${shownName}'`,
      );
    }
    const manifestRel = show
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.endsWith("__FRACTAL_MANIFEST__.json"));
    if (manifestRel.length !== 1) {
      throw new UserError(
        manifestRel.length === 0
          ? `manifest path not found for ${pkgName}: the installed files contain no __FRACTAL_MANIFEST__.json`
          : `${pkgName} ships ${manifestRel.length} __FRACTAL_MANIFEST__.json files (${manifestRel.join(", ")})`,
      );
    }
    const manifestPath = path.join(location, manifestRel[0]);
    log.write(`Manifest absolute path: ${manifestPath}`);
    const manifest = await loadManifest(manifestPath);
    const packageRoot = path.join(location, pkgName.replace(/-/g, "_"));
    const tasks = prepareTasks(manifest, py, packageRoot, version);
    for (const task of tasks) {
      for (const c of [task.commandNonParallel, task.commandParallel]) {
        if (c === undefined) continue;
        const file = c.split(/\s+/).pop() as string;
        if (!(await exists(file)))
          throw new UserError(`task '${task.name}' has a command pointing to missing file ${file}`);
      }
    }
    log.write(`Collected ${tasks.length} tasks: ${tasks.map((x) => x.name).join(", ")}`);
    const state: GroupState = {
      origin: archivePath ? "wheel-file" : "pypi",
      pkgName,
      version,
      pythonVersion: interp.version,
      path: groupPath,
      venvPath,
      archivePath,
      pipExtras: spec.packageExtras,
      pinnedPackageVersionsPre: spec.pinnedPackageVersionsPre ?? {},
      pinnedPackageVersionsPost: spec.pinnedPackageVersionsPost ?? {},
      active: true,
      tasks,
      activityLog: tail(log.text()),
    };
    await writeState(state, interp.bin);
    return state;
  } catch (err) {
    log.write(`Task collect failed, removing ${groupPath}`);
    await fs.rm(groupPath, { recursive: true, force: true });
    await fs.rmdir(path.dirname(groupPath)).catch(() => undefined); // only when empty
    const msg = err instanceof Error ? err.message : String(err);
    throw new UserError(
      `local collection of ${pkgName}==${version} failed: ${msg}\n--- activity log (tail) ---\n${tail(log.text(), 2500)}`,
    );
  }
}

async function writeState(state: GroupState, pythonBin: string): Promise<void> {
  if (!state.path) return;
  const { tasks: _t, activityLog: _l, ...rest } = state;
  await fs.writeFile(path.join(state.path, STATE_FILE), `${JSON.stringify({ ...rest, pythonBin }, null, 2)}\n`);
}

async function readStateFile(groupPath: string): Promise<{ pythonBin?: string } | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(groupPath, STATE_FILE), "utf8"));
  } catch {
    return undefined;
  }
}

/** Deactivation: removes the venv, keeps the folder, wheel and `pip freeze` (refused for github.com deps). */
export async function deactivateLocal(state: GroupState, o: LocalOptions): Promise<GroupState> {
  if (state.origin === "other" || !state.path || !state.venvPath) return { ...state, active: false };
  const log = new ActivityLog(o.progress);
  const freeze = await fs.readFile(path.join(state.path, FREEZE_FILE), "utf8").catch(() => undefined);
  if (freeze === undefined)
    throw new UserError(
      `cannot deactivate ${state.pkgName}==${state.version}: ${FREEZE_FILE} is missing in ${state.path}`,
    );
  if (freeze.includes("github.com")) {
    throw new UserError(
      `cannot deactivate ${state.pkgName}==${state.version}: its pip freeze has a github.com dependency, which cannot be reinstalled reproducibly`,
    );
  }
  log.write(`Remove venv ${state.venvPath}`);
  await fs.rm(state.venvPath, { recursive: true, force: true });
  log.write("Deactivated (folder, wheel and pip freeze kept)");
  return { ...state, active: false, activityLog: tail(log.text()) };
}

/** Reactivation: recreates the venv and installs exactly the stored `pip freeze`. */
export async function reactivateLocal(state: GroupState, o: LocalOptions): Promise<GroupState> {
  if (state.origin === "other" || !state.path || !state.venvPath) return { ...state, active: true };
  const log = new ActivityLog(o.progress);
  const freezeFile = path.join(state.path, FREEZE_FILE);
  if (!(await exists(freezeFile))) throw new UserError(`cannot reactivate: ${freezeFile} is missing`);
  const stored = await readStateFile(state.path);
  const interp =
    stored?.pythonBin && (await isExecutableFile(stored.pythonBin))
      ? { bin: stored.pythonBin }
      : await resolveInterpreter(state.pythonVersion, o.pythonInterpreters);
  const py = path.join(state.venvPath, "bin", "python");
  const idx = pipIndexArgs(o);
  try {
    await fs.rm(state.venvPath, { recursive: true, force: true });
    await runStep(
      log,
      `create venv in ${state.venvPath}`,
      interp.bin,
      ["-m", "venv", state.venvPath, "--copies"],
      o.stepTimeoutMs,
    );
    await runStep(
      log,
      "upgrade pip and install setuptools",
      py,
      ["-m", "pip", "install", ...idx, "pip", "setuptools", "--upgrade"],
      o.stepTimeoutMs,
      pipEnv(),
    );
    await runStep(
      log,
      `install requirements from ${freezeFile}`,
      py,
      ["-m", "pip", "install", ...idx, "-r", freezeFile],
      o.stepTimeoutMs,
      pipEnv(),
    );
  } catch (err) {
    await fs.rm(state.venvPath, { recursive: true, force: true });
    throw new UserError(
      `reactivation of ${state.pkgName}==${state.version} failed (venv removed, group stays inactive): ${(err as Error).message}`,
    );
  }
  return { ...state, active: true, activityLog: tail(log.text()) };
}

/** Deletion: removes the whole `<tasksDir>/<pkg>/<version>` folder (custom groups: nothing on disk). */
export async function deleteLocal(state: Pick<GroupState, "path" | "origin">): Promise<void> {
  if (state.origin === "other" || !state.path) return;
  // the path comes from state: never remove anything but a <pkg>/<version> folder
  if (!isRemovableGroupPath(state.path))
    throw new UserError(`refusing to remove ${state.path}: not a <tasksDir>/<package>/<version> folder`);
  await fs.rm(state.path, { recursive: true, force: true });
  // Remove the now-empty package folder, as a courtesy.
  const pkgDir = path.dirname(state.path);
  await fs.rmdir(pkgDir).catch(() => undefined);
  // Under the default base, the stack's and project's folders were made by create: remove them
  // once empty (rmdir never removes anything else). A user's own tasksDir stays as it is.
  const rel = path.relative(tasksBaseDir(), state.path).split(path.sep);
  if (rel.length === 4 && !rel.includes("..")) {
    const stackDir = path.dirname(pkgDir);
    await fs.rmdir(stackDir).catch(() => undefined);
    await fs.rmdir(path.dirname(stackDir)).catch(() => undefined);
  }
}

/** What exists on disk for a group: the folder, the venv's python. */
export async function inspectLocal(
  state: GroupState,
): Promise<{ folder: boolean; venv: boolean; interpreter: boolean }> {
  if (state.origin === "other") {
    const py = state.tasks[0]?.commandNonParallel ?? state.tasks[0]?.commandParallel;
    const bin = py?.split(/\s+/)[0];
    return { folder: true, venv: true, interpreter: bin ? await isExecutableFile(bin) : true };
  }
  const folder = state.path ? await exists(state.path) : false;
  const venv = state.venvPath ? await isExecutableFile(path.join(state.venvPath, "bin", "python")) : false;
  return { folder, venv, interpreter: venv };
}
