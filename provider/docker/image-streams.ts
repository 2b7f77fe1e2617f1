/**
 * Readers of the NDJSON progress streams the engine answers `POST /build` and
 * `POST /images/{name}/push` (and `POST /images/create`, a pull) with: failures arrive inside a 200 stream, so each reader turns them
 * into the matching error.
 */
import { parseBuildLine } from "./build-log";
import { DockerBuildError, DockerPullError, DockerPushError } from "./errors";
import { splitJsonLines } from "./stream";
import type * as T from "./types";

/** Legacy-builder RUN stderr arrives wrapped in ANSI colour codes. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const stripAnsi = (s: string) => s.replace(ANSI, "");

/** Consumes a build's NDJSON stream: log lines to `onLine`, the image ID out, errors thrown. */
export async function readBuildStream(
  body: AsyncIterable<Buffer>,
  tail: string[],
  onLine: (line: string) => void,
  onStep: (step: string) => void,
): Promise<string | undefined> {
  let step: string | undefined;
  let imageId: string | undefined;
  let pending = "";
  for await (const msg of splitJsonLines(body)) {
    const m = msg as T.BuildMessage;
    if (m.error || m.errorDetail) {
      throw new DockerBuildError(m.errorDetail?.message ?? m.error ?? "unknown error", step, tail.slice(-30));
    }
    if (m.aux?.ID) imageId = m.aux.ID;
    if (typeof m.stream === "string") {
      pending += stripAnsi(m.stream);
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        if (parseBuildLine(line)?.kind === "step") {
          step = line;
          onStep(line);
        }
        tail.push(line);
        if (tail.length > 200) tail.shift();
        onLine(line);
      }
      const built = /Successfully built ([0-9a-f]{12,})/.exec(m.stream);
      if (built && !imageId) imageId = built[1];
    }
  }
  if (pending.trim()) onLine(pending);
  return imageId;
}

/** Consumes a push's NDJSON stream: each message to `onProgress`, the manifest digest out. */
export async function readPushStream(
  body: AsyncIterable<Buffer>,
  onProgress: (message: T.PushMessage) => void,
): Promise<string> {
  let digest: string | undefined;
  for await (const msg of splitJsonLines(body)) {
    const m = msg as T.PushMessage;
    if (m.error || m.errorDetail) throw new DockerPushError(m.errorDetail?.message ?? m.error ?? "unknown error");
    if (m.aux?.Digest) digest = m.aux.Digest;
    onProgress(m);
  }
  if (!digest) throw new DockerPushError("the engine reported no digest for the pushed image");
  return digest;
}

/**
 * Consumes a pull's NDJSON stream (`POST /images/create`): each message to `onProgress`. Its
 * messages have the push stream's shape (`status`, `id`, `progressDetail`, `error`); a failure
 * after the stream started arrives as an `error` message and becomes a DockerPullError.
 */
export async function readPullStream(
  body: AsyncIterable<Buffer>,
  onProgress: (message: T.PushMessage) => void,
): Promise<void> {
  for await (const msg of splitJsonLines(body)) {
    const m = msg as T.PushMessage;
    if (m.error || m.errorDetail) throw new DockerPullError(m.errorDetail?.message ?? m.error ?? "unknown error");
    onProgress(m);
  }
}
