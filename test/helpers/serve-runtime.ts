/**
 * Serves a Tesseract with the real tesseract-core runtime, without Docker:
 * `TESSERACT_API_PATH=<api> tesseract-runtime serve --host 127.0.0.1 --port <free port>`.
 * Start it in `before`, stop it in `after`; every wait is bounded.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { venvDir } from "./venv";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const CALCULUS_API = path.join(REPO_ROOT, "examples/tesseracts/calculus/tesseract_api.py");

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ServedRuntime {
  url: string;
  port: number;
  outputDir: string;
  /** Everything the runtime printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface ServeOptions {
  apiPath?: string;
  env?: Record<string, string>;
  /** How long to wait for /health, ms. Default 60,000. */
  startTimeoutMs?: number;
}

/** Starts `tesseract-runtime serve` and resolves once `GET /health` answers 200. */
export async function serveRuntime(opts: ServeOptions = {}): Promise<ServedRuntime> {
  const py = venvDir();
  if (!py) throw new Error("PULUMI_TESSERACT_VENV is not set: run `source scripts/env.sh` first");
  const port = await freePort();
  const outputDir = mkdtempSync(path.join(tmpdir(), "pt-runtime-out-"));
  let output = "";
  const child: ChildProcess = spawn(
    path.join(py, "bin/tesseract-runtime"),
    ["serve", "--host", "127.0.0.1", "--port", String(port)],
    {
      env: {
        ...process.env,
        TESSERACT_API_PATH: opts.apiPath ?? CALCULUS_API,
        TESSERACT_OUTPUT_PATH: outputDir,
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const append = (b: Buffer) => {
    output = (output + b.toString()).slice(-20000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exitPromise.then(() => {
    exited = true;
  });

  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(outputDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) {
      await stop();
      throw new Error(`tesseract-runtime exited before becoming healthy:\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, port, outputDir, log: () => output, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`tesseract-runtime did not become healthy within the timeout:\n${output}`);
}
