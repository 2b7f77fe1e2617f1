/**
 * The secret fields of each resource (and of `runTesseract`), as dotted paths: one list per
 * resource, used by the resource class (its top-level keys are wrapped in `pulumi.secret` and
 * declared `additionalSecretOutputs`), by `check` and the errors (never echoed, scrubbed from
 * text; see common/secrets.ts) and by the plugin schema (`secret: true` on those top-level keys).
 * Values the program marks secret with `pulumi.secret` are treated as secret on top of these.
 * Kept free of zod and Pulumi so that the resource classes load it cheaply.
 */

/** TaskGroup's secret fields: written in its definition. */
export { TASK_GROUP_SECRETS } from "../resources/definitions/task-group";
/** TesseractImage's secret fields: written in its definition. */
export { TESSERACT_IMAGE_SECRETS } from "../resources/definitions/tesseract-image";
/** TesseractService's secret fields: written in its definition. */
export { TESSERACT_SERVICE_SECRETS } from "../resources/definitions/tesseract-service";

/** `runTesseract`: the container's environment values (tokens) and the engine's TLS key. */
export const RUN_TESSERACT_SECRETS = ["environment", "docker.keyPem"] as const;
