import * as pulumi from "@pulumi/pulumi";
import type { TesseractImageInputs, TesseractImageOutputs } from "../build/inputs";
import type { RegistryPush } from "../build/push";
import { type ArgsOf, type OutputFieldsOf, outputPlaceholders } from "./definitions/define";
import {
  TESSERACT_IMAGE_OUTPUTS,
  TESSERACT_IMAGE_SECRETS,
  type TesseractImageInputFields,
  type TesseractImageOutputFields,
} from "./definitions/tesseract-image";
import { withSecretInputs, withSecretOutputs } from "./secret-inputs";
import { dynamicProvider, urnInput } from "./shim";

/** Arguments of a {@link TesseractImage}: its definition's inputs ({@link TesseractImageInputFields}), every part an Input. */
export type TesseractImageArgs = ArgsOf<TesseractImageInputFields>;

/** {@link RegistryPush} with every field an Input. */
export type RegistryPushInput = ArgsOf<RegistryPush>;

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
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below adds only the output fields Pulumi sets on the instance
export class TesseractImage extends pulumi.dynamic.Resource {
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
          // Every output, unknown until the provider answers (the definition's list).
          ...outputPlaceholders(TESSERACT_IMAGE_OUTPUTS),
          // Hidden: tells the provider process which resource it works for (progress, per-stack defaults).
          __urn: urnInput(name, "tesseract", "TesseractImage", opts),
        },
        TESSERACT_IMAGE_SECRETS,
      ),
      withSecretOutputs(opts, TESSERACT_IMAGE_SECRETS),
      "tesseract",
      "TesseractImage",
    );
    const pushed = args.push !== undefined;
    Object.defineProperty(this, "servedReference", {
      value: pushed
        ? pulumi.all([this.repoDigest, this.imageName]).apply(([digest, name]) => digest || name)
        : this.imageName,
      enumerable: true,
    });
  }
}

// The output fields come from the definition (declaration merging: a class's instance type takes
// the members of an interface of the same name), so they are never written twice.
export interface TesseractImage extends OutputFieldsOf<TesseractImageOutputFields> {
  /**
   * The reference a `TesseractService` runs: `repoDigest` when `push` is set, else `imageName`.
   * Computed in the program, not a provider output (so not in the plugin schema): an image without
   * `push` has no `repoDigest` in its state, and an output missing from the state is unknown during
   * `pulumi preview`, so a reference derived from it made every preview replace the services.
   */
  readonly servedReference: pulumi.Output<string>;
}
