/**
 * `pulumi import tesseract:index:TesseractImage <name> '<image>#<srcDir>'`: adopts an image built
 * outside Pulumi (e.g. by `buildTesseractImage`). An image cannot say which folder it was built
 * from, so the import ID names it after `#`; the rest of the state is read from the image and the
 * folder the same way a build computes it.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { BUILD_LABEL_KEYS, prepareBuild, type TesseractImageInputs } from "../build";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import { engineFor } from "../docker";

/** Image labels a build sets itself or the base image brings (the rest were the `labels` input). */
const isBuildLabel = (k: string) => BUILD_LABEL_KEYS.has(k) || k.startsWith("ai.pasteurlabs.");

/** Splits `<image>#<srcDir>`. */
export function parseImageImportId(id: string): { image: string; srcDir: string } {
  const at = id.lastIndexOf("#");
  if (at <= 0 || at === id.length - 1)
    throw new UserError(
      `TesseractImage import ID ${JSON.stringify(id)} must be "<image>#<srcDir>", e.g. "hello:0.1.0#./tesseracts/hello" (the image, and the folder holding its tesseract_api.py and tesseract_config.yaml)`,
    );
  return { image: id.slice(0, at), srcDir: id.slice(at + 1) };
}

/**
 * Reads the image and the folder. The inputs returned are `srcDir`, `tag` when the image's tag is
 * neither the config's version nor `latest`, and `labels` (the image's labels minus those a build
 * sets); the state is what a create would have stored. An
 * image without the build's context-hash label (built by other tools) gets a hash that never
 * matches, so the next `up` rebuilds it under the same tags.
 */
export async function importImage(id: string): Promise<provider.ReadResult> {
  const { image, srcDir } = parseImageImportId(id);
  const docker = engineFor(undefined);
  const info = await docker.inspectImage(image);
  if (!info) return { id: "", props: {} };
  const inputs: TesseractImageInputs = { srcDir };
  const labels = Object.entries(info.Config?.Labels ?? {}).filter(([k]) => !isBuildLabel(k));
  if (labels.length) inputs.labels = Object.fromEntries(labels);
  let prepared = prepareBuild(inputs);
  if (!prepared.tags.includes(image)) {
    const tag = image.includes(":") ? image.slice(image.lastIndexOf(":") + 1) : "latest";
    inputs.tag = tag;
    prepared = prepareBuild(inputs);
    if (!prepared.tags.includes(image))
      throw new UserError(
        `TesseractImage import: ${image} is not a tag a build of ${prepared.srcDir} gives (${prepared.tags.join(", ")}); import it by one of those`,
      );
  }
  const repoTags = info.RepoTags ?? [];
  const contextHash = info.Config?.Labels?.[LABELS.contextHash];
  // The build stage a build tagged as its dependency cache: adopted too, so destroy removes it.
  const cacheTag = contextHash
    ? `pulumi-tesseract-cache/${prepared.config.name}:${contextHash.slice(0, 16)}`
    : undefined;
  const stage = cacheTag ? await docker.inspectImage(cacheTag) : undefined;
  const props = {
    imageId: info.Id,
    imageName: prepared.tags[0],
    tags: prepared.tags.filter((t) => repoTags.includes(t)),
    name: prepared.config.name,
    version: prepared.config.version,
    contextHash: contextHash ?? `imported:${info.Id}`,
    endpoints: prepared.endpoints,
    srcDir: prepared.srcDir,
    ...(stage ? { cacheTag, buildStageImageId: stage.Id } : {}),
  };
  return { id: prepared.tags[0], props, inputs: { ...inputs } };
}
