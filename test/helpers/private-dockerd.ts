/**
 * A second, private dockerd for fault tests that stop, kill or restart the engine. It never
 * touches the shared daemon (/var/run/docker.sock): own data root, exec root (hence its own
 * containerd), pid file, unix socket and bridge.
 *
 * What works next to the shared daemon on one host (Docker 20.10, observed):
 *   dockerd --data-root D/data --exec-root D/exec --pidfile D/dockerd.pid -H unix://D/docker.sock
 *           --bridge=<own bridge> --iptables=false --ip-masq=false --ip6tables=false
 * The default bridge cannot be `docker0` (the shared daemon owns it), and `--bridge=none` leaves no
 * network to publish ports on, so the helper creates a bridge of its own (`ptf<hash>`, a /24 in
 * 10.214-10.253) before starting the daemon and deletes it afterwards. Published ports work through
 * docker-proxy (userland proxy) without iptables; containers get no outbound NAT, which Tesseract
 * services do not need (builds use host networking).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { DockerClient } from "../../provider/docker";

export interface PrivateDockerdOptions {
  /** Short name used in paths and the bridge name. */
  name: string;
  /** Load the cached base image (`debian:bookworm-slim`) after the first start. Default true. */
  loadBaseImage?: boolean;
  /** Seconds to wait for the API (default 30). */
  startTimeoutSeconds?: number;
  /** More dockerd flags, e.g. a second `-H tcp://127.0.0.1:PORT` with `--tlsverify` and its files. */
  extraArgs?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cacheDir(): string {
  return process.env.PULUMI_TESSERACT_CACHE || path.join(homedir(), ".cache", "pulumi-tesseract");
}

/** The cached base image tarball written by scripts/setup.sh. */
export function baseImageTarball(): string | undefined {
  const dir = cacheDir();
  if (!existsSync(dir)) return undefined;
  const hits = readdirSync(dir)
    .filter((f) => /^base-image-[0-9a-f]+\.tar\.zst$/.test(f))
    .map((f) => path.join(dir, f));
  return hits[0];
}

function usedSubnets(): Set<string> {
  const out = new Set<string>();
  try {
    const text = execFileSync("ip", ["-4", "-o", "addr"], { encoding: "utf8" });
    for (const m of text.matchAll(/inet (\d+\.\d+\.\d+)\.\d+\//g)) out.add(m[1]);
    const routes = execFileSync("ip", ["-4", "route"], { encoding: "utf8" });
    for (const m of routes.matchAll(/^(\d+\.\d+\.\d+)\.\d+\//gm)) out.add(m[1]);
  } catch {
    // no iproute2: take the first candidate
  }
  return out;
}

function hash(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h;
}

export class PrivateDockerd {
  readonly dir: string;
  readonly host: string;
  readonly bridge: string;
  private subnet = "";
  private child: ChildProcess | undefined;
  private pid: number | undefined;
  private clientInstance: DockerClient | undefined;
  private readonly onExit = () => this.killSync();
  /** Interrupted test run (^C, or the runner's SIGTERM): no daemon may outlive it. */
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.killSync();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };

  private constructor(private readonly opts: PrivateDockerdOptions) {
    const tag = `${opts.name}-${process.pid}`.replace(/[^A-Za-z0-9_.-]/g, "-");
    // Short path: unix socket paths are limited to 108 bytes.
    this.dir = path.join("/tmp", `ptf-dockerd-${tag}`);
    this.host = `unix://${this.dir}/docker.sock`;
    this.bridge = `ptf${(hash(tag) % 0xffffff).toString(16)}`.slice(0, 15);
  }

  /** Creates the bridge and data folders, starts the daemon and (by default) loads the base image. */
  static async start(opts: PrivateDockerdOptions): Promise<PrivateDockerd> {
    const d = new PrivateDockerd(opts);
    try {
      mkdirSync(d.dir, { recursive: true });
      d.createBridge();
      await d.startDaemon();
      if (opts.loadBaseImage !== false) await d.loadBaseImage();
      return d;
    } catch (err) {
      await d.dispose().catch(() => undefined);
      throw err;
    }
  }

  /** The address to pass as a resource's `docker: {host}` input. */
  get connection(): { host: string } {
    return { host: this.host };
  }

  /** A client of its own (not the shared per-host cache), recreated after restarts. */
  get client(): DockerClient {
    this.clientInstance ??= new DockerClient({ host: this.host });
    return this.clientInstance;
  }

  get running(): boolean {
    return this.pid !== undefined && alive(this.pid);
  }

  private createBridge(): void {
    spawnSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
    const used = usedSubnets();
    const start = hash(this.bridge);
    for (let i = 0; i < 40 * 250; i += 1) {
      const n = (start + i) % (40 * 250);
      const candidate = `10.${214 + Math.floor(n / 250)}.${n % 250}`;
      if (!used.has(candidate)) {
        this.subnet = candidate;
        break;
      }
    }
    if (!this.subnet) throw new Error("private dockerd: no free 10.x subnet for its bridge");
    execFileSync("ip", ["link", "add", "name", this.bridge, "type", "bridge"]);
    execFileSync("ip", ["addr", "add", `${this.subnet}.1/24`, "dev", this.bridge]);
    execFileSync("ip", ["link", "set", this.bridge, "up"]);
  }

  /** Starts (or restarts) the daemon on the same data root and waits for `/_ping`. */
  async startDaemon(): Promise<void> {
    if (this.running) return;
    const log = openSync(path.join(this.dir, "dockerd.log"), "a");
    const args = [
      "--data-root",
      path.join(this.dir, "data"),
      "--exec-root",
      path.join(this.dir, "exec"),
      "--pidfile",
      path.join(this.dir, "dockerd.pid"),
      "-H",
      this.host,
      `--bridge=${this.bridge}`,
      "--iptables=false",
      "--ip-masq=false",
      "--ip6tables=false",
      "--userland-proxy=true",
      ...(this.opts.extraArgs ?? []),
    ];
    this.child = spawn("dockerd", args, { stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    this.child.on("error", () => undefined);
    this.pid = this.child.pid;
    this.child.unref();
    process.once("exit", this.onExit);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    const deadline = Date.now() + (this.opts.startTimeoutSeconds ?? 30) * 1000;
    while (Date.now() < deadline) {
      if (await this.pings()) return;
      if (!this.running) break;
      await sleep(250);
    }
    throw new Error(`private dockerd ${this.host} did not answer /_ping; log tail:\n${this.logTail()}`);
  }

  /** True when the API answers within 2 s. */
  async pings(): Promise<boolean> {
    const r = spawnSync(
      "curl",
      ["-sf", "--max-time", "2", "--unix-socket", `${this.dir}/docker.sock`, "http://localhost/_ping"],
      { encoding: "utf8" },
    );
    return r.status === 0 && r.stdout.trim() === "OK";
  }

  /** Stops the daemon like an operator would (SIGTERM, bounded wait, then SIGKILL). */
  async stopDaemon(timeoutSeconds = 25): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (alive(pid) && Date.now() < deadline) await sleep(200);
    if (alive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
      while (alive(pid) && Date.now() < deadline + 5000) await sleep(100);
    }
    this.killStrayContainerd();
    this.pid = undefined;
    process.removeListener("exit", this.onExit);
    process.removeListener("SIGINT", this.onSignal);
    process.removeListener("SIGTERM", this.onSignal);
    // Old pooled connections point at a dead socket; a fresh client after restart.
    const c = this.clientInstance;
    this.clientInstance = undefined;
    await c?.close().catch(() => undefined);
  }

  /** Stop, then start again on the same data root. */
  async restartDaemon(): Promise<void> {
    await this.stopDaemon();
    await this.startDaemon();
  }

  /** `zstd -dc base-image.tar.zst | POST /images/load`, unless the image is there already. */
  async loadBaseImage(): Promise<void> {
    if (await this.client.inspectImage("debian:bookworm-slim")) return;
    const tarball = baseImageTarball();
    if (!tarball) throw new Error("no cached base image under the cache dir: run `bash scripts/setup.sh` first");
    const r = spawnSync("sh", ["-c", `zstd -dc "$1" | docker -H "$2" load`, "sh", tarball, this.host], {
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`loading the base image into ${this.host} failed: ${r.stderr}`);
  }

  /** The last lines of the daemon's log (for assertion messages). */
  logTail(lines = 30): string {
    try {
      return readFileSync(path.join(this.dir, "dockerd.log"), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Everything gone: containers, daemon, mounts, folders, bridge. Safe to call twice. */
  async dispose(): Promise<void> {
    if (this.running) {
      try {
        for (const c of await this.client.listContainers({}, true)) await this.client.removeContainer(c.Id);
      } catch {
        // daemon not answering: stopping it is enough
      }
    }
    await this.stopDaemon();
    const mounts = spawnSync("sh", ["-c", `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r`], {
      encoding: "utf8",
    });
    for (const m of mounts.stdout
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean)) {
      spawnSync("umount", ["-l", m], { stdio: "ignore" });
    }
    rmSync(this.dir, { recursive: true, force: true });
    spawnSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
  }

  /** Last resort at process exit: no daemon outlives the test process. */
  private killSync(): void {
    const pid = this.pid;
    if (pid !== undefined && alive(pid)) {
      // SIGTERM lets dockerd stop its containers (no shim outlives it); bounded, then SIGKILL.
      spawnSync(
        "sh",
        [
          "-c",
          'kill -TERM "$1"; i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 75 ]; do sleep 0.2; i=$((i+1)); done; kill -KILL "$1" 2>/dev/null; true',
          "sh",
          String(pid),
        ],
        { stdio: "ignore", timeout: 20_000 },
      );
    }
    this.killStrayContainerd();
    spawnSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
  }

  /** The containerd that this daemon started (its command line names our exec root). */
  private killStrayContainerd(): void {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
        if (cmdline.startsWith("containerd") && cmdline.includes(`${this.dir}/exec/`)) {
          process.kill(Number(entry), "SIGKILL");
        }
      } catch {
        // raced with its exit
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0): look at its state.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
