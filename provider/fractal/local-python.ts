/**
 * The Python side of local collection: running steps with deadlines and an activity log, finding
 * interpreters, and pip's index options (split from local.ts, unchanged).
 */
import { spawn } from "node:child_process";
import { constants as fsc } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { UserError } from "../common/errors";
import type { Progress } from "../common/log";
import type { LocalOptions } from "./local";
import { resolveVersion } from "./package-index";
import type { PipSpec } from "./schemas";
import { normalizePackageName, parseWheelFilename } from "./validators";

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

export async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsc.X_OK | fsc.R_OK);
    return true;
  } catch {
    return false;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

export async function probePython(bin: string): Promise<{ version: string; executable: string } | undefined> {
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

export function pipIndexArgs(o: LocalOptions): string[] {
  const args: string[] = [];
  if (o.pipNoIndex) args.push("--no-index");
  if (o.pipIndexUrl) args.push(`--index-url=${o.pipIndexUrl}`);
  for (const u of o.pipExtraIndexUrls ?? []) args.push(`--extra-index-url=${u}`);
  for (const f of o.pipFindLinks ?? []) args.push(`--find-links=${f}`);
  return args;
}

export function pipEnv(): NodeJS.ProcessEnv {
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
