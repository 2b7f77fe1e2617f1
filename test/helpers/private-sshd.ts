/**
 * A private OpenSSH server on 127.0.0.1 for ssh:// engine tests: its own host key, one authorized
 * client key made here, its own port, config and pid file; the system's sshd and ~/.ssh are never
 * touched. The client side is an ssh config file (known_hosts written here, the key, BatchMode) and a
 * folder with an `ssh` wrapper that adds `-F <that config>`, to put first on PATH: the Docker CLI (and
 * the provider, which works like it) runs plain `ssh`, which reads the user's own config.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export class PrivateSshd {
  private child: ChildProcess | undefined;
  private readonly onExit = () => this.child?.kill("SIGKILL");

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `ssh://root@127.0.0.1:PORT` (append a socket path to reach another engine on that host). */
  get url(): string {
    return `ssh://root@127.0.0.1:${this.port}`;
  }
  /** The client config (`ssh -F`), also usable as `sshOptions: ["-F", configFile]`. */
  get configFile(): string {
    return path.join(this.dir, "ssh_config");
  }
  /** Folder holding an `ssh` wrapper that uses configFile; prepend it to PATH. */
  get binDir(): string {
    return path.join(this.dir, "bin");
  }

  static async start(): Promise<PrivateSshd> {
    const dir = mkdtempSync("/tmp/ptf-sshd-");
    const d = new PrivateSshd(dir, await freePort());
    try {
      d.writeFiles();
      await d.startDaemon();
      return d;
    } catch (err) {
      await d.dispose();
      throw err;
    }
  }

  private writeFiles(): void {
    const d = this.dir;
    const keygen = (file: string) =>
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ptf", "-f", file]);
    keygen(path.join(d, "host_key"));
    keygen(path.join(d, "client_key"));
    writeFileSync(path.join(d, "authorized_keys"), readFileSync(path.join(d, "client_key.pub")), { mode: 0o600 });
    const hostPub = readFileSync(path.join(d, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    writeFileSync(path.join(d, "known_hosts"), `[127.0.0.1]:${this.port} ${hostPub}\n`);
    writeFileSync(
      path.join(d, "sshd_config"),
      [
        `Port ${this.port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${d}/host_key`,
        `AuthorizedKeysFile ${d}/authorized_keys`,
        `PidFile ${d}/sshd.pid`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "AllowTcpForwarding no",
        "X11Forwarding no",
        "PrintMotd no",
        "",
      ].join("\n"),
    );
    writeFileSync(
      this.configFile,
      [
        "Host 127.0.0.1",
        `  IdentityFile ${d}/client_key`,
        "  IdentitiesOnly yes",
        `  UserKnownHostsFile ${d}/known_hosts`,
        "  GlobalKnownHostsFile /dev/null",
        "  StrictHostKeyChecking yes",
        "  BatchMode yes",
        "  LogLevel ERROR",
        "",
      ].join("\n"),
    );
    mkdirSync(this.binDir);
    const wrapper = path.join(this.binDir, "ssh");
    writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/ssh -F '${this.configFile}' "$@"\n`);
    chmodSync(wrapper, 0o755);
  }

  private async startDaemon(): Promise<void> {
    // sshd insists on its privilege-separation folder; creating it changes nothing else.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const log = path.join(this.dir, "sshd.log");
    this.child = spawn("/usr/sbin/sshd", ["-D", "-f", path.join(this.dir, "sshd_config"), "-E", log], {
      stdio: "ignore",
    });
    this.child.on("error", () => undefined);
    process.once("exit", this.onExit);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (await connects(this.port)) return;
      if (this.child.exitCode !== null) break;
      await sleep(100);
    }
    let tail = "";
    try {
      tail = readFileSync(log, "utf8");
    } catch {
      // no log
    }
    throw new Error(`private sshd on 127.0.0.1:${this.port} did not start: ${tail}`);
  }

  async dispose(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(5_000)]);
    }
    process.removeListener("exit", this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
