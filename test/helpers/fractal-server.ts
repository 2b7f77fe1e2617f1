/**
 * Test helpers for Fractal: a real fractal-server started by scripts/fractal-server.sh (idempotent;
 * shared by test files, never stopped by them), the fixture task package built into a wheel, and
 * small REST probes used by assertions.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { FractalClient, type TaskGroupListItem } from "../../provider/fractal/client";
import { requireVenvBin } from "./venv";

export const REPO_ROOT = path.resolve(__dirname, "../..");

export interface FractalServerInfo {
  url: string;
  email: string;
  password: string;
  /** The server resource's `tasks_local_dir`. */
  tasksDir: string;
}

/** The stack config that points TaskGroups at a test server (the password a secret). */
export function fractalStackConfig(info: FractalServerInfo): Record<string, { value: string; secret?: boolean }> {
  return {
    "fractal:url": { value: info.url },
    "fractal:email": { value: info.email },
    "fractal:password": { value: info.password, secret: true },
  };
}

/**
 * The fractal-server versions of the test matrix (scripts/fractal-versions.txt), newest first.
 */
export function fractalMatrix(): string[] {
  return readFileSync(path.join(REPO_ROOT, "scripts/fractal-versions.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim().split(/\s+/)[0])
    .filter(Boolean);
}

/**
 * The version server-backend test files run against: `PULUMI_TESSERACT_FRACTAL_SERVER_VERSION`
 * (a matrix version or prefix, e.g. `2.24`; scripts/test.sh sets it for the matrix run), else the
 * newest of the matrix.
 */
export function selectedFractalVersion(): string {
  const want = process.env.PULUMI_TESSERACT_FRACTAL_SERVER_VERSION;
  const all = fractalMatrix();
  if (!want) return all[0];
  const v = [...all, "2.18.5"].find((x) => x === want || x.startsWith(`${want}.`));
  if (!v) throw new Error(`PULUMI_TESSERACT_FRACTAL_SERVER_VERSION=${want} is not in scripts/fractal-versions.txt`);
  return v;
}

/** Folder of a started server (scripts/fractal-server.sh's DIR): its log is `server.log` there. */
export function fractalServerDir(version = selectedFractalVersion()): string {
  const cache = process.env.PULUMI_TESSERACT_CACHE || path.join(homedir(), ".cache", "pulumi-tesseract");
  return path.join(cache, `fractal-server-${version}`);
}

/**
 * Starts (or reuses) the test fractal-server of `version` (default: {@link selectedFractalVersion})
 * and returns its admin credentials. Each version has its own port, database and folder.
 */
export function startFractalServer(version = selectedFractalVersion()): FractalServerInfo {
  const out = execFileSync("bash", [path.join(REPO_ROOT, "scripts/fractal-server.sh"), "start"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 180_000,
    env: { ...process.env, PULUMI_TESSERACT_FRACTAL_SERVER_VERSION: version },
  });
  const file = out.trim().split("\n").pop() as string;
  return JSON.parse(readFileSync(file, "utf8")) as FractalServerInfo;
}

/** The fractal-server version the test server of `version` runs (as scripts/fractal-server.sh resolves it). */
export function fractalServerVersion(version = selectedFractalVersion()): string {
  return execFileSync("bash", [path.join(REPO_ROOT, "scripts/fractal-server.sh"), "version"], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PULUMI_TESSERACT_FRACTAL_SERVER_VERSION: version },
  }).trim();
}

const FIXTURE = path.join(REPO_ROOT, "test/helpers/fixtures/fractal-tasks");

/**
 * Builds test/helpers/fixtures/fractal-tasks into a wheel (once per process; in a copy, so the fixture
 * folder stays clean) and returns its absolute path.
 */
let builtWheel: string | undefined;
export function buildFixtureWheel(): string {
  if (builtWheel && existsSync(builtWheel)) return builtWheel;
  const work = mkdtempSync(path.join(tmpdir(), "pt-fractal-wheel-"));
  const src = path.join(work, "src");
  cpSync(FIXTURE, src, { recursive: true });
  const dist = path.join(work, "dist");
  mkdirSync(dist);
  execFileSync(requireVenvBin("python"), ["-m", "build", "--wheel", "--outdir", dist, src], {
    stdio: "pipe",
    timeout: 300_000,
  });
  const whl = readdirSync(dist).find((f) => f.endsWith(".whl"));
  if (!whl) throw new Error(`no wheel built in ${dist}`);
  builtWheel = path.join(dist, whl);
  return builtWheel;
}

/**
 * Builds a variant of the fixture package: `version` replaces 0.1.0 and `editManifest` rewrites the
 * manifest (e.g. an invalid one), or `dropManifest` leaves it out of the wheel.
 */
export function buildVariantWheel(opts: {
  version: string;
  editManifest?: (m: Record<string, unknown>) => unknown;
  dropManifest?: boolean;
}): string {
  const work = mkdtempSync(path.join(tmpdir(), "pt-fractal-variant-"));
  const src = path.join(work, "src");
  cpSync(FIXTURE, src, { recursive: true });
  const pyproject = path.join(src, "pyproject.toml");
  writeFileSync(pyproject, readFileSync(pyproject, "utf8").replace('version = "0.1.0"', `version = "${opts.version}"`));
  const manifest = path.join(src, "src/pt_fractal_tasks/__FRACTAL_MANIFEST__.json");
  if (opts.dropManifest) rmSync(manifest);
  else if (opts.editManifest)
    writeFileSync(manifest, JSON.stringify(opts.editManifest(JSON.parse(readFileSync(manifest, "utf8")))));
  const dist = path.join(work, "dist");
  mkdirSync(dist);
  execFileSync(requireVenvBin("python"), ["-m", "build", "--wheel", "--outdir", dist, src], {
    stdio: "pipe",
    timeout: 300_000,
  });
  const whl = readdirSync(dist).find((f) => f.endsWith(".whl"));
  if (!whl) throw new Error(`no wheel built in ${dist}`);
  return path.join(dist, whl);
}

/** A copy of the fixture wheel under another file name/dir (e.g. to vary the path). */
export function copyWheel(wheel: string, dir: string, name = path.basename(wheel)): string {
  mkdirSync(dir, { recursive: true });
  const dst = path.join(dir, name);
  cpSync(wheel, dst);
  return dst;
}

/** Every task group the admin owns on the test server (slim tasks since 2.19). */
export async function serverTaskGroups(info: FractalServerInfo): Promise<TaskGroupListItem[]> {
  return new FractalClient(info).taskGroups();
}

/** Deletes leftover groups of `pkgNames` on the server (test hygiene), waiting for each deletion. */
export async function purgeServerGroups(info: FractalServerInfo, pkgNames: string[]): Promise<void> {
  const client = new FractalClient(info);
  for (const g of await client.taskGroups()) {
    if (!pkgNames.includes(g.pkg_name)) continue;
    const a = await client.lifecycle(g.id, "delete");
    for (let i = 0; i < 60; i++) {
      const cur = await client.activity(a.id);
      if (cur.status === "OK" || cur.status === "failed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A fresh temporary tasks directory for the local backend. */
export function tempTasksDir(prefix = "pt-fractal-tasks-"): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Files and folders left under a directory (recursively, relative paths), for "no trace" checks. */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory() && out.length < 200) walk(path.join(d, e.name), r);
    }
  };
  walk(dir, "");
  return out;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Default local tasks dir (mirrors provider/fractal/local.ts). */
export function defaultTasksDir(): string {
  return process.env.PULUMI_TESSERACT_TASKS_DIR || path.join(homedir(), ".cache", "pulumi-tesseract", "fractal-tasks");
}
