import type { z } from "zod";
import {
  SECRET_ID,
  type TesseractImageOutputFields,
  tesseractImageSchema,
} from "../resources/definitions/tesseract-image";
import type { RecordedPush } from "./push";

/** The inputs of a TesseractImage (and the options of `buildTesseractImage`), defined in its definition. */
export { SECRET_ID, tesseractImageSchema };

/** Plain inputs of a TesseractImage, as the provider sees them (inferred from the schema). */
export type TesseractImageInputs = z.output<typeof tesseractImageSchema>;

/** Upstream's options this package spells otherwise: refused by name, saying which input it is. */
const RENAMED: Record<string, string> = {
  forwardSshAgent: "--forward-ssh-agent",
};

/** One problem per option named as upstream's CLI names it, with the input to use instead. */
export function buildKitOnlyProblems(inputs: object): { property: string; reason: string }[] {
  return Object.keys(RENAMED)
    .filter((k) => k in inputs)
    .map((k) => ({
      property: k,
      reason: `${k}: tesseract-core's CLI flag ${RENAMED[k]} is the injectSsh input here (fix: use injectSsh: true)`,
    }));
}

/** The TesseractImage's secret fields (see common/secret-fields.ts). */
export { TESSERACT_IMAGE_SECRETS } from "../common/secret-fields";

/** Inputs that shape the sources' validation: checked once all of them are known. */
export const SOURCE_INPUTS = [
  "srcDir",
  "configOverride",
  "tag",
  "caCertificates",
  "runtimeVersion",
  "followLinksOutside",
  "pipIndexUrl",
  "pipExtraIndexUrls",
  "buildNetwork",
  "buildArgs",
  "builder",
  "secrets",
  "injectSsh",
] as const;

/** Outputs (state) of a TesseractImage: the output fields of its definition, and what the provider keeps for itself. */
export interface TesseractImageOutputs extends TesseractImageOutputFields {
  /** The build stage's image (the dependency cache), removed on delete. Absent with `keepBuildCache: false`. */
  buildStageImageId?: string;
  /** Tag kept on the build stage's image so it is not a dangling `<none>` image, removed on delete. Absent with `keepBuildCache: false`. */
  cacheTag?: string;
  /**
   * `pulumi-tesseract-holder/<name>:<hash of the URN>`: this resource's own tag on the image, so that
   * another stack building the same image keeps it on destroy (build/holders.ts). Removed on delete.
   */
  holderTag?: string;
  srcDir: string;
  docker?: TesseractImageInputs["docker"];
  /** Where the image was pushed (without the password). */
  push?: RecordedPush;
}
