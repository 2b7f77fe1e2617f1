// Pushing a built Tesseract image to a registry through the engine that built it.
import { z } from "zod";
import { UserError } from "../common/errors";
import type { Progress } from "../common/log";
import { DockerPushError, DockerUnreachableError } from "../docker";
import type { ContainerEngine } from "../docker/engine";
import { type LayerProgressKind, layerReporter } from "../docker/layer-progress";
import { tagProblem } from "../tesseract-config/names";

/** Where (and as whom) a TesseractImage is pushed after it is built. */
export type RegistryPush = z.input<typeof registryPushSchema>;

/** What state keeps of a push: everything but the credentials' secret part. */
export type RecordedPush = Omit<RegistryPush, "password">;

const REGISTRY =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const registryPushSchema = z
  .strictObject({
    /** Registry host with optional port, no scheme: `ghcr.io`, `registry.example.org:5000`, `127.0.0.1:5000`. */
    registry: z
      .string()
      .regex(
        REGISTRY,
        "must be a registry host with an optional port and no scheme (fix: e.g. ghcr.io or 127.0.0.1:5000)",
      ),
    /** Repository inside the registry, e.g. `team/hello`. Lowercase path components. */
    repository: z
      .string()
      .max(255)
      .regex(
        REPOSITORY,
        'must be lowercase path components separated by "/" (fix: e.g. team/hello; letters, digits, ".", "_", "-")',
      ),
    /** Tag to push (default: the image's first tag's, e.g. the Tesseract's version). */
    tag: z
      .string()
      .refine((t) => !tagProblem(t), { message: 'must be 1-128 letters, digits, "_", "." or "-" (fix: e.g. 1.0.0)' })
      .optional(),
    /** User name for the registry (omit for registries without authentication). */
    username: z.string().min(1).optional(),
    /** Password or access token for `username`. Keep it a Pulumi secret. */
    password: z.string().min(1).optional(),
  })
  .refine((p) => (p.username === undefined) === (p.password === undefined), {
    message: "give both username and password, or neither for a registry without authentication",
  });

/** `registry/repository:tag` for a push, with the tag defaulting to the image's own. */
export function pushTarget(push: RegistryPush, imageTag: string): { name: string; tag: string; reference: string } {
  const tag = push.tag ?? imageTag;
  const name = `${push.registry}/${push.repository}`;
  return { name, tag, reference: `${name}:${tag}` };
}

/** The push without its password, for state and for deciding whether anything changed. */
export function recordedPush(push: RegistryPush | undefined): RecordedPush | undefined {
  if (!push) return undefined;
  const { password: _password, ...rest } = push;
  return rest;
}

export interface PushResult {
  /** `registry/repository@sha256:…`: the immutable reference clusters should run. */
  repoDigest: string;
  /** `registry/repository:tag`, also left as a local tag on the image. */
  reference: string;
}

/**
 * Tags `imageId` as `registry/repository:tag` and pushes it through the engine, reporting each
 * layer's state and a byte count every few seconds. Failures name the registry and say what to
 * fix; the built image and its other tags stay (only the push failed).
 */
export async function pushImage(
  docker: ContainerEngine,
  imageId: string,
  push: RegistryPush,
  imageTag: string,
  progress: Progress,
  signal?: AbortSignal,
): Promise<PushResult> {
  const target = pushTarget(push, imageTag);
  await docker.tagImage(imageId, target.name, target.tag);
  const who = push.username ? ` as ${push.username}` : "";
  progress.info(`pushing ${target.reference}${who}`);
  const started = Date.now();
  const report = layerReporter(progress, PUSH_PROGRESS);
  let digest: string;
  try {
    digest = await docker.pushImage(
      target.name,
      target.tag,
      { username: push.username, password: push.password, serveraddress: push.registry },
      report,
      signal,
    );
  } catch (err) {
    // The image and its own tags stay; only the registry tag this push added goes.
    await docker.removeImage(target.reference).catch(() => undefined);
    throw pushFailure(err, push, target.reference, progress);
  }
  const repoDigest = `${target.name}@${digest}`;
  progress.summary(`pushed ${repoDigest} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { repoDigest, reference: target.reference };
}

/** Layer progress of a push. */
const PUSH_PROGRESS: LayerProgressKind = {
  transfer: ["Pushing"],
  // "Pushed", "Layer already exists", "Mounted from …" are news.
  noise: ["Preparing", "Waiting"],
  bytesLine: (mb) => `pushing: ${mb} MB sent`,
};

/** A readable error for a failed push: which registry, what happened, and the fix. */
function pushFailure(err: unknown, push: RegistryPush, reference: string, progress: Progress): Error {
  if (err instanceof DockerUnreachableError) return err;
  const raw = err instanceof DockerPushError ? err.engineMessage : err instanceof Error ? err.message : String(err);
  const message = progress.redact(raw);
  const at = `pushing ${reference} to the registry ${push.registry} failed`;
  const kept = " The built image is kept locally.";
  if (
    /unauthorized|authentication required|denied|forbidden|no basic auth credentials|incorrect username or password/i.test(
      message,
    )
  ) {
    const who = push.username ? `the credentials of user ${push.username} were refused` : "it requires credentials";
    return new UserError(
      `push: ${at}: ${who} (${message}) (fix: check push.username and push.password for ${push.registry}).${kept}`,
    );
  }
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|no route to host|EOF$/i.test(message)
  ) {
    return new UserError(
      `push: ${at}: the registry cannot be reached from the Docker engine (${message}) (fix: check push.registry and that the registry is running).${kept}`,
    );
  }
  if (/x509|certificate|tls|server gave HTTP response to HTTPS client/i.test(message)) {
    return new UserError(
      `push: ${at}: TLS with the registry failed (${message}) (fix: make the engine trust the registry's CA, e.g. /etc/docker/certs.d/${push.registry}/ca.crt, or list it under insecure-registries).${kept}`,
    );
  }
  return new UserError(`push: ${at}: the registry refused the push (${message}).${kept}`);
}
