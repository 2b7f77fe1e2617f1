import { z } from "zod";

/**
 * How to reach a Docker engine. Shared by TesseractImage and TesseractService so that one stack
 * can place resources on several engines.
 */
export interface DockerConnection {
  /** `unix:///var/run/docker.sock` (default: `DOCKER_HOST`, else that socket) or `tcp://127.0.0.1:2376`. */
  host?: string;
  /** PEM of the CA that signed the engine's TLS certificate (tcp only). Enables TLS. */
  caPem?: string;
  /** PEM client certificate for TLS client authentication. */
  certPem?: string;
  /** PEM client key for TLS client authentication. Keep it a Pulumi secret. */
  keyPem?: string;
  /** Engine API version to use, e.g. `1.41`. Default: negotiated with the engine. */
  apiVersion?: string;
}

export const dockerConnectionSchema = z.strictObject({
  host: z
    .string()
    .regex(
      /^(unix:\/\/\/.+|tcp:\/\/[^/\s]+:\d+\/?)$/,
      "must be unix:///path/to/docker.sock or tcp://HOST:PORT (fix: e.g. tcp://127.0.0.1:2376)",
    )
    .optional(),
  caPem: z
    .string()
    .includes("-----BEGIN", {
      message: "must be PEM text (-----BEGIN CERTIFICATE-----...)",
    })
    .optional(),
  certPem: z
    .string()
    .includes("-----BEGIN", {
      message: "must be PEM text (-----BEGIN CERTIFICATE-----...)",
    })
    .optional(),
  keyPem: z
    .string()
    .includes("-----BEGIN", {
      message: "must be PEM text (-----BEGIN ... PRIVATE KEY-----)",
    })
    .optional(),
  apiVersion: z
    .string()
    .regex(/^1\.\d{2}$/, "must look like 1.41")
    .optional(),
});

/** The engine address actually used for a connection. */
export function resolveHost(conn: DockerConnection | undefined): string {
  return conn?.host || process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/** Stable identity of a connection for caching clients (never contains key material). */
export function connectionKey(conn: DockerConnection | undefined): string {
  return [resolveHost(conn), conn?.apiVersion ?? "", conn?.caPem ? "tls" : "", conn?.certPem?.length ?? 0].join("|");
}
