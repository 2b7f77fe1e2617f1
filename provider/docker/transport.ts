/**
 * Turns a resolved endpoint into an undici Pool (unix socket, tcp, tcp+TLS, or ssh through
 * `docker system dial-stdio`), and probes the local sockets of the default chain.
 */
import { existsSync } from "node:fs";
import { Client, Pool } from "undici";
import type { Candidate, Endpoint } from "./discovery";
import { defaultCandidates, isSocket } from "./discovery";
import { DockerNotFoundError, type EngineAttempt } from "./errors";
import { dialSsh } from "./ssh";

/** Long calls (build, wait, logs) have their own deadlines; undici's 300 s defaults would cut them. */
const common = { connections: 8, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000 };

export function createPool(ep: Endpoint): Pool {
  if (ep.host.startsWith("unix://")) {
    return new Pool("http://localhost", { ...common, socketPath: ep.host.slice("unix://".length) });
  }
  if (ep.host.startsWith("ssh://")) {
    const options = ep.sshOptions ?? [];
    // One ssh child per pooled connection, exactly like the CLI's dialer; the origin is a dummy.
    return new Pool("http://docker.example.com", {
      ...common,
      connect: (_opts, callback) => {
        // undici needs the callback on a later tick; the child's 'spawn' event gives one (and
        // 'error' reports a missing ssh binary).
        let socket: ReturnType<typeof dialSsh>;
        try {
          socket = dialSsh(ep.host, options);
        } catch (err) {
          process.nextTick(callback, err as Error, null);
          return;
        }
        socket.whenSpawned().then(
          () => callback(null, socket as never),
          (err: Error) => callback(err, null),
        );
      },
    });
  }
  const hostPort = ep.host.replace(/^tcp:\/\//, "").replace(/\/$/, "");
  return new Pool(`${ep.tls ? "https" : "http"}://${hostPort}`, {
    ...common,
    connect: ep.tls
      ? { ca: ep.tls.ca, cert: ep.tls.cert, key: ep.tls.key, rejectUnauthorized: ep.tls.verify }
      : undefined,
  });
}

/** Why a local socket is not usable, or undefined when it answers `/_ping`. */
export async function probeSocket(host: string, timeoutMs = 3_000): Promise<string | undefined> {
  const file = host.slice("unix://".length);
  if (!existsSync(file)) return "no such file";
  if (!isSocket(file)) return "exists but is not a socket";
  const client = new Client("http://localhost", { socketPath: file, connect: { timeout: timeoutMs } });
  try {
    const res = await client.request({ method: "GET", path: "/_ping", signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return res.statusCode === 200 ? undefined : `answered /_ping with HTTP ${res.statusCode}`;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code === "ECONNREFUSED") return "connection refused (a stale socket: nothing listens)";
    if (code === "EACCES") return "permission denied (join the socket's group, or use rootless Docker)";
    if ((err as Error).name === "TimeoutError" || /TIMEOUT/.test(code)) return `no answer within ${timeoutMs} ms`;
    return `${code || (err as Error).name}: ${(err as Error).message}`;
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** The first local socket that answers, or DockerNotFoundError listing each one tried and why. */
export async function probeDefault(apiVersion: string | undefined, notSet: string[]): Promise<Endpoint> {
  const tried: EngineAttempt[] = [];
  const candidates: Candidate[] = defaultCandidates();
  for (const c of candidates) {
    const why = await probeSocket(c.host);
    if (why === undefined) return { host: c.host, source: c.what, apiVersion };
    tried.push({ ...c, why });
  }
  throw new DockerNotFoundError(tried, notSet);
}
