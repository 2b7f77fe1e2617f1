/**
 * TesseractImage's definition: its inputs (with the docs of each field), outputs, the inputs its
 * state keeps, and its secret paths, written once (see define.ts for what derives from it;
 * DEVELOPING.md "A resource's definition, end to end"). The zod schema that validates the inputs
 * (`tesseractImageSchema`, provider/build/inputs.ts) must accept exactly these types: a
 * compile-time check below says so.
 */
import type { z } from "zod";
import type { TesseractImageOutputs, tesseractImageSchema } from "../../build/inputs";
import type { RegistryPush } from "../../build/push";
import type { Assert } from "../../common/inputs";
import type { DockerConnection } from "../../docker/connection";
import type { ListsKeysOf, SchemaMatches, SecretPath } from "./define";

/** The inputs of a TesseractImage, plain (the Args are these with every part an Input). */
export interface TesseractImageInputFields {
  /** Folder holding `tesseract_api.py` and `tesseract_config.yaml` (and `tesseract_requirements.txt`). */
  srcDir: string;
  /**
   * Image tag. Absent: the image is tagged `name:version` and `name:latest`, as `tesseract build`
   * does; given: `name:<tag>` only. Letters, digits, `_`, `.`, `-`; at most 128 characters.
   */
  tag?: string;
  /**
   * Overrides of `tesseract_config.yaml` entries by dotted key path, like
   * `tesseract build --config-override`, e.g. `{"name": "hello-dev", "build_config.skip_checks": true}`.
   * A string value is read as YAML first (so `"[a, b]"` is a list). Validated like the file.
   */
  configOverride?: Record<string, unknown>;
  /** Build without the layer cache. Does not by itself trigger a rebuild. */
  noCache?: boolean;
  /**
   * Keep the build stage image (the installed dependencies) tagged `pulumi-tesseract-cache/<name>:<hash>`
   * while the resource exists, so rebuilds after source edits reuse it; removed on destroy. Default
   * `true`. `false` removes it (and the build stage's other new layers) right after each build:
   * less disk, but every rebuild installs the dependencies again. Does not by itself trigger a
   * rebuild. BuildKit engines have no stage image: their cache is the engine's (`docker builder prune`).
   */
  keepBuildCache?: boolean;
  /** Docker build arguments (for `ARG`s in `custom_build_steps`). */
  buildArgs?: Record<string, string>;
  /** tesseract-core version whose runtime is pip-installed into the image. Default `1.15.0`. */
  runtimeVersion?: string;
  /**
   * Primary Python package index for the build (`PIP_INDEX_URL`), e.g. a mirror. Passed as a build
   * argument: it is not baked into the final image. With credentials (`https://user:token@host/simple`)
   * and `custom_build_steps`, the build gets a loopback proxy URL that adds them instead (needs
   * `buildNetwork: "host"`), so the pushed image's history never holds them (docs/tesseract-image.md).
   */
  pipIndexUrl?: string;
  /** Extra package indexes (`PIP_EXTRA_INDEX_URL`), build stage only. */
  pipExtraIndexUrls?: string[];
  /**
   * What installs the runtime and requirements in the build stage: `"pip"` (default) or `"uv"`
   * (`pip install uv` from the package index, then `uv pip install`, as upstream's image does).
   */
  installer?: "pip" | "uv";
  /**
   * Copy what symbolic links in `srcDir` (and local package folders) point to outside of them.
   * Default false: such a link is an error naming it, links inside stay links (as the Docker CLI
   * does), so nothing from outside the folder (e.g. `~/.ssh`) reaches the image by accident.
   */
  followLinksOutside?: boolean;
  /**
   * PEM text of CA certificates to trust while building (e.g. a TLS-intercepting proxy's CA):
   * installed with `update-ca-certificates`; pip, requests and OpenSSL are pointed at the bundle.
   */
  caCertificates?: string;
  /** Network mode of the build's `RUN` steps, e.g. `host` to reach indexes or proxies on the host. */
  buildNetwork?: string;
  /** Platform to build for, e.g. `linux/amd64` (default: the engine's). */
  platform?: string;
  /** Extra labels on the image (next to `pulumi-tesseract.managed` and `pulumi-tesseract.context-hash`). */
  labels?: Record<string, string>;
  /** Also write the generated build context to this folder (like `tesseract build --generate-only`). */
  contextDir?: string;
  /** Give up on a build after this many seconds (default 3600). */
  timeoutSeconds?: number;
  /**
   * Docker engine to build on (default: `DOCKER_HOST`, else the local socket). Changing it replaces
   * the image. Stored as a Pulumi secret (it may hold TLS key material), like `TesseractService.docker`.
   */
  docker?: DockerConnection;
  /**
   * Push the image to a registry after each build: `registry` (host[:port]), `repository`, an
   * optional `tag` (default: the image's own) and `username`/`password` (keep the password a
   * secret). Outputs `repoDigest`, the reference a cluster should run. Nothing is pushed when
   * nothing changed; deleting the resource removes only the local tags (the registry keeps what
   * was pushed: its history is the registry's to prune).
   */
  push?: RegistryPush;
  /**
   * Which of the engine's builders builds the image: `"auto"` (default) builds with the classic
   * builder unless the build needs BuildKit (`build_config.host_credentials`, `secrets` or `injectSsh`), then with
   * BuildKit; `"buildkit"` always with BuildKit (`POST /build?version=2` and a `/session`, no CLI or
   * buildx; it adds a pip/uv cache mount, but keeps no build stage image); `"classic"` never (a
   * build that needs BuildKit then fails at check, naming what needs it). An engine without BuildKit
   * (Podman's API) fails such a build with that reason. Part of the context hash when BuildKit is used.
   */
  builder?: "auto" | "buildkit" | "classic";
  /**
   * Build secrets, secret id → value (`RUN --mount=type=secret,id=<id>`, upstream's `--secret`):
   * the values `build_config.host_credentials[].secret_id` name, and any a `custom_build_steps` line
   * mounts. Served to BuildKit over the build's session only: never in the image, its history,
   * labels, build args, logs or the context hash (only the ids count). Needs BuildKit. Stored as a
   * Pulumi secret.
   */
  secrets?: Record<string, string>;
  /**
   * Forward the SSH agent of `SSH_AUTH_SOCK` (where `pulumi` runs) into the requirements install
   * (`RUN --mount=type=ssh`), so `git+ssh://` requirements clone with its keys, like upstream's
   * `inject_ssh` / `--forward-ssh-agent`: the build stage gets git and openssh-client, and accepts a
   * host key it has not seen (`StrictHostKeyChecking=accept-new`). No key reaches the image. Needs BuildKit.
   */
  injectSsh?: boolean;
}

/** The outputs of a TesseractImage (the class's output fields; the state, `TesseractImageOutputs`, extends them). */
export interface TesseractImageOutputFields {
  /** The image ID (`sha256:...`). */
  imageId: string;
  /** The first tag, e.g. `hello:0.1.0`: use it to run or serve the image. */
  imageName: string;
  /** All tags this resource put on the image. */
  tags: string[];
  /** The Tesseract's name (from the config, after overrides). */
  name: string;
  /** The Tesseract's version (from the config, after overrides). */
  version: string;
  /** sha256 over the build context (sources, rewritten requirements, Dockerfile) and the build options. */
  contextHash: string;
  /** Endpoints `tesseract_api.py` defines: `apply` and any of `jacobian`, `jacobian_vector_product`, `vector_jacobian_product`, `abstract_eval`. */
  endpoints: string[];
  /** With `push`: `registry/repository@sha256:…`, the immutable reference to run (e.g. on Kubernetes). */
  repoDigest?: string;
  /** With `push`: `registry/repository:tag` that was pushed. */
  pushedReference?: string;
}

/** The output fields, in the schema's order (checked against {@link TesseractImageOutputFields} below). */
export const TESSERACT_IMAGE_OUTPUTS = [
  "imageId",
  "imageName",
  "tags",
  "name",
  "version",
  "contextHash",
  "endpoints",
  "repoDigest",
  "pushedReference",
] as const;

/** The inputs the state keeps (the rest shape `contextHash`, or are not kept: the push's password). */
export const TESSERACT_IMAGE_STATE_INPUTS = [
  "srcDir",
  "docker",
] as const satisfies readonly (keyof TesseractImageInputFields & keyof TesseractImageOutputs)[];

/** TesseractImage: index URLs may carry credentials (`https://user:token@host/simple`); TLS key; registry password; build secrets. */
export const TESSERACT_IMAGE_SECRETS = [
  "pipIndexUrl",
  "pipExtraIndexUrls",
  "docker.keyPem",
  "push.password",
  "secrets",
] as const satisfies readonly SecretPath<TesseractImageInputFields>[];

/** Compile-time check: the output list names exactly the output fields. */
export type TesseractImageOutputsListed = Assert<
  ListsKeysOf<typeof TESSERACT_IMAGE_OUTPUTS, TesseractImageOutputFields>
>;
/** Compile-time check: the zod schema `check` validates with accepts exactly the inputs defined here. */
export type TesseractImageSchemaMatches = Assert<
  SchemaMatches<z.input<typeof tesseractImageSchema>, TesseractImageInputFields>
>;
