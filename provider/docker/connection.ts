import { createHash } from "node:crypto";
import { z } from "zod";
import { contextExists, contextNamePattern } from "./contexts";
import { describeDefault, resolveExplicit } from "./discovery";

/**
 * How to reach a Docker engine. Shared by TesseractImage and TesseractService so that one stack
 * can place resources on several engines. Leave it out to find the engine the way the Docker CLI
 * does (DOCKER_HOST, then the current context, then the local sockets; see docs/docker-engines.md).
 */
export type DockerConnection = z.input<typeof dockerConnectionSchema>;

const pem = (what: string) =>
  z
    .string()
    .includes("-----BEGIN", { message: `must be PEM text (-----BEGIN ${what}-----...)` })
    .optional();

/** unix:///abs/path, tcp://host[:port][/], ssh://[user@]host[:port][/abs/path]. */
const HOST =
  /^(unix:\/\/\/\S+|tcp:\/\/[^/\s:]+(:\d+)?\/?|tcp:\/\/\[[0-9a-fA-F:]+\](:\d+)?\/?|ssh:\/\/([^@/\s:]+@)?[^@/\s:?#]+(:\d+)?(\/\S*)?)$/;

export const dockerConnectionSchema = z
  .strictObject({
    /**
     * The engine's address: `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376` or
     * `ssh://user@host[:port][/path/to/docker.sock]` (runs `docker system dial-stdio` on that host
     * through the local `ssh`, like the Docker CLI). Default: discovered.
     */
    host: z
      .string()
      .regex(
        HOST,
        "must be unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST[:PORT] " +
          "(fix: e.g. tcp://127.0.0.1:2376 or ssh://me@build-box)",
      )
      .refine((h) => !/^ssh:\/\/[^@/]*:[^@/]*@/.test(h), "must not carry a password (ssh uses keys or its agent)")
      .refine((h) => !/[?#]/.test(h), "must not carry a query or fragment")
      .optional(),
    /** A Docker CLI context to use (`docker context ls`), e.g. `remote`. Excludes `host`. */
    context: z
      .string()
      .regex(contextNamePattern, "must be a Docker context name (letters, digits, `_.+-`; see `docker context ls`)")
      .optional(),
    /** PEM of the CA that signed the engine's TLS certificate (tcp only). Enables TLS. */
    caPem: pem("CERTIFICATE"),
    /** PEM client certificate for TLS client authentication. */
    certPem: pem("CERTIFICATE"),
    /** PEM client key for TLS client authentication. Keep it a Pulumi secret. */
    keyPem: pem("... PRIVATE KEY"),
    /** Extra options for the `ssh` command of an `ssh://` host, e.g. `["-i", "/path/key"]`. */
    sshOptions: z.array(z.string().min(1)).optional(),
    /** Engine API version to use, e.g. `1.41`. Default: DOCKER_API_VERSION, else negotiated with the engine. */
    apiVersion: z
      .string()
      .regex(/^1\.\d{2}$/, "must look like 1.41")
      .optional(),
  })
  .superRefine((c, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (c.host && c.context) fail("context", "give either `host` or `context`, not both");
    if (c.context && c.context !== "default" && !contextExists(c.context))
      fail("context", `no Docker context named "${c.context}" (fix: \`docker context ls\`, or create it first)`);
    const tls = c.caPem || c.certPem || c.keyPem;
    if (tls && c.host && !c.host.startsWith("tcp://"))
      fail("host", "TLS material (caPem/certPem/keyPem) only applies to tcp:// hosts");
    if (tls && c.context) fail("context", "a context brings its own TLS material; leave caPem/certPem/keyPem out");
    if (Boolean(c.certPem) !== Boolean(c.keyPem))
      fail(c.certPem ? "keyPem" : "certPem", "certPem and keyPem go together");
    if (c.sshOptions && !c.host?.startsWith("ssh://") && !c.context)
      fail("sshOptions", "only applies to an ssh:// host (or a context whose host is ssh://)");
  });

/**
 * The engine address a connection means, without probing: the input's host or context, else
 * DOCKER_HOST, else the current context, else the first local socket that exists.
 */
export function resolveHost(conn: DockerConnection | undefined): string {
  try {
    return resolveExplicit(conn)?.host ?? describeDefault();
  } catch {
    // A broken context surfaces when the client connects; here only an address is wanted.
    return conn?.host ?? (conn?.context ? `context ${conn.context}` : describeDefault());
  }
}

/** Stable identity of a connection for caching clients (never contains key material). */
export function connectionKey(conn: DockerConnection | undefined): string {
  const certs = createHash("sha256")
    .update(`${conn?.caPem ?? ""}\n${conn?.certPem ?? ""}`)
    .digest("hex")
    .slice(0, 12);
  return [
    conn?.host ?? "",
    conn?.context ?? "",
    conn?.apiVersion ?? "",
    conn?.caPem || conn?.certPem ? certs : "",
    conn?.keyPem ? "key" : "",
    (conn?.sshOptions ?? []).join(" "),
    // Discovery reads the environment: another DOCKER_HOST/context means another engine.
    conn?.host || conn?.context ? "" : envKey(),
  ].join("|");
}

function envKey(): string {
  const e = process.env;
  return [
    e.DOCKER_HOST,
    e.DOCKER_TLS_VERIFY,
    e.DOCKER_TLS,
    e.DOCKER_CERT_PATH,
    e.DOCKER_CONTEXT,
    e.DOCKER_CONFIG,
    e.DOCKER_API_VERSION,
    e.XDG_RUNTIME_DIR,
  ].join(",");
}

/** The engine a `docker` input names by itself (host or context; "" when discovered), for diffs. */
export function namedEngine(conn: DockerConnection | undefined): string {
  return conn?.context ? `context:${conn.context}` : (conn?.host ?? "");
}
