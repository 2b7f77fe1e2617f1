/**
 * Reuse of an image built earlier with the same identity (sources, config, tags, build args,
 * labels, platform: the context hash), on the same engine, instead of building it again: two
 * stacks declaring the same Tesseract hold one image (each with its holder tag), and the second
 * `up` builds nothing.
 *
 * Why not leave it to the builder's cache: the classic builder picks, for each step, the newest
 * cached child of the step's parent with the same instruction. Identical first steps of several
 * Tesseracts built at once (the runtime install) make several such children, so a later build can
 * continue from another Tesseract's chain, miss every following step and make a second image.
 */
import { LABELS } from "../common/labels";
import type { ContainerEngine } from "../docker/engine";
import { isHolderTag } from "./holders";
import type { KeptBuildStage } from "./stage-cache";

/** An image found for reuse: its ID and the build stage kept with it, if any. */
export interface ReusableImage extends KeptBuildStage {
  imageId: string;
}

/** The cache tag a kept build stage carries (see keepBuildStage). */
export function cacheTagFor(name: string, contextHash: string): string {
  return `pulumi-tesseract-cache/${name}:${contextHash.slice(0, 16)}`;
}

/**
 * The image this package built on `engine` with `contextHash`, if one is there. Several can be
 * (builds from before reuse existed): the one a resource still holds, else the newest.
 */
export async function findReusableImage(
  engine: ContainerEngine,
  name: string,
  contextHash: string,
): Promise<ReusableImage | undefined> {
  const found = await engine.listImages({
    label: [`${LABELS.managed}=true`, `${LABELS.contextHash}=${contextHash}`],
  });
  if (!found.length) return undefined;
  const held = (i: (typeof found)[number]) => (i.RepoTags ?? []).some(isHolderTag);
  const [best] = [...found].sort((a, b) => Number(held(b)) - Number(held(a)) || b.Created - a.Created);
  const cacheTag = cacheTagFor(name, contextHash);
  const stage = await engine.inspectImage(cacheTag);
  return { imageId: best.Id, ...(stage ? { buildStageImageId: stage.Id, cacheTag } : {}) };
}

/** Gives `imageId` each of `tags` (`repo:tag`, the registry part may hold a port). */
export async function tagAll(engine: ContainerEngine, imageId: string, tags: string[]): Promise<void> {
  for (const ref of tags) {
    const colon = ref.lastIndexOf(":");
    const [repo, tag] = colon > ref.lastIndexOf("/") ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, "latest"];
    await engine.tagImage(imageId, repo, tag);
  }
}
