/**
 * Docker CLI contexts, read the way the CLI stores them:
 *   $DOCKER_CONFIG (default ~/.docker)/config.json           {"currentContext": "remote", ...}
 *   .../contexts/meta/<sha256(name)>/meta.json                {"Name", "Endpoints": {"docker": {"Host", "SkipTLSVerify"}}}
 *   .../contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem  TLS material of the docker endpoint
 * The name `default` is the CLI's built-in context: DOCKER_HOST or the local socket.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/** The CLI's rule for context names. */
export const contextNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$|^default$/;

/** A context's docker endpoint with its TLS material (PEM text; the key never leaves memory). */
export interface ContextEndpoint {
  name: string;
  host: string;
  skipTlsVerify: boolean;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  /** Where it was read from (for messages). */
  metaPath: string;
}

/** The CLI's configuration folder: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || path.join(homedir(), ".docker");
}

function contextId(name: string): string {
  return createHash("sha256").update(name).digest("hex");
}

function metaPathOf(name: string): string {
  return path.join(dockerConfigDir(), "contexts", "meta", contextId(name), "meta.json");
}

export function contextExists(name: string): boolean {
  return existsSync(metaPathOf(name));
}

/** `currentContext` of config.json, or undefined when the file or the field is absent. */
export function currentContextName(): { name?: string; configPath: string } {
  const configPath = path.join(dockerConfigDir(), "config.json");
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch {
    return { configPath };
  }
  try {
    const name = (JSON.parse(text) as { currentContext?: unknown }).currentContext;
    return { name: typeof name === "string" && name ? name : undefined, configPath };
  } catch (err) {
    throw new Error(`${configPath} is not valid JSON (${(err as Error).message}); the Docker CLI rejects it too`);
  }
}

/** Reads a named context's docker endpoint. Throws a readable error when it is missing or broken. */
export function loadContext(name: string): ContextEndpoint {
  const metaPath = metaPathOf(name);
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8"));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message;
    throw new Error(
      `Docker context "${name}": ${metaPath} ${why}. Fix: \`docker context ls\` lists the contexts; ` +
        `create it with \`docker context create ${name} --docker host=...\` (config folder: ${dockerConfigDir()}).`,
    );
  }
  const endpoint = meta.Endpoints?.docker;
  if (!endpoint || typeof endpoint.Host !== "string" || !endpoint.Host) {
    throw new Error(`Docker context "${name}" (${metaPath}) has no docker endpoint host`);
  }
  const tlsDir = path.join(dockerConfigDir(), "contexts", "tls", contextId(name), "docker");
  const read = (file: string) => {
    try {
      return readFileSync(path.join(tlsDir, file), "utf8");
    } catch {
      return undefined;
    }
  };
  return {
    name,
    host: endpoint.Host,
    skipTlsVerify: endpoint.SkipTLSVerify === true,
    caPem: read("ca.pem"),
    certPem: read("cert.pem"),
    keyPem: read("key.pem"),
    metaPath,
  };
}
