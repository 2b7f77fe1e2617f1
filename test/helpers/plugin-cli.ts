/**
 * Runs the real `pulumi` CLI on a project folder with the `tesseract` provider plugin found on
 * PATH (bin/pulumi-resource-tesseract, an ambient plugin), the YAML language host from the test
 * setup, and a private file backend. Used by the plugin's end-to-end tests.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for messages. */
  all: string;
}

/** A temporary Pulumi project run with the CLI. */
export class CliProject {
  readonly dir: string;
  readonly backend: string;
  readonly stack: string;
  readonly log: string[] = [];

  /** Whether bin/ (the plugin launcher) is put first on PATH. */
  pluginOnPath = true;

  constructor(prefix: string, stack: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    this.backend = path.join(this.dir, ".state");
    mkdirSync(this.backend);
    this.stack = stack;
  }

  /** Environment: the plugin's bin folder first on PATH, a private backend, a passphrase. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: this.pluginOnPath ? `${path.join(REPO_ROOT, "bin")}:${process.env.PATH}` : process.env.PATH,
      PULUMI_BACKEND_URL: `file://${this.backend}`,
      PULUMI_CONFIG_PASSPHRASE: "pt-plugin-test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      ...extra,
    };
  }

  write(file: string, text: string): void {
    writeFileSync(path.join(this.dir, file), text);
  }

  /** `pulumi <args>` in the project folder; never throws (see `code`). */
  run(args: string[], timeoutMs = 900_000, extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return new Promise((resolve) => {
      const child = spawn("pulumi", [...args, "--non-interactive"], {
        cwd: this.dir,
        env: this.env(extraEnv),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        const all = `${stdout}\n${stderr}`;
        this.log.push(`$ pulumi ${args.join(" ")}  (exit ${code})\n${all}`);
        resolve({ code, stdout, stderr, all });
      });
    });
  }

  /** Like `run`, but fails with the CLI's output unless it exits 0. */
  async ok(args: string[], timeoutMs?: number): Promise<CliResult> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.all.slice(-6000)}`);
    return r;
  }

  /** `pulumi stack output --json --show-secrets`. */
  async outputs(): Promise<Record<string, any>> {
    return JSON.parse((await this.ok(["stack", "output", "--json", "--show-secrets"])).stdout);
  }

  /** Destroys (best effort) and removes the stack and the folder. */
  async dispose(): Promise<void> {
    await this.run(["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
    await this.run(["stack", "rm", "--yes", "--force", this.stack]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Environment of a Python Automation API program in tests: the plugin on PATH, a private file backend. */
export function pythonStackEnv(work: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.join(REPO_ROOT, "bin")}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "pt-plugin-test",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}
