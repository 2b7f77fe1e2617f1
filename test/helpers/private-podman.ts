/**
 * A private rootful Podman API service (`podman system service --time=0 unix://…`) for engine
 * tests: its own storage root, run root, network config folder and containers.conf, its socket at
 * `<dir>/xdg/podman/podman.sock` (so `XDG_RUNTIME_DIR=<dir>/xdg` makes it the "rootless Podman"
 * socket of discovery). The shared dockerd is never touched.
 *
 * What Debian bookworm's Podman 4.3.1 needs here (observed):
 * - network backend netavark (+ aardvark-dns); its port forwarding adds NETAVARK-* iptables chains,
 *   removed again by dispose() when they did not exist before;
 * - storage driver overlay (kernel overlayfs; fuse-overlayfs is for rootless);
 * - cgroup manager cgroupfs and the file events backend (no systemd, no journald);
 * - rlimits: as root Podman gives containers nofile/nproc limits of 1048576 and more, which runc
 *   cannot set without CAP_SYS_RESOURCE ("error setting rlimit type 7/6: operation not permitted"),
 *   so containers.conf sets `default_ulimits` within this process's hard limits;
 * - the base image from the setup cache (`zstd -dc … | podman load`), tagged
 *   docker.io/library/debian:bookworm-slim: no registry is reachable.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { probeSocket } from "../../provider/docker/transport";
import { baseImageTarball } from "./private-dockerd";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hardLimit(name: string): number | undefined {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith(name));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : undefined;
}

function netavarkRules(): string {
  const s = spawnSync("sh", ["-c", "iptables -S; iptables -t nat -S"], { encoding: "utf8" }).stdout ?? "";
  return s
    .split("\n")
    .filter((l) => l.includes("NETAVARK"))
    .join("\n");
}

export class PrivatePodman {
  private child: ChildProcess | undefined;
  private readonly hadNetavarkRules = netavarkRules() !== "";
  private readonly onExit = () => this.child?.kill("SIGKILL");

  private constructor(readonly dir: string) {}

  /** The folder to use as XDG_RUNTIME_DIR so that discovery finds this service. */
  get xdgRuntimeDir(): string {
    return path.join(this.dir, "xdg");
  }
  get host(): string {
    return `unix://${this.xdgRuntimeDir}/podman/podman.sock`;
  }

  private get globalFlags(): string[] {
    return [
      "--root",
      path.join(this.dir, "root"),
      "--runroot",
      path.join(this.dir, "run"),
      "--storage-driver",
      "overlay",
      "--cgroup-manager",
      "cgroupfs",
      "--events-backend",
      "file",
      "--network-config-dir",
      path.join(this.dir, "net"),
      "--tmpdir",
      path.join(this.dir, "tmp"),
    ];
  }

  private get env(): NodeJS.ProcessEnv {
    return { ...process.env, CONTAINERS_CONF: path.join(this.dir, "containers.conf") };
  }

  /** Runs the podman CLI on this service's storage. */
  podman(...args: string[]): string {
    return execFileSync("podman", [...this.globalFlags, ...args], { env: this.env, encoding: "utf8" });
  }

  static async start(): Promise<PrivatePodman> {
    const p = new PrivatePodman(mkdtempSync("/tmp/ptf-podman-"));
    try {
      await p.startService();
      p.loadBaseImage();
      return p;
    } catch (err) {
      await p.dispose();
      throw err;
    }
  }

  private async startService(): Promise<void> {
    mkdirSync(path.join(this.xdgRuntimeDir, "podman"), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(this.dir, "net"));
    const nofile = Math.min(hardLimit("Max open files") ?? 1024, 1048576);
    const nproc = Math.min(hardLimit("Max processes") ?? 4096, 4096);
    writeFileSync(
      path.join(this.dir, "containers.conf"),
      `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]\n\n[network]\nnetwork_backend = "netavark"\n`,
    );
    const log = openSync(path.join(this.dir, "service.log"), "a");
    this.child = spawn("podman", [...this.globalFlags, "system", "service", "--time=0", this.host], {
      env: this.env,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    this.child.on("error", () => undefined);
    process.once("exit", this.onExit);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await probeSocket(this.host, 2_000)) === undefined) return;
      if (this.child.exitCode !== null) break;
      await sleep(200);
    }
    throw new Error(`podman system service did not answer on ${this.host}: ${this.logTail()}`);
  }

  private loadBaseImage(): void {
    const tarball = baseImageTarball();
    if (!tarball) throw new Error("no cached base image: run `bash scripts/setup.sh` first");
    const r = spawnSync(
      "sh",
      ["-c", 't="$1"; shift; zstd -dc "$t" | podman "$@" load', "sh", tarball, ...this.globalFlags],
      {
        env: this.env,
        encoding: "utf8",
        timeout: 180_000,
      },
    );
    if (r.status !== 0) throw new Error(`podman load failed: ${r.stderr}`);
    const loaded = /Loaded image(?:\(s\))?: (\S+)/.exec(r.stdout)?.[1] ?? "localhost/debian:bookworm-slim";
    this.podman("tag", loaded, "docker.io/library/debian:bookworm-slim");
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(path.join(this.dir, "service.log"), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops the service, removes its containers, storage, mounts and iptables chains it added. */
  async dispose(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        this.podman("rm", "--all", "--force");
      } catch {
        // nothing to remove, or storage already broken: removing the folder follows
      }
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    process.removeListener("exit", this.onExit);
    const mounts = spawnSync("sh", ["-c", `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r`], { encoding: "utf8" });
    for (const m of (mounts.stdout ?? "")
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean))
      spawnSync("umount", ["-l", m], { stdio: "ignore" });
    rmSync(this.dir, { recursive: true, force: true });
    if (!this.hadNetavarkRules) removeNetavarkRules();
  }
}

/** Deletes the NETAVARK-* chains and the jumps to them (only called when the test created them). */
function removeNetavarkRules(): void {
  const script = `
for t in filter nat; do
  iptables -t $t -S | grep -- '-A [A-Z]* .*-j NETAVARK' | sed 's/^-A/-D/' | while read -r rule; do eval iptables -t $t $rule; done
  for c in $(iptables -t $t -S | awk '/^-N NETAVARK/ {print $2}'); do iptables -t $t -F "$c"; done
  for c in $(iptables -t $t -S | awk '/^-N NETAVARK/ {print $2}'); do iptables -t $t -X "$c"; done
done`;
  spawnSync("sh", ["-c", script], { stdio: "ignore" });
}
