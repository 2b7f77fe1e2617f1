/**
 * `ssh://` engines, reached like the Docker CLI does: one `ssh … -- HOST docker system dial-stdio`
 * child per connection, whose stdin/stdout carry the HTTP connection. The local `ssh` binary does the
 * work, so the user's ~/.ssh/config, agent, keys and known_hosts apply exactly as for `docker`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Duplex } from "node:stream";

/** Parsed `ssh://[user@]host[:port][/socket/path]`, with the CLI's rules. */
export interface SshSpec {
  user?: string;
  host: string;
  port?: string;
  path?: string;
}

export function parseSshUrl(address: string): SshSpec {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new Error(`invalid ssh URL ${JSON.stringify(address)}`);
  }
  if (u.protocol !== "ssh:") throw new Error(`invalid ssh URL ${JSON.stringify(address)}: scheme must be ssh://`);
  if (u.password) throw new Error("invalid ssh URL: plain-text password is not supported");
  if (u.search) throw new Error(`invalid ssh URL: query parameters are not allowed: ${JSON.stringify(u.search)}`);
  if (u.hash) throw new Error(`invalid ssh URL: fragments are not allowed: ${JSON.stringify(u.hash)}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error("invalid ssh URL: hostname is empty");
  return {
    user: u.username ? decodeURIComponent(u.username) : undefined,
    host,
    port: u.port || undefined,
    path: u.pathname.replace(/\//g, "") ? decodeURIComponent(u.pathname) : undefined,
  };
}

/** Quotes one word for the remote shell (ssh joins the remote command with spaces). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `ssh` argv (without `ssh` itself) the Docker CLI runs for an ssh:// host. */
export function sshArgs(address: string, extraOptions: readonly string[] = []): string[] {
  const spec = parseSshUrl(address);
  const flags = [...extraOptions];
  if (!flags.join("").includes("ConnectTimeout")) flags.push("-o", "ConnectTimeout=30");
  // No pseudo-terminal: the remote command must not run as a login shell with a tty in the way.
  if (!flags.includes("-T")) flags.push("-T");
  const remote = spec.path
    ? ["docker", `--host=unix://${shellWord(spec.path)}`, "system", "dial-stdio"]
    : ["docker", "system", "dial-stdio"];
  return [
    ...flags,
    ...(spec.user ? ["-l", spec.user] : []),
    ...(spec.port ? ["-p", spec.port] : []),
    "--",
    spec.host,
    ...remote,
  ];
}

/** Why a dial-stdio child ended the connection; `code` lets the client call it "unreachable". */
export class DialStdioError extends Error {
  readonly code = "EDIALSTDIO";
  constructor(message: string) {
    super(message);
    this.name = "DialStdioError";
  }
}

/**
 * A socket-like Duplex over a child's stdin/stdout (what undici needs: read/write/destroy, plus
 * ref/unref so an idle pooled connection does not keep Node alive). Destroying it ends the child.
 */
export class CommandSocket extends Duplex {
  private stderrTail = "";
  private exited = false;
  private readonly spawned: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly label: string,
  ) {
    super();
    this.spawned = new Promise((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(new DialStdioError(`${this.label}: ${err.message}`)));
    });
    this.spawned.catch(() => undefined);
    const { stdin, stdout, stderr } = child;
    if (!stdin || !stdout || !stderr) throw new Error("CommandSocket needs piped stdio");
    stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000);
    });
    stdin.on("error", () => undefined); // EPIPE after the child exits: reported through 'close'
    child.on("error", (err) => this.destroy(new DialStdioError(`${this.label}: ${err.message}`)));
    child.on("close", (code, signal) => {
      this.exited = true;
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else {
        const why = this.stderrTail.trim().split("\n").slice(-3).join(" | ") || `exit ${code ?? signal}`;
        this.destroy(new DialStdioError(`${this.label} failed: ${why}`));
      }
    });
  }

  /** Resolves once the child runs; rejects when it cannot start (e.g. no `ssh` on PATH). */
  whenSpawned(): Promise<void> {
    return this.spawned;
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed) {
      cb(new DialStdioError(`${this.label}: the connection is closed`));
      return;
    }
    stdin.write(chunk, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.child.stdin?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.exited) this.child.kill("SIGTERM");
    this.child.stdout?.destroy();
    this.child.stdin?.destroy();
    cb(err);
  }

  ref(): this {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as { ref?: () => void })?.ref?.();
    return this;
  }

  unref(): this {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as { unref?: () => void })?.unref?.();
    return this;
  }
}

/** Spawns one `ssh … docker system dial-stdio` child and wraps its stdio as a socket. */
export function dialSsh(address: string, extraOptions: readonly string[] = []): CommandSocket {
  const args = sshArgs(address, extraOptions);
  const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"], env: process.env });
  return new CommandSocket(child, `ssh to ${address} (docker system dial-stdio)`);
}
