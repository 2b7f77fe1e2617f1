/**
 * What a classic-builder build leaves besides the final image: the build stage's images (the
 * dependency cache). Kept under a tag while the TesseractImage exists (`keepBuildCache`, default),
 * or removed right after the build. BuildKit builds leave no stage image (their cache is the
 * engine's build cache), so there is nothing to do for them here.
 */
import type { ContainerEngine } from "../docker/engine";
import { DockerBuildError } from "../docker/errors";
import type { BuildLogTracker } from "./log";
import { cacheTagFor } from "./reuse";

/** The build stage image and the tag that keeps it from being a dangling `<none>` image. */
export interface KeptBuildStage {
  buildStageImageId?: string;
  cacheTag?: string;
}

/** Tags the build stage image `pulumi-tesseract-cache/<name>:<hash16>`, so it is not left dangling. */
export async function keepBuildStage(
  engine: ContainerEngine,
  tracker: BuildLogTracker,
  name: string,
  contextHash: string,
): Promise<KeptBuildStage> {
  const stage = tracker.stageImage;
  if (!stage) return {};
  const cacheTag = cacheTagFor(name, contextHash);
  const colon = cacheTag.lastIndexOf(":");
  try {
    await engine.tagImage(stage, cacheTag.slice(0, colon), cacheTag.slice(colon + 1));
    return { buildStageImageId: stage, cacheTag };
  } catch {
    // the cache stays untagged; nothing depends on the tag
    return { buildStageImageId: stage };
  }
}

/**
 * `keepBuildCache: false`: removes the images this build created in the stages before the last
 * (the build stage up to its last image), newest first. None of them is an ancestor of the final
 * image (its stage starts `FROM` the base image). Layers taken from the cache belong to earlier
 * builds and stay. Returns the IDs that could not be removed.
 */
export async function dropBuildStage(engine: ContainerEngine, tracker: BuildLogTracker): Promise<string[]> {
  return removeCreatedImages(engine, tracker.createdBeforeLastStage);
}

/**
 * Removes images a build created, newest first, each with `noprune` so no parent (a cached layer
 * another build may share) goes with it. Tagged images are skipped, and Docker refuses (409) an
 * image with children or containers, so nothing still in use can go. Returns the ones left.
 */
export async function removeCreatedImages(engine: ContainerEngine, created: readonly string[]): Promise<string[]> {
  const left: string[] = [];
  for (const id of [...created].reverse()) {
    try {
      const info = await engine.inspectImage(id);
      // a tag means someone else holds the image (e.g. another TesseractImage's cache tag)
      if (!info || (info.RepoTags?.length ?? 0) > 0) continue;
      await engine.removeImage(id, { noprune: true });
    } catch {
      // an image that another build now uses keeps existing
      left.push(id);
    }
  }
  return left;
}

/**
 * True when the engine failed a build because a cached layer it continued from was removed before
 * its commit (another build's cleanup, or an image removal, while it ran): the build itself is
 * fine and can run once more.
 */
export function lostCacheParent(err: unknown): boolean {
  return err instanceof DockerBuildError && /unknown parent image ID|failed to set parent/.test(err.engineMessage);
}
