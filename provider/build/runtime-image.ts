/**
 * Building, holding and removing the shared runtime base image (`pulumi-tesseract-runtime:<hash16>`,
 * build-context/runtime.ts) that pip/uv build stages start `FROM`.
 *
 * - Built once per engine: concurrent TesseractImage builds in one process (one `pulumi up`) that
 *   need the same runtime wait on one build (a promise keyed by engine address and runtime hash);
 *   later ones find the tag on the engine. Another process may build it at the same time: both
 *   builds produce a correct image under the same tag (the second just did the work again).
 * - Held like images are (holders.ts): each TesseractImage created inside a Pulumi run tags the
 *   runtime it builds on `pulumi-tesseract-runtime-holder/<name>:<16 hex of sha256(URN)>`, the
 *   runtime twin of its image holder tag (derived from it, so no new state). Deleting the
 *   resource removes that tag, and the runtime's own tag when no holder tag is left; the image
 *   then goes with its last child (a kept build stage) or at once.
 * - Outside a Pulumi run (`buildTesseractImage` as a library) there is no holder: the runtime is
 *   released after the build like that, unless a holder or another build of this process uses it.
 */
import { contextTar } from "../build-context/context";
import { RUNTIME_REPOSITORY, type RuntimeBase } from "../build-context/runtime";
import { LABELS } from "../common/labels";
import type { Progress } from "../common/log";
import type { ContainerEngine } from "../docker/engine";
import { HOLDER_REPOSITORY } from "./holders";
import { BuildLogTracker } from "./log";
import { lostCacheParent, removeCreatedImages } from "./stage-cache";

/** Label of a runtime base image: its full hash (with `pulumi-tesseract.managed=true`). */
export const RUNTIME_LABEL = "pulumi-tesseract.runtime";

/** Repository prefix of the tags that hold a runtime base image. */
export const RUNTIME_HOLDER_REPOSITORY = "pulumi-tesseract-runtime-holder";

/** The runtime holder tag of the resource whose image holder tag is `holderTag`. */
export function runtimeHolderTagFor(holderTag: string | undefined): string | undefined {
  if (!holderTag?.startsWith(`${HOLDER_REPOSITORY}/`)) return undefined;
  return `${RUNTIME_HOLDER_REPOSITORY}${holderTag.slice(HOLDER_REPOSITORY.length)}`;
}

/** True for a runtime holder tag (any resource's). */
export function isRuntimeHolderTag(tag: string): boolean {
  return tag.startsWith(`${RUNTIME_HOLDER_REPOSITORY}/`);
}

/** Runtime builds in flight in this process, by engine, hash and whether noCache forced them. */
const inFlight = new Map<string, Promise<string>>();
/** Engine + hash pairs this process already rebuilt for a noCache build (once per `up` is enough). */
const rebuiltFresh = new Set<string>();
/** Builds of this process on a runtime image (engine + image ID): it is not removed under them. */
const users = new Map<string, number>();

/** How {@link ensureRuntimeImage} builds when it has to. */
export interface RuntimeBuildOptions {
  /** Build without the layer cache: once per process and runtime, shared by the noCache builds. */
  noCache?: boolean;
  networkMode?: string;
  /** Extra build args (the predefined proxy args; never declared, so never recorded). */
  buildArgs?: Record<string, string>;
  signal?: AbortSignal;
  onLine: (line: string) => void;
  progress: Progress;
}

/**
 * The ID of the runtime base image on `engine`: found by its tag, or built (once for every caller
 * of this process that asks for it meanwhile). Rejects with the engine's build error.
 */
export async function ensureRuntimeImage(
  engine: ContainerEngine,
  runtime: RuntimeBase,
  opts: RuntimeBuildOptions,
): Promise<string> {
  const key = `${engine.host}\0${runtime.hash}`;
  const fresh = Boolean(opts.noCache) && !rebuiltFresh.has(key);
  const flightKey = `${key}\0${fresh}`;
  const pending = inFlight.get(flightKey);
  if (pending) {
    opts.progress.info(`waiting for the runtime base image ${runtime.image} (built for another TesseractImage)`);
    return pending;
  }
  const p = (async () => {
    if (!fresh) {
      const found = (await engine.inspectImage(runtime.image)) ?? (await retagHeldRuntime(engine, runtime));
      if (found) return found.Id;
    }
    const id = await buildRuntime(engine, runtime, { ...opts, noCache: fresh });
    if (fresh) rebuiltFresh.add(key);
    return id;
  })();
  inFlight.set(flightKey, p);
  p.then(
    () => inFlight.delete(flightKey),
    () => inFlight.delete(flightKey),
  );
  return p;
}

/**
 * A runtime base image of this hash that a resource still holds but that lost its
 * `pulumi-tesseract-runtime:<hash16>` tag (a noCache build moved the tag to a fresh image, which
 * went with its last holder): the same inputs made it, so it is tagged again instead of installing
 * the runtime once more. Only runtime images carry runtime holder tags (build stages and final
 * images inherit the hash label through FROM, never those tags).
 */
async function retagHeldRuntime(engine: ContainerEngine, runtime: RuntimeBase): Promise<{ Id: string } | undefined> {
  const labelled = await engine.listImages({ label: [`${LABELS.managed}=true`, `${RUNTIME_LABEL}=${runtime.hash}`] });
  const [held] = labelled
    .filter((i) => (i.RepoTags ?? []).some(isRuntimeHolderTag))
    .sort((a, b) => b.Created - a.Created);
  if (!held) return undefined;
  const colon = runtime.image.lastIndexOf(":");
  await engine.tagImage(held.Id, runtime.image.slice(0, colon), runtime.image.slice(colon + 1));
  return { Id: held.Id };
}

async function buildRuntime(engine: ContainerEngine, runtime: RuntimeBase, opts: RuntimeBuildOptions): Promise<string> {
  opts.progress.info(`building the runtime base image ${runtime.image} (shared by the Tesseracts that need it)`);
  const started = Date.now();
  const buildArgs = { ...opts.buildArgs, ...runtime.buildArgs };
  for (let attempt = 1; ; attempt++) {
    const tracker = new BuildLogTracker();
    try {
      const id = await engine.build(
        contextTar(runtime.context),
        {
          tags: [runtime.image],
          buildArgs: Object.keys(buildArgs).length ? buildArgs : undefined,
          labels: { [LABELS.managed]: "true", [RUNTIME_LABEL]: runtime.hash },
          networkMode: opts.networkMode,
          noCache: opts.noCache,
          platform: runtime.platform,
          signal: opts.signal,
        },
        (line) => {
          tracker.feed(line);
          opts.onLine(line);
        },
      );
      opts.progress.info(
        `built the runtime base image ${runtime.image} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return id;
    } catch (err) {
      await removeCreatedImages(engine, tracker.created);
      if (attempt > 1 || !lostCacheParent(err) || opts.signal?.aborted) throw err;
      opts.progress.warn(
        "a cached layer the runtime build used was removed meanwhile (another build's cleanup?); building again",
      );
    }
  }
}

/** Marks a build of this process on `runtimeId`; the returned function ends the mark. */
export function useRuntime(engine: ContainerEngine, runtimeId: string): () => void {
  const key = `${engine.host}\0${runtimeId}`;
  users.set(key, (users.get(key) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const n = (users.get(key) ?? 1) - 1;
    if (n > 0) users.set(key, n);
    else users.delete(key);
  };
}

/**
 * Tags `runtimeId` with the resource's runtime holder tag (moving it from the runtime it held
 * before, whose ID is returned when it differs, so the caller can release it after the build).
 */
export async function holdRuntime(
  engine: ContainerEngine,
  runtimeId: string,
  holderTag: string,
): Promise<{ previous?: string }> {
  const before = await engine.inspectImage(holderTag);
  const colon = holderTag.lastIndexOf(":");
  await engine.tagImage(runtimeId, holderTag.slice(0, colon), holderTag.slice(colon + 1));
  return before && before.Id !== runtimeId ? { previous: before.Id } : {};
}

/**
 * Puts the resource's runtime holder tag back where it was before a failed build (`previous`), or
 * removes it when it held nothing before, then removes `runtimeId` if nothing holds it any more.
 */
export async function undoHoldRuntime(
  engine: ContainerEngine,
  runtimeId: string,
  holderTag: string,
  previous: string | undefined,
): Promise<void> {
  const colon = holderTag.lastIndexOf(":");
  if (previous)
    await engine.tagImage(previous, holderTag.slice(0, colon), holderTag.slice(colon + 1)).catch(() => undefined);
  else {
    const held = await engine.inspectImage(holderTag);
    if (held?.Id === runtimeId) await engine.removeImage(holderTag).catch(() => undefined);
  }
  await removeRuntimeIfUnheld(engine, runtimeId);
}

/** Removes the resource's runtime holder tag, then the runtime it held if no holder is left. */
export async function releaseRuntimeHold(engine: ContainerEngine, holderTag: string): Promise<void> {
  const held = await engine.inspectImage(holderTag);
  if (!held) return;
  await engine.removeImage(holderTag).catch(() => undefined);
  await removeRuntimeIfUnheld(engine, held.Id);
}

/**
 * Removes a runtime base image nothing holds: no runtime holder tag on it and no build of this
 * process on it. Its runtime tags go first; the image itself goes then, unless a build stage (a
 * kept dependency cache) is on it: Docker keeps it as that stage's untagged parent and prunes it
 * when the stage's cache tag is removed.
 */
export async function removeRuntimeIfUnheld(engine: ContainerEngine, runtimeId: string): Promise<void> {
  if (users.get(`${engine.host}\0${runtimeId}`)) return;
  const info = await engine.inspectImage(runtimeId);
  if (!info) return;
  const tags = info.RepoTags ?? [];
  if (tags.some(isRuntimeHolderTag)) return;
  for (const t of tags.filter((t) => t.startsWith(`${RUNTIME_REPOSITORY}:`)))
    await engine.removeImage(t).catch(() => undefined);
  const after = await engine.inspectImage(runtimeId);
  if (after && (after.RepoTags?.length ?? 0) === 0) await engine.removeImage(runtimeId).catch(() => undefined);
}
