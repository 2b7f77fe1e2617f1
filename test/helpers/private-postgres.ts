/**
 * A private PostgreSQL cluster, and a private fractal-server on it, for fault tests that stop or
 * restart them. Never the shared cluster (127.0.0.1:55432) nor another test's fractal-server:
 * own data folder (owned by user postgres), own port, own socket folder; the fractal-server gets
 * its own port, folder and database through scripts/fractal-server.sh's environment parameters.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { freePort } from "./serve-runtime";
import { REPO_ROOT } from "./stack";

export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgBin(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(a) - Number(b)) : [];
  if (!versions.length)
    throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql (run scripts/setup.sh)");
  return path.join(base, versions[versions.length - 1], "bin");
}

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no `postgres` user on this machine (install postgresql via scripts/setup.sh)");
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export class PrivatePostgres {
  readonly dir: string;
  private readonly bin = pgBin();

  private constructor(
    readonly name: string,
    readonly port: number,
  ) {
    this.dir = `/var/tmp/ptf-pg-${name}-${process.pid}`;
  }

  /** initdb (trust auth, fsync off) and start on a free 127.0.0.1 port. */
  static async start(name: string): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(name, await freePort());
    try {
      rmSync(pg.dir, { recursive: true, force: true });
      mkdirSync(pg.dir, { recursive: true });
      const { uid, gid } = postgresUid();
      chownSync(pg.dir, uid, gid);
      pg.asPostgres(["initdb", "-D", `${pg.dir}/data`, "-U", "postgres", "--auth=trust", "-N"], 60);
      await pg.startServer();
      return pg;
    } catch (err) {
      await pg.dispose();
      throw err;
    }
  }

  private asPostgres(args: string[], timeoutSeconds: number): string {
    const [tool, ...rest] = args;
    return execFileSync("runuser", ["-u", "postgres", "--", path.join(this.bin, tool), ...rest], {
      encoding: "utf8",
      timeout: timeoutSeconds * 1000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  async startServer(): Promise<void> {
    this.asPostgres(
      [
        "pg_ctl",
        "-D",
        `${this.dir}/data`,
        "-l",
        `${this.dir}/postgres.log`,
        "-w",
        "-t",
        "30",
        "-o",
        `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off`,
        "start",
      ],
      40,
    );
    await this.waitReady(30);
  }

  async stopServer(mode: "fast" | "immediate" = "fast"): Promise<void> {
    if (!existsSync(`${this.dir}/data/postmaster.pid`)) return;
    this.asPostgres(["pg_ctl", "-D", `${this.dir}/data`, "-w", "-t", "30", "-m", mode, "stop"], 40);
  }

  /** `pg_ctl restart -m fast`: every open connection is cut. */
  async restartServer(): Promise<void> {
    // -l: without a log file the server inherits our stdout pipe and the call never returns.
    this.asPostgres(
      ["pg_ctl", "-D", `${this.dir}/data`, "-l", `${this.dir}/postgres.log`, "-w", "-t", "30", "-m", "fast", "restart"],
      40,
    );
    await this.waitReady(30);
  }

  ready(): boolean {
    return (
      spawnSync(path.join(this.bin, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(this.port)]).status === 0
    );
  }

  private async waitReady(seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (this.ready()) return;
      await sleep(200);
    }
    throw new Error(`private PostgreSQL on 127.0.0.1:${this.port} not ready after ${seconds}s`);
  }

  /** Runs SQL with psql (as user postgres over tcp) and returns the unaligned output. */
  psql(sql: string, db = "postgres"): string {
    return execFileSync(
      path.join(this.bin, "psql"),
      ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qtAc", sql],
      { encoding: "utf8", timeout: 30_000 },
    ).trim();
  }

  async dispose(): Promise<void> {
    try {
      await this.stopServer("immediate");
    } catch {
      // not running
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface FractalCredentials {
  url: string;
  email: string;
  password: string;
  tasksDir: string;
}

/**
 * A fractal-server of our own on a private PostgreSQL, run by scripts/fractal-server.sh with
 * PULUMI_TESSERACT_PG_PORT / _FRACTAL_PORT / _FRACTAL_DIR pointing at private values.
 */
export class PrivateFractal {
  readonly dir: string;
  private constructor(
    readonly pg: PrivatePostgres,
    readonly port: number,
  ) {
    this.dir = `/var/tmp/ptf-fractal-${pg.name}-${process.pid}`;
  }

  static async start(pg: PrivatePostgres): Promise<PrivateFractal> {
    const f = new PrivateFractal(pg, await freePort());
    try {
      f.script("start", 120);
      return f;
    } catch (err) {
      await f.dispose();
      throw err;
    }
  }

  get env(): Record<string, string> {
    return {
      PULUMI_TESSERACT_PG_PORT: String(this.pg.port),
      PULUMI_TESSERACT_FRACTAL_PORT: String(this.port),
      PULUMI_TESSERACT_FRACTAL_DIR: this.dir,
    };
  }

  private script(cmd: "start" | "stop" | "status" | "reset", timeoutSeconds: number): string {
    const r = spawnSync("bash", [path.join(REPO_ROOT, "scripts/fractal-server.sh"), cmd], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env },
      encoding: "utf8",
      timeout: timeoutSeconds * 1000,
    });
    if (r.status !== 0 && cmd !== "status") {
      throw new Error(`fractal-server.sh ${cmd} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
    }
    return r.stdout;
  }

  get credentials(): FractalCredentials {
    return JSON.parse(readFileSync(path.join(this.dir, "credentials.json"), "utf8")) as FractalCredentials;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async alive(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/api/alive/`, { signal: AbortSignal.timeout(3000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  stop(): void {
    this.script("stop", 30);
  }

  startAgain(): void {
    this.script("start", 120);
  }

  /** The server's log tail, for assertion messages. */
  logTail(lines = 40): string {
    try {
      return readFileSync(path.join(this.dir, "server.log"), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  async dispose(): Promise<void> {
    try {
      this.script("stop", 30);
    } catch {
      // not running
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
