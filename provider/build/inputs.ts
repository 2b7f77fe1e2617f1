import { z } from "zod";
import { dockerConnectionSchema } from "../docker/connection";
import type { TesseractImageOutputFields } from "../resources/definitions/tesseract-image";
import { type RecordedPush, registryPushSchema } from "./push";

const RUNTIME_VERSION = /^\d+\.\d+\.\d+([a-z]+\d+|\.post\d+|\.dev\d+)*$/;

/** The inputs of a TesseractImage (and the options of `buildTesseractImage`): the one source of their shape. */
export const tesseractImageSchema = z.strictObject({
  srcDir: z.string().min(1, "must be the folder holding tesseract_api.py and tesseract_config.yaml"),
  tag: z.string().optional(),
  configOverride: z.record(z.string(), z.unknown()).optional(),
  noCache: z.boolean().optional(),
  // Optional (not a zod default), so library callers may leave it out; absent means true.
  keepBuildCache: z
    .boolean({ error: "must be true (keep the build stage image as the dependency cache) or false (remove it)" })
    .optional(),
  // Keys checked by a refine: zod 4 replaces a record key schema's message with "Invalid key in record".
  buildArgs: z
    .record(z.string(), z.string())
    .refine((r) => Object.keys(r).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)), {
      message:
        "build arg names must be identifiers (fix: e.g. PIP_TIMEOUT; letters, digits and _, not starting with a digit)",
    })
    .optional(),
  runtimeVersion: z.string().regex(RUNTIME_VERSION, "must be a tesseract-core release such as 1.15.0").optional(),
  pipIndexUrl: z.url({ error: "must be a URL such as https://pypi.org/simple" }).optional(),
  pipExtraIndexUrls: z.array(z.url({ error: "must be a URL" })).optional(),
  installer: z.enum(["pip", "uv"], { error: 'must be "pip" or "uv"' }).optional(),
  followLinksOutside: z
    .boolean({ error: "must be true (copy what links leaving srcDir point to) or false (refuse such links)" })
    .optional(),
  caCertificates: z
    .string()
    .includes("-----BEGIN CERTIFICATE-----", { message: "must be PEM text (-----BEGIN CERTIFICATE-----...)" })
    .optional(),
  buildNetwork: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, "must be a Docker network mode such as host, bridge or none")
    .optional(),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "must look like linux/amd64 or linux/arm64/v8")
    .optional(),
  labels: z.record(z.string().min(1), z.string()).optional(),
  contextDir: z.string().min(1).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .optional(),
  docker: dockerConnectionSchema.optional(),
  push: registryPushSchema.optional(),
  injectSsh: z
    .boolean({ error: "must be true (forward the SSH agent of SSH_AUTH_SOCK into the install step) or false" })
    .optional(),
  builder: z
    .enum(["auto", "buildkit", "classic"], {
      error:
        'must be "auto" (BuildKit only when the build needs it), "buildkit" or "classic" (the Engine API\'s classic builder)',
    })
    .optional(),
  // Keys checked by a refine (see buildArgs); values are secrets: no rule here may echo one.
  secrets: z
    .record(z.string(), z.string({ error: "must be a string (the secret's value)" }))
    .refine((r) => Object.keys(r).every((k) => SECRET_ID.test(k)), {
      message:
        "secret ids must be letters, digits, _, . and - (fix: e.g. pypi_token; the id names the secret in build_config.host_credentials[].secret_id and RUN --mount=type=secret,id=…)",
    })
    .optional(),
});

/** A build secret's id: what `RUN --mount=type=secret,id=…` and the session's GetSecret carry. */
export const SECRET_ID = /^[A-Za-z0-9_.-]{1,128}$/;

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
