/**
 * Which resources hold an image. Two stacks (or two TesseractImages) that build the same
 * Tesseract with the same options get the same image, under the same tags (`hello:0.1.0`,
 * `hello:latest`), the same build stage and cache tag. Destroying one must not take them away
 * from the other. Each TesseractImage created inside a Pulumi run therefore also tags its image
 * `pulumi-tesseract-holder/<name>:<16 hex of sha256(URN)>`, its own tag: the engine then knows
 * every holder, with no state outside the engine (it works for remote engines and across stacks,
 * backends and machines). Deleting a resource removes its holder tag, and the shared tags, the
 * image, the cache tag and the build stage only when no other holder tag remains on the image.
 */
import { createHash } from "node:crypto";
import { currentResource } from "../common/resource-context";
import type { ContainerEngine } from "../docker/engine";

/** Repository prefix of holder tags. */
export const HOLDER_REPOSITORY = "pulumi-tesseract-holder";

/** The holder tag of the resource the current call works for; undefined outside a Pulumi run. */
export function holderTagFor(name: string, urn = currentResource()?.urn): string | undefined {
  if (!urn) return undefined;
  return `${HOLDER_REPOSITORY}/${name}:${createHash("sha256").update(urn).digest("hex").slice(0, 16)}`;
}

/** True for a holder tag (any resource's). */
export function isHolderTag(tag: string): boolean {
  return tag.startsWith(`${HOLDER_REPOSITORY}/`);
}

/** Tags `imageId` with `holderTag` (moving it from an earlier build of the same resource). */
export async function holdImage(
  engine: ContainerEngine,
  imageId: string,
  holderTag: string | undefined,
): Promise<string | undefined> {
  if (!holderTag) return undefined;
  const colon = holderTag.lastIndexOf(":");
  try {
    await engine.tagImage(imageId, holderTag.slice(0, colon), holderTag.slice(colon + 1));
    return holderTag;
  } catch {
    // Without it the image is still removed on delete when no other holder is left.
    return undefined;
  }
}

/** The holder tags on the image other than `own`: other resources still using it. */
export async function otherHolders(
  engine: ContainerEngine,
  imageId: string | undefined,
  own: string | undefined,
): Promise<string[]> {
  if (!imageId) return [];
  const info = await engine.inspectImage(imageId);
  return (info?.RepoTags ?? []).filter((t) => isHolderTag(t) && t !== own);
}
