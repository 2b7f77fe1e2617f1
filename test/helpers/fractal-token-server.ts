/**
 * A fractal-server of our own for the bearer-token tests: scripts/fractal-server.sh on the shared
 * test PostgreSQL with its own port, folder and database (the database name carries the port),
 * a fixed `JWT_SECRET_KEY` and a long `JWT_EXPIRE_SECONDS` given in the environment (which wins
 * over the script's `.fractal_server.env`), so that a token issued by its own password login stays
 * valid when it is restarted with `FRACTAL_DISABLE_BASIC_AUTH=true` (no `/auth/token/login/`).
 * Never the shared test server; `dispose()` stops it, drops its database and removes its folder.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { REPO_ROOT, selectedFractalVersion } from "./fractal-server";
import { freePort } from "./serve-runtime";

export interface TokenServerCredentials {
  url: string;
  email: string;
  password: string;
  /** The server resource's `tasks_local_dir`. */
  tasksDir: string;
}

export class TokenFractalServer {
  readonly dir: string;
  /** The JWT secret every start of this server uses (tokens survive restarts). */
  private readonly jwtSecret = randomBytes(24).toString("hex");
  private basicAuth = true;

  private constructor(
    readonly port: number,
    readonly version: string,
  ) {
    this.dir = `/var/tmp/pt-fractal-token-${process.pid}-${port}`;
  }

  /** Starts a fresh server (password login on); a leftover database of the same port is dropped first. */
  static async start(version = selectedFractalVersion()): Promise<TokenFractalServer> {
    const s = new TokenFractalServer(await freePort(), version);
    try {
      s.script("reset", 60);
      s.script("start", 240);
      return s;
    } catch (err) {
      s.dispose();
      throw err;
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(): Record<string, string> {
    return {
      PULUMI_TESSERACT_FRACTAL_SERVER_VERSION: this.version,
      PULUMI_TESSERACT_FRACTAL_PORT: String(this.port),
      PULUMI_TESSERACT_FRACTAL_DIR: this.dir,
      PULUMI_TESSERACT_FRACTAL_JWT_EXPIRE: "7200",
      JWT_SECRET_KEY: this.jwtSecret,
      JWT_EXPIRE_SECONDS: "7200",
      FRACTAL_DISABLE_BASIC_AUTH: this.basicAuth ? "false" : "true",
    };
  }

  private script(cmd: "start" | "stop" | "reset", timeoutSeconds: number): string {
    const r = spawnSync("bash", [path.join(REPO_ROOT, "scripts/fractal-server.sh"), cmd], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env() },
      encoding: "utf8",
      timeout: timeoutSeconds * 1000,
    });
    if (r.status !== 0) {
      throw new Error(`fractal-server.sh ${cmd} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-2000)}`);
    }
    return r.stdout;
  }

  /** The admin account (password login). */
  get credentials(): TokenServerCredentials {
    return JSON.parse(readFileSync(path.join(this.dir, "credentials.json"), "utf8")) as TokenServerCredentials;
  }

  /**
   * `POST /auth/token/login/` with the admin's email and password, on a connection of its own (a
   * kept-alive one would not survive the restart).
   */
  async postLogin(): Promise<{ status: number; body: string }> {
    const c = this.credentials;
    const agent = new Agent();
    try {
      const res = await request(`${this.url}/auth/token/login/`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ username: c.email, password: c.password }).toString(),
        dispatcher: agent,
        headersTimeout: 30_000,
      });
      return { status: res.statusCode, body: await res.body.text() };
    } finally {
      await agent.close();
    }
  }

  /** A token from the server's own password login. */
  async login(): Promise<string> {
    const res = await this.postLogin();
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.body}`);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  }

  /** Restarts the server with `FRACTAL_DISABLE_BASIC_AUTH=true` (same JWT secret). */
  restartWithoutBasicAuth(): void {
    this.script("stop", 60);
    this.basicAuth = false;
    this.script("start", 240);
  }

  /**
   * A token of user `userId` signed with the server's secret that expired a minute ago, made as
   * fractal-server's JWT strategy makes its tokens (fastapi-users' `generate_jwt`, audience
   * `fastapi-users:auth`), with the newest fractal-server venv's fastapi-users.
   */
  expiredToken(userId: number): string {
    const venv = process.env.PULUMI_TESSERACT_FRACTAL_VENV;
    if (!venv) throw new Error("PULUMI_TESSERACT_FRACTAL_VENV is not set (source scripts/env.sh)");
    return execFileSync(
      path.join(venv, "bin/python"),
      [
        "-c",
        "import os, sys; from fastapi_users.jwt import generate_jwt; " +
          'print(generate_jwt({"sub": sys.argv[1], "aud": ["fastapi-users:auth"]}, os.environ["PT_JWT_SECRET"], lifetime_seconds=-60))',
        String(userId),
      ],
      { encoding: "utf8", env: { ...process.env, PT_JWT_SECRET: this.jwtSecret }, timeout: 60_000 },
    ).trim();
  }

  /** The server's log tail, for assertion messages. */
  logTail(lines = 40): string {
    try {
      return readFileSync(path.join(this.dir, "server.log"), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** Stops the server, drops its database and removes its folder. */
  dispose(): void {
    try {
      this.script("reset", 90);
    } catch {
      // best effort: the folder holds nothing another test uses
    }
  }
}
