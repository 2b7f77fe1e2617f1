/**
 * The test Slurm cluster (scripts/slurm.sh: munged, slurmctld, two slurmd nodes in their own network
 * namespaces, a login sshd on 127.0.0.1): started by the test file that needs it (idempotently; up
 * in about 2 s once slurm-wlm and munge are installed by scripts/setup.sh) and stopped by the same
 * file when it was the one that started it, so nothing is left on the host. A failed start fails
 * the file (never a silent skip). `ssh` runs commands on the login node; `tunnel` opens `ssh -L`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { connects } from "./private-sshd";

const REPO_ROOT = path.resolve(__dirname, "../..");
const SCRIPT = path.join(REPO_ROOT, "scripts/slurm.sh");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SlurmCluster {
  /** The cluster's folder (config, keys, state, logs; removed by `down`). */
  dir: string;
  /** slurm.conf of the cluster (`SLURM_CONF`; the login node's sessions have it set). */
  conf: string;
  /** `root@127.0.0.1:PORT` of the login node's sshd. */
  login: string;
  /** The client config for `ssh -F` (key, known_hosts, BatchMode); host alias `pt-slurm-login`. */
  sshConfig: string;
  /** The login node's client key and known_hosts file (for other ssh clients). */
  sshKey: string;
  knownHosts: string;
  /** The default partition (both nodes). */
  partition: string;
  /** Compute node name → its address (reachable from the host and through the login node). */
  nodes: Record<string, string>;
}

function script(args: string[], timeoutMs: number): string {
  return execFileSync("bash", [SCRIPT, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: timeoutMs,
  });
}

/** Addresses and files of the cluster (scripts/slurm.sh env). */
export function slurmEnv(): SlurmCluster {
  const env: Record<string, string> = {};
  for (const line of script(["env"], 30_000).split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  const nodes: Record<string, string> = {};
  for (const pair of (env.PULUMI_TESSERACT_SLURM_NODES ?? "").split(" ").filter(Boolean)) {
    const [name, addr] = pair.split("=");
    nodes[name] = addr;
  }
  return {
    dir: env.PULUMI_TESSERACT_SLURM_DIR,
    conf: env.PULUMI_TESSERACT_SLURM_CONF,
    login: env.PULUMI_TESSERACT_SLURM_LOGIN,
    sshConfig: env.PULUMI_TESSERACT_SLURM_SSH_CONFIG,
    sshKey: env.PULUMI_TESSERACT_SLURM_SSH_KEY,
    knownHosts: env.PULUMI_TESSERACT_SLURM_KNOWN_HOSTS,
    partition: env.PULUMI_TESSERACT_SLURM_PARTITION,
    nodes,
  };
}

/** True when every daemon runs and both nodes are usable. */
export function slurmUp(): boolean {
  return /^cluster up$/m.test(script(["status"], 60_000));
}

/** What of the cluster is still on the host (scripts/slurm.sh leftovers), empty when nothing. */
export function slurmLeftovers(): string[] {
  try {
    script(["leftovers"], 60_000);
    return [];
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? String(err);
    return out.split("\n").filter(Boolean);
  }
}

/**
 * Starts the cluster unless it runs, and returns a `stop` for `after()` that stops it only when
 * this call started it (`started`: then nothing of it may be left on the host afterwards).
 */
export function startSlurmCluster(): { env: SlurmCluster; started: boolean; stop: () => void } {
  const started = !slurmUp();
  if (started) {
    try {
      script(["up"], 300_000);
    } catch (err) {
      // A half-started cluster goes (its logs stay in the cache's slurm-last-logs).
      script(["down"], 120_000);
      throw err;
    }
  }
  const env = slurmEnv();
  return {
    env,
    started,
    stop: () => {
      if (started) script(["down"], 120_000);
    },
  };
}

/** Runs a shell command line on the login node over ssh; returns its stdout (throws on failure). */
export function loginSsh(env: SlurmCluster, command: string, timeoutMs = 60_000): string {
  return execFileSync("ssh", ["-F", env.sshConfig, "pt-slurm-login", command], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
  });
}

/** An `ssh -N -L 127.0.0.1:localPort:host:port` through the login node; `close()` ends it. */
export interface SshTunnel {
  localPort: number;
  pid: number;
  close(): Promise<void>;
}

/** Opens a tunnel through the login node to `host:port` (e.g. a node address and a job's port). */
export async function openTunnel(env: SlurmCluster, localPort: number, host: string, port: number): Promise<SshTunnel> {
  const child: ChildProcess = spawn(
    "ssh",
    [
      "-F",
      env.sshConfig,
      "-N",
      "-o",
      "ExitOnForwardFailure=yes",
      "-L",
      `127.0.0.1:${localPort}:${host}:${port}`,
      "pt-slurm-login",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([gone, sleep(5_000)]);
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (await connects(localPort)) return { localPort, pid: child.pid ?? -1, close };
    await sleep(100);
  }
  await close();
  throw new Error(`ssh -L 127.0.0.1:${localPort}:${host}:${port} through ${env.login} did not open: ${stderr}`);
}

/**
 * PIDs of the login node's open sessions (processes under its sshd): an `ssh -L` tunnel, or a
 * command, still connected. Empty when the login node runs nothing.
 */
export function loginSessions(env: SlurmCluster): number[] {
  const sshd = Number(readFileSync(path.join(env.dir, "run/sshd.pid"), "utf8").trim());
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": the command may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parentOf.get(pid), hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf.get(p), hops++) {
      if (p === sshd) return true;
    }
    return false;
  };
  return [...parentOf.keys()].filter(under);
}

/** Polls fn (≤ limitMs, every stepMs) until it returns a value; fails with what it saw last. */
export async function until<T>(
  what: string,
  limitMs: number,
  fn: () => T | undefined | Promise<T | undefined>,
  stepMs = 500,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`${what}: not within ${limitMs / 1000} s${last ? ` (last: ${String(last)})` : ""}`);
}

/**
 * What a podman-mode job needs on the test cluster: podman's storage inside `workDir` (removed
 * with it; no systemd or journald here) and, in the job's setup, rlimits within this machine's
 * hard limits (root podman gives containers higher ones, and runc then fails with "error setting
 * rlimit type 7/6: operation not permitted").
 */
export function podmanJobOptions(workDir: string): { runtimeOptions: string[]; setup: string[] } {
  const p = path.join(workDir, "podman");
  mkdirSync(p, { recursive: true });
  return {
    runtimeOptions: [
      `--root=${p}/root`,
      `--runroot=${p}/run`,
      "--storage-driver=overlay",
      "--cgroup-manager=cgroupfs",
      "--events-backend=file",
    ],
    setup: [
      `printf '[containers]\\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\\n' "$(ulimit -Hn)" "$(ulimit -Hn)" >"${p}/containers.conf"`,
      `export CONTAINERS_CONF="${p}/containers.conf"`,
    ],
  };
}

/** Removes what podman-mode jobs stored under `workDir` (images, stopped containers), before the folder goes. */
export function removePodmanStorage(workDir: string): void {
  if (!existsSync(path.join(workDir, "podman"))) return;
  const { runtimeOptions } = podmanJobOptions(workDir);
  try {
    execFileSync("podman", [...runtimeOptions, "rm", "-a", "-f"], { stdio: "ignore", timeout: 120_000 });
    execFileSync("podman", [...runtimeOptions, "rmi", "-a", "-f"], { stdio: "ignore", timeout: 120_000 });
  } catch {
    // nothing stored, or podman gone: the folder is removed next
  }
  // overlay mounts a container left behind would keep the folder from going.
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n").reverse()) {
    const where = line.split(" ")[1];
    if (where?.startsWith(`${workDir}/`)) execFileSync("umount", ["-l", where], { stdio: "ignore" });
  }
}
