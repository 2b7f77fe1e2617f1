/**
 * Pulling a pushed Tesseract image onto the engine a TesseractService runs on: only immutable
 * `registry/repository@sha256:…` references are pulled (a tag could name another image tomorrow),
 * only when the engine does not have the image, with the service's `registryAuth` when it is for
 * the reference's registry. Build once, push, serve on any number of engines.
 */
import { z } from "zod";
import { TesseractPulumiError } from "../common/errors";
import type { Progress } from "../common/log";
import type { ContainerEngine } from "../docker/engine";
import { DockerApiError, DockerPullError, DockerUnreachableError } from "../docker/errors";
import { type LayerProgressKind, layerReporter } from "../docker/layer-progress";
import type { RegistryAuth } from "../docker/types";

/** Registry credentials a service pulls with (the `registryAuth` input; `password` is a secret). */
export type ServiceRegistryAuth = z.output<typeof registryAuthSchema>;

const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;

export const registryAuthSchema = z.strictObject({
  /** Registry host with optional port, no scheme: `ghcr.io`, `127.0.0.1:5000`. */
  registry: z
    .string()
    .regex(
      REGISTRY_HOST,
      "must be a registry host with an optional port and no scheme (fix: e.g. ghcr.io or 127.0.0.1:5000)",
    ),
  /** User name for the registry. */
  username: z.string().min(1, "must not be empty"),
  /** Password or access token (a secret). */
  password: z.string().min(1, "must not be empty"),
});

/** `registry/repository@sha256:<64 hex>`: the only kind of reference a service pulls. */
const DIGEST_REFERENCE = /^[^@\s]+@sha256:[a-f0-9]{64}$/;

/** True for a reference pinned by digest (`…@sha256:…`), which a service pulls when absent. */
export function isDigestReference(name: string): boolean {
  return DIGEST_REFERENCE.test(name);
}

/**
 * The registry a reference names: its first path component when that looks like a host (has a
 * `.` or a `:`, or is `localhost`), else Docker Hub (`docker.io`), as the engine decides.
 */
export function registryOf(reference: string): string {
  const slash = reference.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = reference.slice(0, slash);
  return /[.:]/.test(first) || first === "localhost" ? first : "docker.io";
}

/** A pull that failed: which image, why, and the fix; never the password. */
export class ImagePullError extends TesseractPulumiError {
  constructor(message: string, property: string, hint: string, cause?: unknown) {
    super(`${message} (fix: ${hint})`, { property, hint, cause });
    this.name = "ImagePullError";
  }
}

/**
 * Pulls `reference` (a digest reference the engine lacks) on `engine`, reporting layers through
 * `progress`. Credentials are sent only to the registry `auth` names. Failures become
 * {@link ImagePullError} naming `property` (the image input) or `registryAuth`.
 */
export async function pullDigest(
  engine: ContainerEngine,
  reference: string,
  property: string,
  auth: ServiceRegistryAuth | undefined,
  progress: Progress,
): Promise<void> {
  const registry = registryOf(reference);
  const creds: RegistryAuth | undefined =
    auth && auth.registry === registry
      ? { username: auth.username, password: auth.password, serveraddress: auth.registry }
      : undefined;
  progress.info(`pulling ${reference} on ${engine.host}${creds ? ` as ${creds.username}` : ""}`);
  const started = Date.now();
  try {
    await engine.pullImage(reference, creds, layerReporter(progress, PULL_PROGRESS));
  } catch (err) {
    throw pullFailure(err, { reference, registry, property, auth, sent: creds !== undefined, progress });
  }
  progress.summary(`pulled ${reference} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Layer progress of a pull. */
const PULL_PROGRESS: LayerProgressKind = {
  transfer: ["Downloading", "Extracting"],
  // "Pull complete", "Already exists" are news.
  noise: ["Waiting", "Verifying Checksum"],
  bytesLine: (mb) => `pulling: ${mb} MB`,
};

interface FailureContext {
  reference: string;
  registry: string;
  property: string;
  auth: ServiceRegistryAuth | undefined;
  /** True when credentials were sent with the pull. */
  sent: boolean;
  progress: Progress;
}

/** The engine's status and text of a failed pull (text redacted of known secrets). */
function engineAnswer(err: unknown, progress: Progress): { status?: number; text: string } {
  if (err instanceof DockerApiError) return { status: err.statusCode, text: progress.redact(err.engineMessage) };
  if (err instanceof DockerPullError) return { text: progress.redact(err.engineMessage) };
  return { text: progress.redact(err instanceof Error ? err.message : String(err)) };
}

/** A readable error for a failed pull: refused credentials, unknown digest, unreachable registry, TLS. */
function pullFailure(err: unknown, c: FailureContext): Error {
  if (err instanceof DockerUnreachableError) return err;
  const { status, text } = engineAnswer(err, c.progress);
  const at = `${c.property}: pulling ${c.reference} from the registry ${c.registry} failed`;
  if (
    status === 401 ||
    status === 403 ||
    /unauthorized|authentication required|denied|forbidden|no basic auth credentials|incorrect username or password/i.test(
      text,
    )
  ) {
    if (c.sent)
      return new ImagePullError(
        `${at}: the registry refused the credentials of user ${c.auth?.username} (${text})`,
        "registryAuth",
        `check registryAuth.username and registryAuth.password for ${c.registry}`,
        err,
      );
    const other = c.auth ? ` (registryAuth is for ${c.auth.registry}, not ${c.registry})` : "";
    return new ImagePullError(
      `${at}: the registry requires credentials${other} (${text})`,
      "registryAuth",
      `set registryAuth: { registry: "${c.registry}", username, password } (the password as a Pulumi secret)`,
      err,
    );
  }
  if (status === 404 || /manifest unknown|not found|does not exist/i.test(text)) {
    return new ImagePullError(
      `${c.property}: ${c.reference} is not in the registry ${c.registry}: no such manifest (${text})`,
      c.property,
      "push the image first (a TesseractImage with `push` and pass the TesseractImage itself), or correct the digest",
      err,
    );
  }
  if (/x509|certificate|tls|server gave HTTP response to HTTPS client/i.test(text)) {
    return new ImagePullError(
      `${at}: TLS with the registry failed (${text})`,
      c.property,
      `make the engine trust the registry's CA, e.g. /etc/docker/certs.d/${c.registry}/ca.crt on the engine's host`,
      err,
    );
  }
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|no route to host|EOF$/i.test(text)
  ) {
    return new ImagePullError(
      `${at}: the registry cannot be reached from the Docker engine (${text})`,
      c.property,
      `check that the registry ${c.registry} is running and reachable from the engine's host`,
      err,
    );
  }
  return new ImagePullError(`${at}: ${text}`, c.property, "check the reference and the registry", err);
}
