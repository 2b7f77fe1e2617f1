/**
 * TesseractImage's definition: its inputs (with the docs of each field), outputs, the inputs its
 * state keeps, and its secret paths, written once (see define.ts for what derives from it;
 * DEVELOPING.md "A resource's definition, end to end"). The inputs are the zod schema `check`
 * validates with (`tesseractImageSchema`): a field is its rule and its JSDoc, once; the plain
 * inputs are its input type, so nothing else can disagree with it.
 */
import { z } from "zod";
import type { TesseractImageOutputs } from "../../build/inputs";
import { registryPushSchema } from "../../build/push";
import type { Assert } from "../../common/inputs";
import { dockerConnectionSchema } from "../../docker/connection";
import { referenceProblem } from "../../tesseract-config/names";
import type { ListsKeysOf, SecretPath } from "./define";

const RUNTIME_VERSION = /^\d+\.\d+\.\d+([a-z]+\d+|\.post\d+|\.dev\d+)*$/;

/**
 * The inputs of a TesseractImage (and the options of `buildTesseractImage`): each field's rule and,
 * in its JSDoc, its docs. The one source of their shape: `check` validates with it, the plain
 * inputs, the Args and the plugin schema derive from it.
 */
export const tesseractImageSchema = z.strictObject({
  /** Folder holding `tesseract_api.py` and `tesseract_config.yaml` (and `tesseract_requirements.txt`). */
  srcDir: z.string().min(1, "must be the folder holding tesseract_api.py and tesseract_config.yaml"),
  /**
   * Image tag. Absent: the image is tagged `name:version` and `name:latest`, as `tesseract build`
   * does; given: `name:<tag>` only. Letters, digits, `_`, `.`, `-`; at most 128 characters.
   */
  tag: z.string().optional(),
  /**
   * Overrides of `tesseract_config.yaml` entries by dotted key path, like
   * `tesseract build --config-override`, e.g. `{"name": "hello-dev", "build_config.skip_checks": true}`.
   * A string value is read as YAML first (so `"[a, b]"` is a list). Validated like the file.
   */
  configOverride: z.record(z.string(), z.unknown()).optional(),
  /** Build without the layer cache. Does not by itself trigger a rebuild. */
  noCache: z.boolean().optional(),
  // Optional (not a zod default), so library callers may leave it out; absent means true.
  /**
   * Keep the build stage image (the installed dependencies) tagged `pulumi-tesseract-cache/<name>:<hash>`
   * while the resource exists, so rebuilds after source edits reuse it; removed on destroy. Default
   * `true`. `false` removes it (and the build stage's other new layers) right after each build:
   * less disk, but every rebuild installs the dependencies again. Does not by itself trigger a
   * rebuild. BuildKit engines have no stage image: their cache is the engine's (`docker builder prune`).
   */
  keepBuildCache: z
    .boolean({ error: "must be true (keep the build stage image as the dependency cache) or false (remove it)" })
    .optional(),
  // Keys checked by a refine: zod 4 replaces a record key schema's message with "Invalid key in record".
  /** Docker build arguments (for `ARG`s in `custom_build_steps`). */
  buildArgs: z
    .record(z.string(), z.string())
    .refine((r) => Object.keys(r).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)), {
      message:
        "build arg names must be identifiers (fix: e.g. PIP_TIMEOUT; letters, digits and _, not starting with a digit)",
    })
    .optional(),
  /** tesseract-core version whose runtime is pip-installed into the image. Default `1.15.0`. */
  runtimeVersion: z.string().regex(RUNTIME_VERSION, "must be a tesseract-core release such as 1.15.0").optional(),
  /**
   * Primary Python package index for the build (`PIP_INDEX_URL`), e.g. a mirror. Passed as a build
   * argument: it is not baked into the final image. With credentials (`https://user:token@host/simple`)
   * and `custom_build_steps`, the build gets a loopback proxy URL that adds them instead (needs
   * `buildNetwork: "host"`), so the pushed image's history never holds them (docs/tesseract-image.md).
   */
  pipIndexUrl: z.url({ error: "must be a URL such as https://pypi.org/simple" }).optional(),
  /** Extra package indexes (`PIP_EXTRA_INDEX_URL`), build stage only. */
  pipExtraIndexUrls: z.array(z.url({ error: "must be a URL" })).optional(),
  /**
   * What installs the runtime and requirements in the build stage: `"pip"` (default) or `"uv"`
   * (`pip install uv` from the package index, then `uv pip install`, as upstream's image does).
   */
  installer: z.enum(["pip", "uv"], { error: 'must be "pip" or "uv"' }).optional(),
  /**
   * Copy what symbolic links in `srcDir` (and local package folders) point to outside of them.
   * Default false: such a link is an error naming it, links inside stay links (as the Docker CLI
   * does), so nothing from outside the folder (e.g. `~/.ssh`) reaches the image by accident.
   */
  followLinksOutside: z
    .boolean({ error: "must be true (copy what links leaving srcDir point to) or false (refuse such links)" })
    .optional(),
  /**
   * PEM text of CA certificates to trust while building (e.g. a TLS-intercepting proxy's CA):
   * installed with `update-ca-certificates`; pip, requests and OpenSSL are pointed at the bundle.
   */
  caCertificates: z
    .string()
    .includes("-----BEGIN CERTIFICATE-----", { message: "must be PEM text (-----BEGIN CERTIFICATE-----...)" })
    .optional(),
  /** Network mode of the build's `RUN` steps, e.g. `host` to reach indexes or proxies on the host. */
  buildNetwork: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, "must be a Docker network mode such as host, bridge or none")
    .optional(),
  /** Platform to build for, e.g. `linux/amd64` (default: the engine's). */
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "must look like linux/amd64 or linux/arm64/v8")
    .optional(),
  /** Extra labels on the image (next to `pulumi-tesseract.managed` and `pulumi-tesseract.context-hash`). */
  labels: z.record(z.string().min(1), z.string()).optional(),
  /**
   * More references to tag the image with, each `name:tag` (e.g. `["team/hello:stable"]`), after
   * the Tesseract's own tags. Listed in `tags` and removed with the resource like them.
   */
  extraTags: z
    .array(z.string().refine((r) => !referenceProblem(r), { error: (i) => referenceProblem(String(i.input)) }))
    .max(16, "at most 16 extra tags")
    .optional(),
  /** Also write the generated build context to this folder (like `tesseract build --generate-only`). */
  contextDir: z.string().min(1).optional(),
  /** Give up on a build after this many seconds (default 3600). */
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .optional(),
  /**
   * Docker engine to build on (default: `DOCKER_HOST`, else the local socket). Changing it replaces
   * the image. Stored as a Pulumi secret (it may hold TLS key material), like `TesseractService.docker`.
   */
  docker: dockerConnectionSchema.optional(),
  /**
   * Push the image to a registry after each build: `registry` (host[:port]), `repository`, an
   * optional `tag` (default: the image's own) and `username`/`password` (keep the password a
   * secret). Outputs `repoDigest`, the reference a cluster should run. Nothing is pushed when
   * nothing changed; deleting the resource removes only the local tags (the registry keeps what
   * was pushed: its history is the registry's to prune).
   */
  push: registryPushSchema.optional(),
  /**
   * Which of the engine's builders builds the image: `"auto"` (default) builds with the classic
   * builder unless the build needs BuildKit (`build_config.host_credentials`, `secrets` or `injectSsh`), then with
   * BuildKit; `"buildkit"` always with BuildKit (`POST /build?version=2` and a `/session`, no CLI or
   * buildx; it adds a pip/uv cache mount, but keeps no build stage image); `"classic"` never (a
   * build that needs BuildKit then fails at check, naming what needs it). An engine without BuildKit
   * (Podman's API) fails such a build with that reason. Part of the context hash when BuildKit is used.
   */
  builder: z
    .enum(["auto", "buildkit", "classic"], {
      error:
        'must be "auto" (BuildKit only when the build needs it), "buildkit" or "classic" (the Engine API\'s classic builder)',
    })
    .optional(),
  // Keys checked by a refine (see buildArgs); values are secrets: no rule here may echo one.
  /**
   * Build secrets, secret id → value (`RUN --mount=type=secret,id=<id>`, upstream's `--secret`):
   * the values `build_config.host_credentials[].secret_id` name, and any a `custom_build_steps` line
   * mounts. Served to BuildKit over the build's session only: never in the image, its history,
   * labels, build args, logs or the context hash (only the ids count). Needs BuildKit. Stored as a
   * Pulumi secret.
   */
  secrets: z
    .record(z.string(), z.string({ error: "must be a string (the secret's value)" }))
    .refine((r) => Object.keys(r).every((k) => SECRET_ID.test(k)), {
      message:
        "secret ids must be letters, digits, _, . and - (fix: e.g. pypi_token; the id names the secret in build_config.host_credentials[].secret_id and RUN --mount=type=secret,id=…)",
    })
    .optional(),
  /**
   * Forward the SSH agent of `SSH_AUTH_SOCK` (where `pulumi` runs) into the requirements install
   * (`RUN --mount=type=ssh`), so `git+ssh://` requirements clone with its keys, like upstream's
   * `inject_ssh` / `--forward-ssh-agent`: the build stage gets git and openssh-client, and accepts a
   * host key it has not seen (`StrictHostKeyChecking=accept-new`). No key reaches the image. Needs BuildKit.
   */
  injectSsh: z
    .boolean({ error: "must be true (forward the SSH agent of SSH_AUTH_SOCK into the install step) or false" })
    .optional(),
});

/** A build secret's id: what `RUN --mount=type=secret,id=…` and the session's GetSecret carry. */
export const SECRET_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** The inputs of a TesseractImage, plain (the Args are these with every part an Input). */
export type TesseractImageInputFields = z.input<typeof tesseractImageSchema>;

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
