/**
 * Drift of a collected task group: what changed behind Pulumi's back since the collection, so that
 * `read` (`pulumi refresh`) reports it in the `drift` output and the next `update` (`pulumi up`)
 * repairs it.
 *  - the venv is gone (an active group whose `<venv>/bin/python` is missing) → reinstall;
 *  - `pip freeze --all` of the venv differs from the freeze recorded at collection → reinstall from
 *    the recorded freeze;
 *  - the task list differs from the recorded one: on the server (a task PATCHed by hand) → patch the
 *    patchable fields back (`PATCH /api/v2/task/{id}/`), replace the group otherwise; locally (the
 *    installed manifest edited, an executable removed) → reinstall.
 * The server backend takes venv path and task list from the server; the freeze recorded at
 * collection comes from the collection's activity log (the REST API never exposes `env_info`, but
 * the collection logs the `pip freeze` output). Disk checks of a server group need its folder to be
 * visible on this machine (same host or shared file system); otherwise only the task list is checked.
 */
import { spawn } from "node:child_process";
import { constants as fsc } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { TaskInfo } from "./schemas";

/** One difference between what was collected and what is there now. */
export interface DriftItem {
  /** What drifted. */
  what: "venv" | "freeze" | "tasks";
  /** Human-readable description (shown by `pulumi refresh`). */
  detail: string;
  /** How `pulumi up` repairs it. */
  repair: "reinstall" | "patch-tasks" | "replace";
}

async function isFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** `<venv>/bin/python -m pip freeze --all` (bounded in time), or undefined when it cannot run. */
export function pipFreeze(venvPath: string, timeoutMs = 120_000): Promise<string | undefined> {
  const py = path.join(venvPath, "bin", "python");
  return new Promise((resolve) => {
    const child = spawn(py, ["-m", "pip", "freeze", "--all"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : undefined);
    });
  });
}

function freezeLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z0-9_.-]+)\s*(?:==|@|===)/.exec(line);
    const name = (m?.[1] ?? line).toLowerCase().replace(/[-_.]+/g, "-");
    out.set(name, line);
  }
  return out;
}

/** What differs between two `pip freeze` texts (`a==1 → a==2`, `+b==1`, `-c==2`); empty when equal. */
export function freezeDiff(recorded: string, current: string): string[] {
  const a = freezeLines(recorded);
  const b = freezeLines(current);
  const out: string[] = [];
  for (const [name, line] of a) {
    const now = b.get(name);
    if (now === undefined) out.push(`-${line}`);
    else if (now !== line) out.push(`${line} → ${now}`);
  }
  for (const [name, line] of b) if (!a.has(name)) out.push(`+${line}`);
  return out;
}

/**
 * The `pip freeze --all` output of a server collection, from its activity log: the server logs
 * every script's stdout at DEBUG (`STDOUT:` then the text) and `3_pip_freeze.sh` prints the freeze.
 */
export function freezeFromActivityLog(log: string): string | undefined {
  const lines = log.split("\n");
  const header = /^\d{4}-\d\d-\d\d[ T][\d:,.]+ - \S+ - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - /;
  const start = lines.findIndex((l) => /START subprocess call to '.*_pip_freeze\.sh'/.test(l));
  if (start < 0) return undefined;
  const so = lines.findIndex((l, i) => i > start && / - STDOUT:\s*$/.test(l));
  if (so < 0) return undefined;
  const out: string[] = [];
  for (let i = so + 1; i < lines.length; i++) {
    const l = lines[i];
    if (i === so + 1 && header.test(l)) {
      out.push(l.replace(header, ""));
      continue;
    }
    if (header.test(l)) break;
    out.push(l);
  }
  const text = `${out.join("\n").trim()}\n`;
  return /==|@/.test(text) ? text : undefined;
}

/** Task fields `PATCH /api/v2/task/{id}/` (`TaskUpdate`) can set back. */
export const PATCHABLE_TASK_FIELDS = [
  "commandNonParallel",
  "commandParallel",
  "inputTypes",
  "outputTypes",
  "category",
  "modality",
  "authors",
  "tags",
] as const;
const COMPARED_TASK_FIELDS = [
  ...PATCHABLE_TASK_FIELDS,
  "type",
  "metaNonParallel",
  "metaParallel",
  "argsSchemaNonParallel",
  "argsSchemaParallel",
  "docsInfo",
  "docsLink",
] as const;

function canon(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === "object")
      return Object.fromEntries(
        Object.entries(x as Record<string, unknown>)
          .filter(([, y]) => y !== undefined && y !== null)
          .sort(([p], [q]) => p.localeCompare(q))
          .map(([k, y]) => [k, sort(y)]),
      );
    return x;
  };
  return JSON.stringify(sort(v) ?? null);
}

/** Differences of two task lists, each with how it can be repaired on a server. */
export function taskListDrift(recorded: TaskInfo[], current: TaskInfo[], local = false): DriftItem[] {
  const items: DriftItem[] = [];
  const byName = new Map(current.map((t) => [t.name, t]));
  const recordedNames = new Set(recorded.map((t) => t.name));
  for (const t of recorded) {
    const now = byName.get(t.name);
    if (!now) {
      items.push({ what: "tasks", detail: `task '${t.name}' is gone`, repair: local ? "reinstall" : "replace" });
      continue;
    }
    for (const f of COMPARED_TASK_FIELDS) {
      if (canon(t[f]) === canon(now[f])) continue;
      const patchable = (PATCHABLE_TASK_FIELDS as readonly string[]).includes(f);
      items.push({
        what: "tasks",
        detail: `task '${t.name}': ${f} is ${short(now[f])}, was ${short(t[f])} at collection`,
        repair: local ? "reinstall" : patchable ? "patch-tasks" : "replace",
      });
    }
  }
  for (const t of current) {
    if (!recordedNames.has(t.name))
      items.push({ what: "tasks", detail: `task '${t.name}' was added`, repair: local ? "reinstall" : "replace" });
  }
  return items;
}

function short(v: unknown): string {
  const s = canon(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** Venv and freeze drift of an active group whose folder this machine can see. */
export async function venvDrift(opts: {
  groupPath?: string;
  venvPath?: string;
  recordedFreeze?: string;
}): Promise<DriftItem[]> {
  const { groupPath, venvPath, recordedFreeze } = opts;
  if (!groupPath || !venvPath || !(await isDir(groupPath))) return [];
  if (!(await isFile(path.join(venvPath, "bin", "python")))) {
    return [{ what: "venv", detail: `the venv ${venvPath} is gone`, repair: "reinstall" }];
  }
  if (!recordedFreeze) return [];
  const now = await pipFreeze(venvPath);
  if (now === undefined) {
    return [{ what: "venv", detail: `pip freeze fails in the venv ${venvPath}`, repair: "reinstall" }];
  }
  const d = freezeDiff(recordedFreeze, now);
  if (!d.length) return [];
  return [
    {
      what: "freeze",
      detail: `pip freeze of ${venvPath} differs from the collection: ${d.join(", ")}`,
      repair: "reinstall",
    },
  ];
}

/** The package root of a local pip group (`<site-packages>/<pkg_underscored>`), from a task command. */
export function packageRootOf(tasks: TaskInfo[], pkgName: string): string | undefined {
  const cmd = tasks[0]?.commandNonParallel ?? tasks[0]?.commandParallel;
  const file = cmd?.split(/\s+/).pop();
  const mod = `/${pkgName.replace(/-/g, "_")}/`;
  const i = file?.lastIndexOf(mod) ?? -1;
  return file && i >= 0 ? file.slice(0, i + mod.length - 1) : undefined;
}

/** Missing task executables (a local group's files removed by hand). */
export async function missingExecutables(tasks: TaskInfo[]): Promise<DriftItem[]> {
  const items: DriftItem[] = [];
  for (const t of tasks) {
    for (const c of [t.commandNonParallel, t.commandParallel]) {
      const file = c?.split(/\s+/).pop();
      if (file && !(await fs.stat(file).catch(() => undefined))) {
        items.push({ what: "tasks", detail: `task '${t.name}': ${file} is gone`, repair: "reinstall" });
      }
    }
  }
  return items;
}

/** The drift summary shown in outputs, or undefined when nothing drifted. */
export function driftOutput(items: DriftItem[]): DriftItem[] | undefined {
  return items.length ? items : undefined;
}
