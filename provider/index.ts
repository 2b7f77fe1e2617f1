/**
 * pulumi-tesseract: Pulumi resources for Tesseracts (build and serve) and Fractal task groups,
 * and functions that call served Tesseracts.
 */

export {
  type BuildTesseractImageOptions,
  type BuiltTesseractImage,
  buildTesseractImage,
  type GeneratedTesseractContext,
  TesseractBuildError,
} from "./build";
export { HOST_CA_DIR, hostCaCertificates } from "./build-context/host-ca";
export * from "./client";
export * from "./common/errors";
export { DockerApiError, DockerBuildError, DockerUnreachableError } from "./docker/errors";
export { FractalHttpError } from "./fractal/client";
export { FractalActivityError } from "./fractal/errors";
export * from "./functions";
export * from "./listing/list-tesseracts";
export { TaskGroup, type TaskGroupArgs, type TaskGroupTask } from "./resources/task-group";
export { TesseractImage, type TesseractImageArgs } from "./resources/tesseract-image";
export {
  TesseractService,
  type TesseractServiceArgs,
  type TesseractServiceContainer,
} from "./resources/tesseract-service";
export * from "./run/run-tesseract";
export { TesseractSourceError } from "./tesseract-config";
export * from "./test-cases/run-tesseract-tests";
