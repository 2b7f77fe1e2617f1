/**
 * Run as a child process (often inside a private mount namespace that hides or replaces local
 * sockets): finds the engine with the provider's discovery and prints one JSON line
 * `{host, source, id}` or `{error, name}`. The engine's `/info` DockerRootDir tells which daemon answered.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { DockerClient } from "../../provider/docker";

/** What the probe printed. */
export interface ProbeResult {
  host?: string;
  source?: string;
  id?: string;
  error?: string;
  name?: string;
}

/** Variables that steer discovery; the probe starts with none of them set (PATH aside). */
export const DISCOVERY_ENV = [
  "DOCKER_HOST",
  "DOCKER_TLS_VERIFY",
  "DOCKER_TLS",
  "DOCKER_CERT_PATH",
  "DOCKER_CONTEXT",
  "DOCKER_CONFIG",
  "DOCKER_API_VERSION",
  "XDG_RUNTIME_DIR",
];

/**
 * Runs this probe in a new mount namespace where /run/docker.sock (and /run/podman/podman.sock,
 * if present) is replaced by `staleSocket`, a socket nobody listens on: the shared engine is hidden
 * from the probe only, never stopped or changed. `env` is all the discovery environment it gets.
 */
export function probeWithHiddenSockets(staleSocket: string, env: Record<string, string>): ProbeResult {
  const script =
    'mount --bind "$STALE" /run/docker.sock && { [ ! -S /run/podman/podman.sock ] || mount --bind "$STALE" /run/podman/podman.sock; } && exec node --import tsx "$PROBE"';
  const childEnv: Record<string, string | undefined> = { ...process.env, STALE: staleSocket, PROBE: __filename };
  for (const k of DISCOVERY_ENV) delete childEnv[k];
  Object.assign(childEnv, env);
  const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    env: childEnv as NodeJS.ProcessEnv,
    cwd: path.join(__dirname, "..", ".."),
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`discovery probe failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
}

async function main(): Promise<void> {
  const conn = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
  const client = new DockerClient(conn);
  try {
    const info = await client.json<{ DockerRootDir: string }>("GET", "/info");
    process.stdout.write(`${JSON.stringify({ host: client.host, source: client.source, id: info.DockerRootDir })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message, name: (err as Error).name })}\n`);
  } finally {
    await client.close();
  }
}

if (require.main === module) void main();
