/**
 * The one parser of classic-builder build logs (`POST /build` stream lines), used by the Docker
 * client (to name the failing step) and the build orchestration (to find the images a build
 * created and its first stage).
 */
export type BuildLogLine =
  /** `Step 3/12 : RUN pip install ...`; `from` when the step starts a stage. */
  | { kind: "step"; from: boolean }
  /** ` ---> Using cache`: the next image line is a reused layer. */
  | { kind: "cache" }
  /** ` ---> 0123456789ab`: the image a step produced. */
  | { kind: "image"; id: string };

const STEP = /^Step \d+\/\d+ : /;
const FROM_STEP = /^Step \d+\/\d+ : FROM /i;
const CACHE = /^\s*---> Using cache/;
const IMAGE = /^\s*---> ([0-9a-f]{12})\s*$/;

/** What a build log line says, or undefined for ordinary output. */
export function parseBuildLine(line: string): BuildLogLine | undefined {
  if (STEP.test(line)) return { kind: "step", from: FROM_STEP.test(line) };
  if (CACHE.test(line)) return { kind: "cache" };
  const m = IMAGE.exec(line);
  return m ? { kind: "image", id: m[1] } : undefined;
}

/** True for a `FROM` step line (e.g. the failing step of a base image that cannot be pulled). */
export function isFromStep(line: string | undefined): boolean {
  return FROM_STEP.test(line ?? "");
}
