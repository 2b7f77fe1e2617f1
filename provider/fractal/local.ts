/**
 * The local backend: task collection done on this machine the way fractal-server's
 * `collect_local` does it (folder per package/version, `python -m venv --copies`, pip install
 * with pre/post pins, `pip freeze --all`, manifest found through `pip show --files`, commands
 * built from the venv's python), plus what the server lacks: per-step timeouts, index options,
 * and a guarantee that a failed collection leaves no folder behind.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { constants as fsc } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../common/errors";
import type { Progress } from "../common/log";
import { resolveVersion } from "./package-index";
import { type CustomSpec, type ManifestV2, type PipSpec, parseManifest, prepareTasks, type TaskInfo } from "./schemas";
import { normalizePackageName, parseWheelFilename, validateCmd } from "./validators";

/** State of a collected group, shared by both backends (server adds `taskGroupId`). */
export interface GroupState {
  taskGroupId?: number;
  /** `pixi` only for server groups adopted by a `pixi` input (provider/fractal/origins.ts). */
  origin: "pypi" | "wheel-file" | "pixi" | "other";
  pkgName: string;
  /** The pixi version of a `pixi` group. */
  pixiVersion?: string;
  version?: string;
  pythonVersion?: string;
  path?: string;
  venvPath?: string;
  archivePath?: string;
  pipExtras?: string;
  pinnedPackageVersionsPre?: Record<string, string>;
  pinnedPackageVersionsPost?: Record<string, string>;
  active: boolean;
  tasks: TaskInfo[];
  activityLog: string;
  serverUserGroupId?: number | null;
}

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

/** The default tasks directory: `$PULUMI_TESSERACT_TASKS_DIR` or `~/.cache/pulumi-tesseract/fractal-tasks`. */
export function defaultTasksDir(): string {
  return (
    process.env.PULUMI_TESSERACT_TASKS_DIR || path.join(os.homedir(), ".cache", "pulumi-tesseract", "fractal-tasks")
  );
}

export const LOG_TAIL_CHARS = 4000;
export function tail(text: string, n = LOG_TAIL_CHARS): string {
  return text.length <= n ? text : `...${text.slice(text.length - n)}`;
}

/** Collected log lines, in fractal-server's `[collect-task, <UTC time>] message` style. */
export class ActivityLog {
  private readonly lines: string[] = [];
  constructor(private readonly progress?: Progress) {}
  write(message: string, echo = true): void {
    const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    this.lines.push(`[collect-task, ${ts}] ${message}`);
    if (echo) this.progress?.info(message);
  }
  raw(text: string): void {
    if (text.trim()) this.lines.push(text.trimEnd());
  }
  text(): string {
    return this.lines.join("\n");
  }
}

/** Runs a command without a shell; kills its whole process group after `timeoutMs`. */
export function runStep(
  log: ActivityLog,
  label: string,
  cmd: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  log.write(`START ${label}`);
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      log.write(`FAILED ${label}: ${err.message}`);
      reject(new UserError(`${label}: cannot run ${cmd}: ${err.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      log.raw(tail(stdout, 3000));
      if (stderr.trim()) log.raw(tail(stderr, 3000));
      if (timedOut) {
        log.write(`TIMEOUT ${label} after ${secs} s`);
        reject(new UserError(`${label} timed out after ${Math.round(timeoutMs / 1000)} s (raise stepTimeoutSeconds)`));
      } else if (code !== 0) {
        log.write(`FAILED ${label} (exit ${code}, ${secs} s)`);
        reject(new UserError(`${label} failed (exit ${code}): ${tail(stderr.trim() || stdout.trim(), 1500)}`));
      } else {
        log.write(`END   ${label} (${secs} s)`);
        resolve(stdout);
      }
    });
  });
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsc.X_OK | fsc.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

async function probePython(bin: string): Promise<{ version: string; executable: string } | undefined> {
  if (!bin.includes("/")) {
    for (const dir of (process.env.PATH ?? "").split(":")) {
      if (dir && (await isExecutableFile(path.join(dir, bin)))) return probePython(path.join(dir, bin));
    }
    return undefined;
  }
  if (!(await isExecutableFile(bin))) return undefined;
  try {
    const out = await runStep(
      new ActivityLog(),
      "probe",
      bin,
      ["-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
      15_000,
    );
    const [version, executable] = out.trim().split("\n");
    return { version, executable: bin || executable };
  } catch {
    return undefined;
  }
}

/**
 * The base interpreter for `version` (like the server's `tasks_python_config.versions`):
 * `pythonInterpreters[version]`, `$PULUMI_TESSERACT_PYTHON_3_12`-style variables, `python3.12` on
 * PATH, then `~/.pyenv/versions/3.12.*`. No version → `python3` on PATH.
 */
export async function resolveInterpreter(
  version: string | undefined,
  map: Partial<Record<string, string>> = {},
): Promise<{ version: string; bin: string }> {
  if (version === undefined) {
    const p = (await probePython(process.env.PULUMI_TESSERACT_PYTHON || "python3")) ?? (await probePython("python"));
    if (!p)
      throw new UserError(
        "no python3 found on PATH for the local backend; set pip.pythonVersion and pythonInterpreters",
      );
    return { version: p.version, bin: p.executable };
  }
  const candidates: string[] = [];
  if (map[version]) candidates.push(map[version] as string);
  const envName = `PULUMI_TESSERACT_PYTHON_${version.replace(".", "_")}`;
  if (process.env[envName]) candidates.push(process.env[envName] as string);
  candidates.push(`python${version}`);
  const pyenv = path.join(os.homedir(), ".pyenv", "versions");
  try {
    const dirs = (await fs.readdir(pyenv)).filter((d) => d.startsWith(`${version}.`)).sort();
    for (const d of dirs.reverse()) candidates.push(path.join(pyenv, d, "bin", `python${version}`));
  } catch {
    // no pyenv
  }
  for (const c of candidates) {
    const p = await probePython(c);
    if (p && p.version === version) return { version, bin: p.executable };
    if (map[version] === c) {
      throw new UserError(
        `pythonInterpreters["${version}"] = ${c} is not a Python ${version} interpreter${p ? ` (it is ${p.version})` : ""}`,
      );
    }
  }
  throw new UserError(
    `Python ${version} is not available on this machine; set pythonInterpreters: {"${version}": "/abs/path/to/python${version}"} or ${envName}`,
  );
}

function pipIndexArgs(o: LocalOptions): string[] {
  const args: string[] = [];
  if (o.pipNoIndex) args.push("--no-index");
  if (o.pipIndexUrl) args.push("--index-url", o.pipIndexUrl);
  for (const u of o.pipExtraIndexUrls ?? []) args.push("--extra-index-url", u);
  for (const f of o.pipFindLinks ?? []) args.push("--find-links", f);
  return args;
}

function pipEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" };
}

/** The identity (`pkgName`, `version`) a pip spec leads to, before installing anything. */
export async function pipIdentity(
  spec: PipSpec,
  o: Pick<LocalOptions, "pipIndexUrl" | "pipNoIndex">,
): Promise<{ pkgName: string; version: string }> {
  if (spec.wheelFile) {
    const w = parseWheelFilename(path.basename(spec.wheelFile));
    return { pkgName: w.pkgName, version: w.version };
  }
  const name = spec.package as string;
  if (o.pipNoIndex) {
    if (!spec.packageVersion)
      throw new UserError("pip.packageVersion is required with pipNoIndex (the version cannot be looked up)");
    return { pkgName: normalizePackageName(name), version: spec.packageVersion };
  }
  return {
    pkgName: normalizePackageName(name),
    version: await resolveVersion(name, spec.packageVersion, o.pipIndexUrl),
  };
}

const STATE_FILE = "pulumi-tesseract-task-group.json";
const FREEZE_FILE = "pip_freeze.txt";

/** Collects a pip package (index or local wheel) into `<tasksDir>/<pkgName>/<version>`. */
export async function collectPipLocal(spec: PipSpec, o: LocalOptions): Promise<GroupState> {
  const log = new ActivityLog(o.progress);
  const { pkgName, version } = await pipIdentity(spec, o);
  const groupPath = path.join(o.tasksDir, pkgName, version);
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
      ["-m", "pip", "install", ...idx, "pip", "setuptools", "--upgrade"],
      t,
      env,
    );
    if (pins(spec.pinnedPackageVersionsPre).length) {
      await runStep(
        log,
        `install pre-pinned ${pins(spec.pinnedPackageVersionsPre).join(" ")}`,
        py,
        ["-m", "pip", "install", ...idx, ...pins(spec.pinnedPackageVersionsPre)],
        t,
        env,
      );
    }
    await runStep(log, `install ${installString}`, py, ["-m", "pip", "install", ...idx, installString], t, env);
    if (pins(spec.pinnedPackageVersionsPost).length) {
      await runStep(
        log,
        `install post-pinned ${pins(spec.pinnedPackageVersionsPost).join(" ")}`,
        py,
        ["-m", "pip", "install", ...idx, ...pins(spec.pinnedPackageVersionsPost)],
        t,
        env,
      );
    }
    const freeze = await runStep(log, "pip freeze --all", py, ["-m", "pip", "freeze", "--all"], t, env);
    await fs.writeFile(path.join(groupPath, FREEZE_FILE), freeze);
    const show = await runStep(log, `pip show ${pkgName}`, py, ["-m", "pip", "show", "--files", pkgName], t, env);
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

/** Loads and validates a manifest file. */
export async function loadManifest(file: string): Promise<ManifestV2> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new UserError(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  const { manifest, problems } = parseManifest(raw);
  if (!manifest) throw new UserError(`invalid manifest ${file}: ${problems.join("; ")}`);
  return manifest;
}

/** Manifest of a custom spec (object or file), validated. */
export async function customManifest(
  spec: CustomSpec,
): Promise<{ manifest: ManifestV2; raw: Record<string, unknown> }> {
  if (typeof spec.manifest === "string") {
    const manifest = await loadManifest(spec.manifest);
    return { manifest, raw: JSON.parse(await fs.readFile(spec.manifest, "utf8")) };
  }
  const { manifest, problems } = parseManifest(spec.manifest);
  if (!manifest) throw new UserError(`invalid custom.manifest: ${problems.join("; ")}`);
  return { manifest, raw: spec.manifest };
}

/** sha256 of a file (wheel or manifest) for change detection. */
export async function fileSha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");
}

/**
 * Custom collection, as the server's `collect/custom/` does it: checks the interpreter (and
 * package root), finds the package root through `importlib.util.find_spec` when only the package
 * name is given, and builds the task list. Installs nothing, creates no folder.
 */
export async function collectCustomLocal(
  spec: CustomSpec,
  o: Pick<LocalOptions, "progress" | "stepTimeoutMs">,
): Promise<GroupState> {
  const log = new ActivityLog(o.progress);
  if (!(await isExecutableFile(spec.pythonInterpreter))) {
    throw new UserError(`custom.pythonInterpreter ${spec.pythonInterpreter} is not an executable file`);
  }
  const packageRoot = await customPackageRoot(spec, log, o.stepTimeoutMs);
  const { manifest } = await customManifest(spec);
  const tasks = prepareTasks(manifest, spec.pythonInterpreter, packageRoot, spec.version);
  log.write(`Registered ${tasks.length} tasks of ${spec.label} from ${packageRoot}`);
  return {
    origin: "other",
    pkgName: spec.label,
    version: spec.version,
    active: true,
    tasks,
    activityLog: tail(log.text()),
  };
}

export async function customPackageRoot(spec: CustomSpec, log: ActivityLog, timeoutMs: number): Promise<string> {
  if (spec.packageRoot) {
    try {
      if (!(await fs.stat(spec.packageRoot)).isDirectory()) throw new Error("not a directory");
      await fs.access(spec.packageRoot, fsc.R_OK);
    } catch {
      throw new UserError(`custom.packageRoot ${spec.packageRoot} is not a readable directory`);
    }
    return spec.packageRoot;
  }
  const mod = (spec.packageName as string).replace(/-/g, "_");
  const code = `import importlib.util; from pathlib import Path; init_path=importlib.util.find_spec("${mod}").origin; print(Path(init_path).parent.as_posix())`;
  try {
    const out = await runStep(log, `find package root of ${mod}`, spec.pythonInterpreter, ["-c", code], timeoutMs);
    const lines = out.replace(/\n+$/, "");
    if (!lines || lines.includes("\n")) throw new Error(`unexpected output ${JSON.stringify(out)}`);
    return lines;
  } catch (err) {
    throw new UserError(
      `cannot determine the package root of '${spec.packageName}' with ${spec.pythonInterpreter}: ${(err as Error).message}`,
    );
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
  await fs.rm(state.path, { recursive: true, force: true });
  // Remove the now-empty package folder, as a courtesy.
  await fs.rmdir(path.dirname(state.path)).catch(() => undefined);
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
