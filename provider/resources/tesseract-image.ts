import * as pulumi from "@pulumi/pulumi";
import type { TesseractImageInputs, TesseractImageOutputs } from "../build/inputs";
import type { RegistryPush } from "../build/push";
import type { Assert, SameKeys } from "../common/inputs";
import { TESSERACT_IMAGE_SECRETS } from "../common/secret-fields";
import type { DockerConnection } from "../docker/connection";
import { withSecretInputs, withSecretOutputs } from "./secret-inputs";
import { dynamicProvider, urnInput } from "./shim";

/** Arguments of a {@link TesseractImage}. */
export interface TesseractImageArgs {
  /** Folder holding `tesseract_api.py` and `tesseract_config.yaml` (and `tesseract_requirements.txt`). */
  srcDir: pulumi.Input<string>;
  /**
   * Image tag. Absent: the image is tagged `name:version` and `name:latest`, as `tesseract build`
   * does; given: `name:<tag>` only. Letters, digits, `_`, `.`, `-`; at most 128 characters.
   */
  tag?: pulumi.Input<string>;
  /**
   * Overrides of `tesseract_config.yaml` entries by dotted key path, like
   * `tesseract build --config-override`, e.g. `{"name": "hello-dev", "build_config.skip_checks": true}`.
   * A string value is read as YAML first (so `"[a, b]"` is a list). Validated like the file.
   */
  configOverride?: pulumi.Input<Record<string, pulumi.Input<unknown>>>;
  /** Build without the layer cache. Does not by itself trigger a rebuild. */
  noCache?: pulumi.Input<boolean>;
  /**
   * Keep the build stage image (the installed dependencies) tagged `pulumi-tesseract-cache/<name>:<hash>`
   * while the resource exists, so rebuilds after source edits reuse it; removed on destroy. Default
   * `true`. `false` removes it (and the build stage's other new layers) right after each build:
   * less disk, but every rebuild installs the dependencies again. Does not by itself trigger a
   * rebuild. BuildKit engines have no stage image: their cache is the engine's (`docker builder prune`).
   */
  keepBuildCache?: pulumi.Input<boolean>;
  /** Docker build arguments (for `ARG`s in `custom_build_steps`). */
  buildArgs?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** tesseract-core version whose runtime is pip-installed into the image. Default `1.15.0`. */
  runtimeVersion?: pulumi.Input<string>;
  /**
   * Primary Python package index for the build (`PIP_INDEX_URL`), e.g. a mirror. Passed as a build
   * argument: it is not baked into the final image. With credentials (`https://user:token@host/simple`)
   * and `custom_build_steps`, the build gets a loopback proxy URL that adds them instead (needs
   * `buildNetwork: "host"`), so the pushed image's history never holds them (docs/tesseract-image.md).
   */
  pipIndexUrl?: pulumi.Input<string>;
  /** Extra package indexes (`PIP_EXTRA_INDEX_URL`), build stage only. */
  pipExtraIndexUrls?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * What installs the runtime and requirements in the build stage: `"pip"` (default) or `"uv"`
   * (`pip install uv` from the package index, then `uv pip install`, as upstream's image does).
   */
  installer?: pulumi.Input<"pip" | "uv">;
  /**
   * Copy what symbolic links in `srcDir` (and local package folders) point to outside of them.
   * Default false: such a link is an error naming it, links inside stay links (as the Docker CLI
   * does), so nothing from outside the folder (e.g. `~/.ssh`) reaches the image by accident.
   */
  followLinksOutside?: pulumi.Input<boolean>;
  /**
   * PEM text of CA certificates to trust while building (e.g. a TLS-intercepting proxy's CA):
   * installed with `update-ca-certificates`; pip, requests and OpenSSL are pointed at the bundle.
   */
  caCertificates?: pulumi.Input<string>;
  /** Network mode of the build's `RUN` steps, e.g. `host` to reach indexes or proxies on the host. */
  buildNetwork?: pulumi.Input<string>;
  /** Platform to build for, e.g. `linux/amd64` (default: the engine's). */
  platform?: pulumi.Input<string>;
  /** Extra labels on the image (next to `pulumi-tesseract.managed` and `pulumi-tesseract.context-hash`). */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Also write the generated build context to this folder (like `tesseract build --generate-only`). */
  contextDir?: pulumi.Input<string>;
  /** Give up on a build after this many seconds (default 3600). */
  timeoutSeconds?: pulumi.Input<number>;
  /**
   * Docker engine to build on (default: `DOCKER_HOST`, else the local socket). Changing it replaces
   * the image. Stored as a Pulumi secret (it may hold TLS key material), like `TesseractService.docker`.
   */
  docker?: pulumi.Input<DockerConnection>;
  /**
   * Push the image to a registry after each build: `registry` (host[:port]), `repository`, an
   * optional `tag` (default: the image's own) and `username`/`password` (keep the password a
   * secret). Outputs `repoDigest`, the reference a cluster should run. Nothing is pushed when
   * nothing changed; deleting the resource removes only the local tags (the registry keeps what
   * was pushed: its history is the registry's to prune).
   */
  push?: pulumi.Input<RegistryPushInput>;
}

/** Compile-time check: the Args and the schema-inferred plain inputs name the same keys. */
/** {@link RegistryPush} with every field an Input. */
export type RegistryPushInput = { [K in keyof RegistryPush]: pulumi.Input<RegistryPush[K]> };

export type TesseractImageArgsMatchInputs = Assert<SameKeys<TesseractImageArgs, TesseractImageInputs>>;

/**
 * The provider shim: a module-level singleton whose methods load the lifecycle module in the
 * provider process, so nothing but this small object is serialized into the state.
 */
const provider = dynamicProvider<TesseractImageInputs, TesseractImageOutputs>(() =>
  require("pulumi-tesseract/lib/resources/tesseract-image-impl.js"),
);

/**
 * A Tesseract image built from a Tesseract folder through the Docker Engine API, like
 * `tesseract build` but without buildx: the config and `tesseract_api.py` are validated at preview,
 * the image is rebuilt only when the sources (minus `.dockerignore`), the config or the options
 * change, and editing `tesseract_api.py` reuses the cached dependency layers.
 */
export class TesseractImage extends pulumi.dynamic.Resource {
  /** The image ID (`sha256:...`). */
  declare readonly imageId: pulumi.Output<string>;
  /** The first tag, e.g. `hello:0.1.0`: use it to run or serve the image. */
  declare readonly imageName: pulumi.Output<string>;
  /** All tags this resource put on the image. */
  declare readonly tags: pulumi.Output<string[]>;
  /** The Tesseract's name (from the config, after overrides). */
  declare readonly name: pulumi.Output<string>;
  /** The Tesseract's version (from the config, after overrides). */
  declare readonly version: pulumi.Output<string>;
  /** sha256 over the build context (sources, rewritten requirements, Dockerfile) and the build options. */
  declare readonly contextHash: pulumi.Output<string>;
  /** Endpoints `tesseract_api.py` defines: `apply` and any of `jacobian`, `jacobian_vector_product`, `vector_jacobian_product`, `abstract_eval`. */
  declare readonly endpoints: pulumi.Output<string[]>;
  /** With `push`: `registry/repository@sha256:…`, the immutable reference to run (e.g. on Kubernetes). */
  declare readonly repoDigest: pulumi.Output<string | undefined>;
  /** With `push`: `registry/repository:tag` that was pushed. */
  declare readonly pushedReference: pulumi.Output<string | undefined>;

  /**
   * @param name The Pulumi resource name.
   * @param args Where the Tesseract's sources are and how to build them.
   * @param opts Pulumi resource options.
   */
  constructor(name: string, args: TesseractImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      // Secret in the state's inputs and outputs (TESSERACT_IMAGE_SECRETS): the whole `push`
      // setting (so a plain password never is stored in clear), `docker` (TLS key material) and
      // the index URLs (credentials).
      withSecretInputs(
        {
          ...args,
          imageId: undefined,
          imageName: undefined,
          tags: undefined,
          name: undefined,
          version: undefined,
          contextHash: undefined,
          endpoints: undefined,
          repoDigest: undefined,
          pushedReference: undefined,
          // Hidden: tells the provider process which resource it works for (progress, per-stack defaults).
          __urn: urnInput(name, "tesseract", "TesseractImage", opts),
        },
        TESSERACT_IMAGE_SECRETS,
      ),
      withSecretOutputs(opts, TESSERACT_IMAGE_SECRETS),
      "tesseract",
      "TesseractImage",
    );
  }
}
