/**
 * Which engine a connection means, in the Docker CLI's order:
 *   1. the resource's `docker` input (`host`, or `context`);
 *   2. DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_TLS and DOCKER_CERT_PATH for tcp://);
 *   3. DOCKER_CONTEXT, else `currentContext` of $DOCKER_CONFIG/config.json (not `default`);
 *   4. the first local socket that answers, or listens but answers slowly (used and waited for:
 *      slow is not absent): /var/run/docker.sock, rootless Docker
 *      ($XDG_RUNTIME_DIR/docker.sock), Podman ($XDG_RUNTIME_DIR/podman/podman.sock,
 *      /run/podman/podman.sock).
 * 1-3 are the user's explicit choice and are used as given (no fallback, like the CLI); only the
 * local sockets of step 4 are probed, and when nothing listens the error lists each one and why.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { DockerConnection } from "./connection";
import { currentContextName, dockerConfigDir, loadContext } from "./contexts";

/** A resolved engine address with everything needed to connect (TLS material stays in memory). */
export interface Endpoint {
  /** unix:///…, tcp://host:port or ssh://… */
  host: string;
  /** Where the choice came from, for messages: `DOCKER_HOST`, `context "remote"`, … */
  source: string;
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  sshOptions?: string[];
  apiVersion?: string;
}

/** One local socket of the default chain. */
export interface Candidate {
  host: string;
  what: string;
}

/** The local sockets tried when nothing names an engine, in order. */
export function defaultCandidates(): Candidate[] {
  const runtimeDir = process.env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`;
  const viaXdg = process.env.XDG_RUNTIME_DIR ? "$XDG_RUNTIME_DIR" : `$XDG_RUNTIME_DIR unset, so ${runtimeDir}`;
  const all = [
    { host: "unix:///var/run/docker.sock", what: "default Docker socket" },
    { host: `unix://${runtimeDir}/docker.sock`, what: `rootless Docker (${viaXdg})` },
    { host: `unix://${runtimeDir}/podman/podman.sock`, what: `rootless Podman (${viaXdg})` },
    { host: "unix:///run/podman/podman.sock", what: "rootful Podman" },
  ];
  return all.filter((c, i) => all.findIndex((o) => o.host === c.host) === i);
}

/** The first default socket that exists (no probe), else the default socket: for addresses in messages. */
export function describeDefault(): string {
  for (const c of defaultCandidates()) if (isSocket(c.host.slice("unix://".length))) return c.host;
  return "unix:///var/run/docker.sock";
}

export function isSocket(file: string): boolean {
  try {
    return statSync(file).isSocket();
  } catch {
    return false;
  }
}

/**
 * The engine named by the input, the environment or a context, or undefined when nothing names
 * one (then the local sockets are probed). Throws a readable error for a broken context.
 */
export function resolveExplicit(conn: DockerConnection | undefined): Endpoint | undefined {
  const env = process.env;
  const apiVersion =
    conn?.apiVersion || (/^\d+\.\d+$/.test(env.DOCKER_API_VERSION ?? "") ? env.DOCKER_API_VERSION : undefined);
  const base = { apiVersion, sshOptions: conn?.sshOptions };
  if (conn?.context && conn.context !== "default") return fromContext(conn.context, "the docker.context input", base);
  if (conn?.host) {
    const pems = conn.caPem || conn.certPem || conn.keyPem;
    const tls = pems ? { ca: conn.caPem, cert: conn.certPem, key: conn.keyPem, verify: true } : envTls(conn.host);
    return {
      ...base,
      host: withDefaultPort(conn.host, Boolean(tls), "the docker.host input"),
      source: "the docker.host input",
      tls,
    };
  }
  if (env.DOCKER_HOST) {
    const tls = envTls(env.DOCKER_HOST);
    return { ...base, host: withDefaultPort(env.DOCKER_HOST, Boolean(tls), "DOCKER_HOST"), source: "DOCKER_HOST", tls };
  }
  // `docker: { context: "default" }` means what the CLI's built-in context means: no stored context.
  if (conn?.context === "default") return undefined;
  if (env.DOCKER_CONTEXT) {
    return env.DOCKER_CONTEXT === "default" ? undefined : fromContext(env.DOCKER_CONTEXT, "DOCKER_CONTEXT", base);
  }
  const current = currentContextName();
  if (current.name && current.name !== "default") {
    return fromContext(current.name, `currentContext of ${current.configPath}`, base);
  }
  return undefined;
}

function fromContext(name: string, why: string, base: Pick<Endpoint, "apiVersion" | "sshOptions">): Endpoint {
  const ctx = loadContext(name);
  const hasTls = Boolean(ctx.caPem || ctx.certPem || ctx.keyPem) || ctx.skipTlsVerify;
  const tls =
    hasTls && ctx.host.startsWith("tcp://")
      ? { ca: ctx.caPem, cert: ctx.certPem, key: ctx.keyPem, verify: !ctx.skipTlsVerify }
      : undefined;
  const source = `context "${name}" (${why})`;
  return { ...base, host: withDefaultPort(ctx.host, Boolean(tls), source), source, tls };
}

/**
 * TLS from the environment for a tcp:// host, as the CLI reads it: DOCKER_TLS_VERIFY (any
 * non-empty value) verifies the engine, DOCKER_TLS only encrypts; the files come from
 * DOCKER_CERT_PATH (default: the config folder) and a missing one is left out.
 */
function envTls(host: string): Endpoint["tls"] {
  const env = process.env;
  if (!host.startsWith("tcp://") || !(env.DOCKER_TLS_VERIFY || env.DOCKER_TLS)) return undefined;
  const dir = env.DOCKER_CERT_PATH || dockerConfigDir();
  const read = (file: string) => {
    const p = path.join(dir, file);
    return existsSync(p) ? readFileSync(p, "utf8") : undefined;
  };
  return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem"), verify: Boolean(env.DOCKER_TLS_VERIFY) };
}

/** `tcp://host` without a port means 2376 with TLS and 2375 without, as in the CLI. */
function withDefaultPort(host: string, tls: boolean, source: string): string {
  supported(host, source);
  const m = /^tcp:\/\/(\[[^\]]+\]|[^/:]+)(:\d+)?\/?$/.exec(host);
  if (!m) return host;
  return `tcp://${m[1]}${m[2] ?? `:${tls ? 2376 : 2375}`}`;
}

/** What could have named an engine but did not (for the "nothing answers" error). */
export function unsetSources(conn: DockerConnection | undefined): string[] {
  const { configPath } = currentContextName();
  return [
    conn?.context === "default" ? 'the docker input (context "default")' : "the docker input",
    "DOCKER_HOST",
    process.env.DOCKER_CONTEXT === "default" ? 'DOCKER_CONTEXT ("default")' : "DOCKER_CONTEXT",
    `currentContext in ${configPath}`,
  ];
}

/** The machine a tcp:// or ssh:// engine runs on (for URLs of ports it publishes); undefined for sockets. */
export function engineHostname(host: string): string | undefined {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^/:]+)/.exec(host);
  if (tcp) return tcp[1];
  const ssh = /^ssh:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)/.exec(host);
  return ssh?.[1];
}

/** The address forms this client speaks; others (npipe://, fd://) get a clear error. */
function supported(host: string, source: string): void {
  if (/^(unix:\/\/\/|tcp:\/\/|ssh:\/\/)/.test(host)) return;
  throw new Error(
    `${source}: engine address ${JSON.stringify(host)} is not supported: use unix:///path/docker.sock, tcp://HOST:PORT or ssh://USER@HOST`,
  );
}
