// Environment mode: the Tesseract's source in a Python venv on the cluster's shared file system,
// `<workDir>/envs/<hash>`, built once per content hash on the login node (which reaches the
// package index; compute nodes may not). The venv holds the Tesseract runtime
// (`tesseract-core[runtime]` at the version images get) and the Tesseract's requirements; the
// source is sent over the same ssh connection (a tar stream) into `<env>/src`.
//
// Never a half environment that looks done: the build happens in its own folder
// `envs/.env-<hash>-XXXXXX` (a venv cannot be moved: its scripts name their folder), and the hash's
// name `envs/<hash>` appears only when the build is complete, as a symlink made aside and renamed
// onto it (atomic). A `flock` on `envs/.<hash>.lock` makes a second build of the same hash wait
// and then reuse the first one's. A failed, killed or timed-out build removes its folder: the
// remote script's trap does it, and a watchdog on the ssh channel ends the build when the
// deploying side goes away.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { TesseractPulumiError } from "../../common/errors";
import type { SlurmCluster } from "./cluster";
import { SlurmCommandError, shQuote, WATCHDOG } from "./ssh";

/** Names never sent to the cluster nor hashed (caches and version control, as upstream's .dockerignore). */
const IGNORED = new Set([
  "__pycache__",
  ".git",
  ".venv",
  ".vscode",
  ".idea",
  ".DS_Store",
  ".pytest_cache",
  ".mypy_cache",
]);
/** Bump when the environment's layout or build steps change (a new hash rebuilds). */
const LAYOUT_VERSION = "1";
/** Largest source sent (bytes of the tar stream). */
const MAX_SOURCE_BYTES = 200 * 1024 * 1024;

/** What an environment is built from. */
export interface EnvironmentSpec {
  /** The Tesseract's source folder on the deploying machine (holds tesseract_api.py). */
  srcDir: string;
  /** The resolved work folder on the cluster (absolute). */
  workDir: string;
  /** tesseract-core version whose runtime is installed (the package's DEFAULT_RUNTIME_VERSION). */
  runtimeVersion: string;
  /** Python on the login node, also at that path on the compute nodes (default `python3`). */
  python?: string;
  /** Time limit of the build (default 20 min); waiting for another build of the same hash counts too. */
  timeoutMs?: number;
}

/** A ready environment. */
export interface ReadyEnvironment {
  /** `<workDir>/envs/<hash>`: `bin/tesseract-runtime`, `src/tesseract_api.py`. */
  dir: string;
  /** The content hash. */
  hash: string;
  /** True when it existed already (or another build made it while this one waited). */
  reused: boolean;
  /** Seconds this call took. */
  seconds: number;
}

/** A failed build: the step, and pip's (or the check's) last lines. */
export class EnvironmentBuildError extends TesseractPulumiError {
  /** The last lines of the build's log. */
  readonly logTail: string;
  constructor(message: string, logTail: string, hint?: string) {
    super(message, { property: "slurm", hint });
    this.name = "EnvironmentBuildError";
    this.logTail = logTail;
  }
}

/** Files of the source folder (relative POSIX paths, sorted), without {@link IGNORED} names. */
export function sourceFiles(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(srcDir, rel)).sort()) {
      if (IGNORED.has(name) || name.endsWith(".pyc")) continue;
      const relPath = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(srcDir, relPath));
      if (st.isDirectory()) walk(relPath);
      else if (st.isFile()) out.push(relPath);
    }
  };
  walk("");
  return out;
}

/**
 * The environment's content hash (16 hex): every source file's path and bytes, the runtime
 * version, the Python command and the layout version. Any change gives a new environment.
 */
export function environmentHash(spec: Pick<EnvironmentSpec, "srcDir" | "runtimeVersion" | "python">): string {
  const h = createHash("sha256");
  h.update(`layout ${LAYOUT_VERSION}\nruntime ${spec.runtimeVersion}\npython ${spec.python ?? "python3"}\n`);
  for (const rel of sourceFiles(spec.srcDir)) {
    const data = readFileSync(path.join(spec.srcDir, rel));
    h.update(`${rel}\0${data.length}\0`);
    h.update(data);
  }
  return h.digest("hex").slice(0, 16);
}

/** Where the environment of `hash` is (or will be). */
export function environmentDir(workDir: string, hash: string): string {
  return `${workDir}/envs/${hash}`;
}

/** The source folder as a tar stream (the local `tar`; ignored names left out). */
function tarSource(srcDir: string): Promise<Buffer> {
  const args = ["-C", srcDir, "-cf", "-", ...[...IGNORED].map((n) => `--exclude=${n}`), "--exclude=*.pyc", "."];
  return new Promise((resolve, reject) => {
    execFile("tar", args, { encoding: "buffer", maxBuffer: MAX_SOURCE_BYTES }, (err, stdout) => {
      if (err)
        reject(
          new TesseractPulumiError(`cannot pack the Tesseract source ${srcDir}: ${err.message}`, {
            property: "srcDir",
            hint: `the source must be a readable folder under ${MAX_SOURCE_BYTES / 1024 / 1024} MiB`,
          }),
        );
      else resolve(stdout);
    });
  });
}

/** The remote build script (bash): lock, re-check, unpack, venv, pip, check, publish. */
export function buildScript(o: {
  workDir: string;
  hash: string;
  size: number;
  python: string;
  runtimeVersion: string;
  lockWaitSeconds: number;
}): string {
  const envs = shQuote(`${o.workDir}/envs`);
  return [
    "set -euo pipefail",
    `envs=${envs}; hash=${o.hash}; final="$envs/$hash"; size=${o.size}`,
    'mkdir -p "$envs"',
    'ready() { [ -f "$final/.pulumi-tesseract-env" ] && [ -x "$final/bin/tesseract-runtime" ]; }',
    "# Another build of this hash finishes first, then this one reuses it.",
    'exec 9>"$envs/.$hash.lock"',
    `flock -w ${o.lockWaitSeconds} 9 || { head -c "$size" >/dev/null; echo "pt-env: another build of $hash held the lock for over ${o.lockWaitSeconds} s" >&2; exit 75; }`,
    'if ready; then head -c "$size" >/dev/null; echo "pt-env: reused"; exit 0; fi',
    '[ -L "$final" ] && rm -f "$final" # a dangling name left by a removed folder',
    'tmp="$(mktemp -d "$envs/.env-$hash-XXXXXX")"',
    "done=0",
    'trap \'[ "$done" = 1 ] || rm -rf "$tmp"; rm -f "$envs/.$hash.link"\' EXIT',
    "trap 'exit 143' TERM INT HUP",
    'fail() { echo "pt-env: $1 failed; the last lines of its log:" >&2; tail -n 40 "$tmp/build.log" >&2; exit 1; }',
    'mkdir "$tmp/src"',
    'head -c "$size" | tar -C "$tmp/src" -xf -',
    "# From here the deploying side only holds the connection: when it goes, the build stops.",
    WATCHDOG,
    `${shQuote(o.python)} -m venv "$tmp" >"$tmp/build.log" 2>&1 || fail "python -m venv (${o.python})"`,
    'cd "$tmp/src"',
    "reqs=(); [ -f tesseract_requirements.txt ] && reqs=(-r tesseract_requirements.txt)",
    `"$tmp/bin/python" -m pip install --disable-pip-version-check --no-input ${shQuote(`tesseract-core[runtime]==${o.runtimeVersion}`)} "\${reqs[@]}" >>"$tmp/build.log" 2>&1 || fail "pip install"`,
    'TESSERACT_API_PATH="$tmp/src/tesseract_api.py" "$tmp/bin/tesseract-runtime" check >>"$tmp/build.log" 2>&1 || fail "tesseract-runtime check (importing tesseract_api.py)"',
    `printf 'hash %s\\nruntime %s\\n' "$hash" ${shQuote(o.runtimeVersion)} >"$tmp/.pulumi-tesseract-env"`,
    "# Publish: a symlink made aside, renamed onto the hash's name (atomic).",
    'ln -sfn "$(basename "$tmp")" "$envs/.$hash.link"',
    'mv -T "$envs/.$hash.link" "$final"',
    "done=1",
    'kill "$PT_WATCHDOG" 2>/dev/null || true',
    'echo "pt-env: built"',
  ].join("\n");
}

/**
 * The environment of `spec` on the cluster: reused when its hash exists, else built (once, even
 * when two deployments ask at the same time). Failures carry pip's tail; nothing is left of them.
 */
export async function ensureEnvironment(cluster: SlurmCluster, spec: EnvironmentSpec): Promise<ReadyEnvironment> {
  const started = Date.now();
  const python = spec.python ?? "python3";
  const hash = environmentHash({ ...spec, python });
  const dir = environmentDir(spec.workDir, hash);
  const seconds = () => (Date.now() - started) / 1000;
  // The common case costs one short command and sends nothing.
  const probe = await cluster.run(
    `[ -f ${shQuote(dir)}/.pulumi-tesseract-env ] && [ -x ${shQuote(dir)}/bin/tesseract-runtime ] && echo ready || echo missing`,
    { timeoutMs: 60_000 },
  );
  if (probe.trim() === "ready") return { dir, hash, reused: true, seconds: seconds() };
  const tar = await tarSource(spec.srcDir);
  const timeoutMs = spec.timeoutMs ?? 20 * 60_000;
  const script = buildScript({
    workDir: spec.workDir,
    hash,
    size: tar.length,
    python,
    runtimeVersion: spec.runtimeVersion,
    lockWaitSeconds: Math.max(1, Math.floor(timeoutMs / 1000) - 5),
  });
  let out: string;
  try {
    out = await cluster.run(`bash -c ${shQuote(script)}`, { input: tar, holdStdin: true, timeoutMs });
  } catch (err) {
    if (err instanceof SlurmCommandError && err.exitCode !== undefined && err.exitCode !== 255) {
      const tail = err.stderr;
      const step = /pt-env: (.*?) failed/.exec(tail)?.[1];
      throw new EnvironmentBuildError(
        `building the Python environment for ${spec.srcDir} on the Slurm login node ${cluster.address} failed` +
          `${step ? ` at ${step}` : ""}:\n${tail}`,
        tail,
        step === "pip install"
          ? "check tesseract_requirements.txt, and that the login node reaches the package index (pip config there)"
          : step?.startsWith("python")
            ? "set slurm.python to a Python 3.9+ that has the venv module on the login node and the compute nodes"
            : undefined,
      );
    }
    throw err;
  }
  return { dir, hash, reused: /pt-env: reused/.test(out), seconds: seconds() };
}

/**
 * Removes the environment of `hash` (its name and its folder) under the build lock, so a build
 * in progress is not cut short. Nothing to do when it does not exist.
 */
export async function removeEnvironment(cluster: SlurmCluster, workDir: string, hash: string): Promise<void> {
  const envs = shQuote(`${workDir}/envs`);
  const script = [
    "set -eu",
    `envs=${envs}; hash=${hash}`,
    '[ -d "$envs" ] || exit 0',
    'exec 9>"$envs/.$hash.lock"',
    "flock -w 60 9",
    'if [ -L "$envs/$hash" ]; then t="$(readlink "$envs/$hash")"; rm -f "$envs/$hash"; case "$t" in .env-"$hash"-*) rm -rf "$envs/$t" ;; esac; fi',
    'rm -f "$envs/.$hash.lock"',
  ].join("\n");
  await cluster.run(`bash -c ${shQuote(script)}`, { timeoutMs: 120_000 });
}
