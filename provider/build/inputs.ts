import type { z } from "zod";
import { type TesseractImageOutputFields, tesseractImageSchema } from "../resources/definitions/tesseract-image";
import type { RecordedPush } from "./push";

/** The inputs of a TesseractImage (and the options of `buildTesseractImage`), defined in its definition. */
export { tesseractImageSchema };

/** Plain inputs of a TesseractImage, as the provider sees them (inferred from the schema). */
export type TesseractImageInputs = z.output<typeof tesseractImageSchema>;

/**
 * Options of tesseract-core's build that need BuildKit (SSH agent forwarding, build secrets),
 * which builds through the Engine API's classic builder do not have: refused by name, saying why,
 * instead of as unknown keys.
 */
const BUILDKIT_ONLY: Record<string, string> = {
  injectSsh: "inject_ssh",
  forwardSshAgent: "--forward-ssh-agent",
  secrets: "--secret",
};

/** One problem per BuildKit-only option present in `inputs` (property and reason). */
export function buildKitOnlyProblems(inputs: object): { property: string; reason: string }[] {
  return Object.keys(BUILDKIT_ONLY)
    .filter((k) => k in inputs)
    .map((k) => ({
      property: k,
      reason:
        `${k}: tesseract-core's ${BUILDKIT_ONLY[k]} needs BuildKit (SSH mounts and build secrets), which this ` +
        "package's builds through the Docker Engine API do not use (fix: remove it; put private package " +
        "credentials into pipIndexUrl / pipExtraIndexUrls, kept secret with pulumi.secret)",
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
