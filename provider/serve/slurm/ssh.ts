// One ssh connection to a Slurm login node, made with the system `ssh` binary (the user's
// ssh_config, agent and known_hosts apply, as for their own `ssh`): the argv every command and
// tunnel uses, the private files it needs (key, known_hosts, control socket) in one 0700 temp
// folder, and a ControlMaster so that the many short commands of a deployment share one
// authenticated connection. `close()` ends the master and removes the folder: nothing is left.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { TesseractPulumiError } from "../../common/errors";
import type { SlurmLogin } from "./inputs";

/** Default seconds for an ssh connection to open. */
export const DEFAULT_CONNECT_TIMEOUT = 20;
/** Seconds an idle ControlMaster stays after its last client (also bounds a crashed deployment's leftover). */
export const CONTROL_PERSIST_SECONDS = 30;

/** A command on the login node that failed, with its exit code and the tail of its stderr. */
export class SlurmCommandError extends TesseractPulumiError {
  /** Exit code of the remote command (255: ssh itself failed), or undefined when it was stopped (timeout) or killed. */
  readonly exitCode?: number;
  /** Last lines of the command's stderr. */
  readonly stderr: string;
  constructor(message: string, exitCode: number | undefined, stderr: string, hint?: string) {
    super(message, { hint });
    this.name = "SlurmCommandError";
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Quotes one word for the remote POSIX shell. */
export function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Options of one remote run. */
export interface RunOptions {
  /** Bytes written to the command's stdin (then stdin is closed, unless `holdStdin`). */
  input?: Buffer | string;
  /** Time limit; the ssh client is killed after it (default 120 s). */
  timeoutMs?: number;
  /**
   * Keep stdin open until the command ends. With a remote watchdog reading stdin (see
   * `WATCHDOG`), a killed or timed-out client then ends the remote command too.
   */
  holdStdin?: boolean;
}

/**
 * A remote shell snippet: when the client's connection goes (stdin reaches its end), everything
 * the command started (its process group: sshd made the session) gets SIGTERM. Put it after the
 * command has read what it needs from stdin (a background job's stdin is /dev/null, hence fd 3).
 */
export const WATCHDOG = "exec 3<&0; ( cat <&3 >/dev/null 2>&1; kill -TERM 0 ) >/dev/null 2>&1 & PT_WATCHDOG=$!";

/** ssh to one login node: argv, remote runs, and cleanup. */
export class SshLogin {
  /** `user@host:port` for messages (never a secret). */
  readonly address: string;
  private dir: string | undefined;
  private readonly children = new Set<ChildProcess>();
  private masterUsable = true;

  constructor(
    readonly login: SlurmLogin,
    /** Whether to share one connection (ControlMaster); off for tests of plain ssh. */
    private readonly multiplex = true,
  ) {
    this.address = `${login.user ? `${login.user}@` : ""}${login.host}${login.port ? `:${login.port}` : ""}`;
  }

  /** The private folder (0700), made on first use. */
  private folder(): string {
    if (!this.dir) {
      // Short prefix: the control socket path must stay under the 108-byte limit of unix sockets.
      this.dir = mkdtempSync(path.join(tmpdir(), "pt-ssh-"));
      if (this.login.privateKey !== undefined) {
        const key = this.login.privateKey.endsWith("\n") ? this.login.privateKey : `${this.login.privateKey}\n`;
        writeFileSync(path.join(this.dir, "key"), key, { mode: 0o600 });
      }
      if (this.login.knownHosts !== undefined)
        writeFileSync(path.join(this.dir, "known_hosts"), `${this.login.knownHosts.trim()}\n`, { mode: 0o600 });
    }
    return this.dir;
  }

  /** ssh options (before the host) shared by commands and tunnels. */
  options(): string[] {
    const l = this.login;
    const dir = this.folder();
    const o: string[] = [];
    if (l.sshConfig) o.push("-F", l.sshConfig);
    o.push("-o", "BatchMode=yes", "-o", `ConnectTimeout=${l.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT}`);
    o.push("-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR");
    o.push("-o", `StrictHostKeyChecking=${l.hostKeyChecking === "accept-new" ? "accept-new" : "yes"}`);
    if (l.privateKey !== undefined) o.push("-i", path.join(dir, "key"), "-o", "IdentitiesOnly=yes");
    else if (l.identityFile !== undefined) o.push("-i", l.identityFile, "-o", "IdentitiesOnly=yes");
    if (l.knownHosts !== undefined)
      o.push("-o", `UserKnownHostsFile=${path.join(dir, "known_hosts")}`, "-o", "GlobalKnownHostsFile=/dev/null");
    if (this.multiplex && this.masterUsable) {
      o.push("-o", "ControlMaster=auto", "-o", `ControlPath=${path.join(dir, "cm")}`);
      o.push("-o", `ControlPersist=${CONTROL_PERSIST_SECONDS}`);
    }
    if (l.port !== undefined) o.push("-p", String(l.port));
    if (l.user !== undefined) o.push("-l", l.user);
    return o;
  }

  /** Spawns `ssh <options> <extra> -- host [command]`; tracked so `close()` ends it. */
  spawn(extra: string[], command?: string): ChildProcess {
    const args = [...this.options(), ...extra, "--", this.login.host];
    if (command !== undefined) args.push(command);
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    child.once("close", () => this.children.delete(child));
    child.once("error", () => this.children.delete(child));
    return child;
  }

  /** Runs a shell command line on the login node; resolves to its stdout, rejects with a {@link SlurmCommandError}. */
  run(command: string, options: RunOptions = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const child = this.spawn(["-T"], command);
      const out: Buffer[] = [];
      let err = "";
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3_000).unref();
      }, timeoutMs);
      child.stdout?.on("data", (d: Buffer) => out.push(d));
      child.stderr?.on("data", (d: Buffer) => {
        err = (err + d.toString("utf8")).slice(-8_000);
      });
      child.stdin?.on("error", () => undefined);
      if (options.input !== undefined) child.stdin?.write(options.input);
      if (!options.holdStdin) child.stdin?.end();
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(
          new SlurmCommandError(
            `cannot run ssh for the Slurm login node ${this.address}: ${e.message}`,
            undefined,
            "",
            "install OpenSSH's ssh client",
          ),
        );
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        child.stdin?.destroy();
        const stdout = Buffer.concat(out).toString("utf8");
        if (code === 0) return resolve(stdout);
        const tail = err.trim().split("\n").slice(-15).join("\n");
        if (timedOut) {
          return reject(
            new SlurmCommandError(
              `the command on the Slurm login node ${this.address} took longer than ${timeoutMs / 1000} s and was stopped${tail ? `: ${tail}` : ""}`,
              undefined,
              tail,
            ),
          );
        }
        if (code === 255) {
          // A failed master (e.g. a socket path the system refuses) must not break every command.
          if (/ControlPath|ControlSocket|mux_client|control socket/i.test(tail) && this.masterUsable) {
            this.masterUsable = false;
            return this.run(command, options).then(resolve, reject);
          }
          return reject(
            new SlurmCommandError(
              `cannot reach the Slurm login node ${this.address} over ssh: ${tail || `exit ${code}`}`,
              255,
              tail,
              "check slurm.login (host, port, user, key) and that the login node's host key is in slurm.login.knownHosts or your known_hosts",
            ),
          );
        }
        reject(new SlurmCommandError(`${tail || `exit ${code ?? signal}`}`, code ?? undefined, tail));
      });
    });
  }

  /** Ends running ssh children and the ControlMaster, removes the private folder (key included). */
  async close(): Promise<void> {
    for (const c of this.children) c.kill("SIGTERM");
    const dir = this.dir;
    if (!dir) return;
    if (this.multiplex) {
      // `-O exit` asks the master to end now (not after ControlPersist); no master: a quick failure.
      await new Promise<void>((resolve) => {
        const args = [...this.options(), "-O", "exit", "--", this.login.host];
        const c = spawn("ssh", args, { stdio: "ignore" });
        const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
        c.once("close", () => {
          clearTimeout(t);
          resolve();
        });
        c.once("error", () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.dir = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}
