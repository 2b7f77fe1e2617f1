// Reaching a Slurm job's server from the deploying machine: a listener on 127.0.0.1 whose every
// connection is carried by its own `ssh -W <node>:<port>` through the login node (over the shared
// ControlMaster, so each costs a channel, not a login). Opened per call and closed after, like
// the Kubernetes endpoint's port-forward: `close()` ends the listener and every ssh it started.
import type { ChildProcess } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { TesseractPulumiError } from "../../common/errors";
import type { SlurmLogin } from "./inputs";
import { endpointUrl } from "./job-script";
import { SshLogin } from "./ssh";

/** What a caller outside the cluster needs to reach one replica of a Slurm-served Tesseract. */
export interface SlurmEndpoint {
  /** Marks the object as a Slurm endpoint (functions also accept plain URLs). */
  kind: "slurm";
  /** How to reach the login node (holds the private key when one was given: keep it secret). */
  login: SlurmLogin;
  /** The node's address, as the job wrote it. */
  host: string;
  /** The job's port on that node. */
  port: number;
}

/** True for a {@link SlurmEndpoint}-shaped value. */
export function isSlurmEndpoint(value: unknown): value is SlurmEndpoint {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "slurm";
}

/** An open tunnel. */
export interface SlurmTunnel {
  /** `http://127.0.0.1:<port>`: valid until `close()`. */
  url: string;
  /** Connections carried so far. */
  connections(): number;
  /** The last ssh failure of a connection (e.g. "connect failed: Connection refused"), if any. */
  lastError(): string | undefined;
  /** Closes the listener, every connection and every ssh process; resolves when they are gone. */
  close(): Promise<void>;
}

/** A way to reach `host:port` on the cluster: a tunnel (or, in tests, a direct URL). */
export type Reach = (host: string, port: number) => Promise<SlurmTunnel>;

/** Opens a tunnel through `ssh`'s login node to `host:port`. */
export async function openSlurmTunnel(ssh: SshLogin, host: string, port: number): Promise<SlurmTunnel> {
  const children = new Set<ChildProcess>();
  const sockets = new Set<Socket>();
  let count = 0;
  let last: string | undefined;
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

  const handle = (socket: Socket) => {
    count++;
    sockets.add(socket);
    const child = ssh.spawn(["-W", target]);
    children.add(child);
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err = (err + d.toString("utf8")).slice(-2_000);
    });
    child.stdout?.pipe(socket);
    socket.pipe(child.stdin as NodeJS.WritableStream);
    child.stdin?.on("error", () => undefined);
    socket.on("error", () => child.kill("SIGTERM"));
    socket.on("close", () => {
      sockets.delete(socket);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    });
    child.once("error", (e) => {
      last = e.message;
      socket.destroy();
    });
    child.once("close", (code) => {
      children.delete(child);
      if (code !== 0 && err.trim()) last = err.trim().split("\n").slice(-2).join(" | ");
      socket.end();
    });
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const local = (server.address() as { port: number }).port;
  return {
    url: endpointUrl("127.0.0.1", local),
    connections: () => count,
    lastError: () => last,
    close: async () => {
      for (const s of sockets) s.destroy();
      const gone = [...children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("close", () => resolve());
            c.kill("SIGTERM");
            setTimeout(() => {
              c.kill("SIGKILL");
              resolve();
            }, 3_000).unref();
          }),
      );
      await Promise.all(gone);
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * Runs `fn` with a tunnel to the endpoint's replica, then closes the tunnel and the ssh
 * connection (nothing stays running after the call).
 */
export async function withSlurmTunnel<R>(endpoint: SlurmEndpoint, fn: (url: string) => Promise<R>): Promise<R> {
  const ssh = new SshLogin(endpoint.login);
  let tunnel: SlurmTunnel | undefined;
  try {
    tunnel = await openSlurmTunnel(ssh, endpoint.host, endpoint.port);
    return await fn(tunnel.url);
  } catch (err) {
    const why = tunnel?.lastError();
    if (why && !(err instanceof TesseractPulumiError)) {
      throw new TesseractPulumiError(
        `cannot reach the Slurm job's server ${endpoint.host}:${endpoint.port} through ${ssh.address}: ${why}`,
        {
          hint: "the job may have ended: refresh the TesseractService (pulumi refresh) and run up to resubmit it",
          cause: err,
        },
      );
    }
    throw err;
  } finally {
    await tunnel?.close();
    await ssh.close();
  }
}
