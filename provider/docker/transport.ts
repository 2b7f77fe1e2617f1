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

/** What a probe of a local socket found. */
export interface SocketProbe {
  /** `answers`: `/_ping` said OK; `slow`: something listens but did not answer in time; `absent`: not usable. */
  state: "answers" | "slow" | "absent";
  /** Why it is not `answers`, for messages. */
  why?: string;
}

/** Probes a local socket: answering, listening but slow, or absent (no file, not a socket, refused, ...). */
export async function probeSocketState(host: string, timeoutMs = 3_000): Promise<SocketProbe> {
  const file = host.slice("unix://".length);
  if (!existsSync(file)) return { state: "absent", why: "no such file" };
  if (!isSocket(file)) return { state: "absent", why: "exists but is not a socket" };
  const client = new Client("http://localhost", { socketPath: file, connect: { timeout: timeoutMs } });
  try {
    const res = await client.request({ method: "GET", path: "/_ping", signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return res.statusCode === 200
      ? { state: "answers" }
      : { state: "absent", why: `answered /_ping with HTTP ${res.statusCode}` };
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code === "ECONNREFUSED")
      return { state: "absent", why: "connection refused (a stale socket: nothing listens)" };
    if (code === "EACCES")
      return { state: "absent", why: "permission denied (join the socket's group, or use rootless Docker)" };
    // The socket accepted the connection (or is still connecting): an engine busy with other work
    // (a heavy build on few cores) is slow, not absent.
    if ((err as Error).name === "TimeoutError" || /TIMEOUT/.test(code))
      return { state: "slow", why: `no answer within ${timeoutMs} ms` };
    return { state: "absent", why: `${code || (err as Error).name}: ${(err as Error).message}` };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** Why a local socket is not usable, or undefined when it answers `/_ping`. */
export async function probeSocket(host: string, timeoutMs = 3_000): Promise<string | undefined> {
  const probe = await probeSocketState(host, timeoutMs);
  return probe.state === "answers" ? undefined : probe.why;
}

/**
 * The first local socket that answers or listens but answers slowly (a slow one is used as is: the
 * operation waits for it with its own timeout, as the Docker CLI waits for its endpoint), else
 * DockerNotFoundError listing each one tried and why: "not found" means nothing listens on any.
 */
export async function probeDefault(
  apiVersion: string | undefined,
  notSet: string[],
  timeoutMs = 3_000,
  candidates: readonly Candidate[] = defaultCandidates(),
): Promise<Endpoint> {
  const tried: EngineAttempt[] = [];
  for (const c of candidates) {
    const probe = await probeSocketState(c.host, timeoutMs);
    // A slow socket is used like an answering one: the first existing engine wins, as the CLI's
    // first endpoint does, and later sockets are not probed.
    if (probe.state !== "absent") return { host: c.host, source: c.what, apiVersion };
    tried.push({ ...c, why: probe.why ?? "not usable" });
  }
  throw new DockerNotFoundError(tried, notSet);
}
