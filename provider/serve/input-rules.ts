/**
 * Rules of TesseractService inputs that its definition (definitions/tesseract-service.ts) and the
 * checks beyond the schema (args.ts) share: image references, the provider's own label keys, the
 * restart policies.
 */
import { z } from "zod";
import { LABELS } from "../common/labels";
import { ARCHIVE_REF, SIF_PATH } from "./slurm/job-script";

/** Label keys the provider sets itself; user labels may not override them. */
export const RESERVED_LABELS: string[] = [
  LABELS.managed,
  LABELS.service,
  LABELS.serviceId,
  LABELS.stack,
  LABELS.project,
  LABELS.replica,
  LABELS.image,
];

const NAME_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REF = new RegExp(
  `^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9-]+)*(?::\\d+)?|localhost(?::\\d+)?)/)?` +
    `${NAME_COMPONENT}(?:/${NAME_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);
const IMAGE_ID = /^(sha256:)?[a-f0-9]{12,64}$/;

/** True for a Docker image reference (`name[:tag][@digest]`) or an image ID (`sha256:...`). */
export function isImageRef(value: string): boolean {
  return IMAGE_ID.test(value) || IMAGE_REF.test(value);
}

/**
 * True for an image only Slurm serves, from the cluster's shared file system (job-script.ts
 * `containerImageRef` says which mode takes which): a `docker save` archive for podman
 * (`docker-archive:/path.tar`), a `.sif` for apptainer (`/path/image.sif`). No engine target can
 * serve them.
 */
export function isClusterFileImage(value: string): boolean {
  return ARCHIVE_REF.test(value) || SIF_PATH.test(value);
}

/** An image input: a Docker reference, an image ID, or a file only Slurm serves. */
export const imageRef = z
  .string()
  .min(1, "must not be empty")
  .refine((v) => isImageRef(v) || isClusterFileImage(v), {
    message:
      "is not a valid Docker image reference (fix: lowercase `name[:tag]`, e.g. `helloworld:latest`, or an image ID `sha256:...`)",
  });

/** Docker restart policies. */
export const RESTART = /^(no|always|unless-stopped|on-failure(?::\d+)?)$/;
