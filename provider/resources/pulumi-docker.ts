/**
 * Interop with `@pulumi/docker` without depending on it. The package is an optional peer: a stack
 * that installs pulumi-tesseract but no `@pulumi/docker` must not list the docker plugin as
 * required (`pulumi about`, `pulumi install`), so nothing here imports it. Its resources are
 * recognised by shape instead: any Pulumi resource (of any `@pulumi/pulumi` copy) with the
 * outputs below. Matches `@pulumi/docker` 4.x and 5.x.
 */
import * as pulumi from "@pulumi/pulumi";

/** The shape of a `docker.Image` (built and pushed by `@pulumi/docker`); `TesseractImage` has it too. */
export interface DockerImageLike {
  /** The Pulumi URN: every resource has one, strings and Outputs do not. */
  readonly urn: pulumi.Output<string>;
  /** The image reference to run, e.g. `registry/name:tag`. */
  readonly imageName: pulumi.Output<string>;
}

/** The shape of a `docker.RemoteImage` (an image pulled by `@pulumi/docker`). */
export interface DockerRemoteImageLike {
  /** The Pulumi URN. */
  readonly urn: pulumi.Output<string>;
  /** The image reference as given, e.g. `vendor/tess:1`. */
  readonly name: pulumi.Output<string>;
  /** The local image ID (`sha256:…`). */
  readonly imageId: pulumi.Output<string>;
}

/** The shape of a `docker.Network`. */
export interface DockerNetworkLike {
  /** The Pulumi URN. */
  readonly urn: pulumi.Output<string>;
  /** The network's name on the engine. */
  readonly name: pulumi.Output<string>;
}

/** A Pulumi resource (checked by its cross-copy marker, not `instanceof`) that has output `key`. */
function isResourceWith<K extends string>(value: unknown, key: K): value is Record<K, pulumi.Output<string>> {
  return pulumi.Resource.isInstance(value) && pulumi.Output.isInstance((value as unknown as Record<K, unknown>)[key]);
}

/**
 * The image reference behind a string, a `TesseractImage`, a `docker.Image` or a
 * `docker.RemoteImage`: the pushed digest when the resource has one (a TesseractImage with `push`,
 * a pushed docker.Image), which a cluster pulls and a Docker engine pulls when absent (the engine
 * that built it has it under that digest too); without one the image's own name.
 */
export function imageReference(
  image: pulumi.Input<string | undefined> | DockerImageLike | DockerRemoteImageLike,
): pulumi.Input<string | undefined> {
  const name = localImageReference(image);
  // A TesseractImage knows whether it pushes (see TesseractImage.servedReference).
  if (isResourceWith(image, "servedReference")) return image.servedReference;
  if (!pulumi.Resource.isInstance(image) || !isResourceWith(image, "repoDigest")) return name;
  return pulumi.all([image.repoDigest, name]).apply(([digest, n]) => digest || n) as pulumi.Output<string>;
}

function localImageReference(
  image: pulumi.Input<string | undefined> | DockerImageLike | DockerRemoteImageLike,
): pulumi.Input<string | undefined> {
  if (isResourceWith(image, "imageName")) return image.imageName;
  if (isResourceWith(image, "imageId") && isResourceWith(image, "name")) return image.name;
  return image as pulumi.Input<string | undefined>;
}

/** The network name behind a string or a `docker.Network`. */
export function networkName(
  network: pulumi.Input<string | undefined> | DockerNetworkLike,
): pulumi.Input<string | undefined> {
  if (isResourceWith(network, "name")) return network.name;
  return network as pulumi.Input<string | undefined>;
}
