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
export { type PushResult, pushImage, type RegistryPush } from "./build/push";
export { HOST_CA_DIR, hostCaCertificates } from "./build-context/host-ca";
export * from "./client";
export * from "./common/errors";
export {
  DockerApiError,
  DockerBuildError,
  DockerPullError,
  DockerPushError,
  DockerUnreachableError,
} from "./docker/errors";
export { FractalHttpError, FractalLoginError } from "./fractal/client";
export { FractalActivityError } from "./fractal/errors";
export * from "./functions";
export * from "./listing/list-tesseracts";
export * from "./listing/service-logs";
export { TaskGroup, type TaskGroupArgs, type TaskGroupTask } from "./resources/task-group";
export { type RegistryPushInput, TesseractImage, type TesseractImageArgs } from "./resources/tesseract-image";
export {
  type KubernetesAutoscalingInput,
  type KubernetesDisruptionBudgetInput,
  type KubernetesRequestsInput,
  type KubernetesTargetInput,
  type KubernetesTolerationInput,
  type RegistryAuthInput,
  type SlurmLoginInput,
  type SlurmTargetInput,
  TesseractService,
  type TesseractServiceArgs,
  type TesseractServiceContainer,
} from "./resources/tesseract-service";
export * from "./run/run-tesseract";
// Types only: the Kubernetes client loads when a service targets a cluster, not with the package.
export type { KubernetesEndpoint, ServiceForward } from "./serve/kubernetes/forward";
export type { KubernetesTarget } from "./serve/kubernetes/inputs";
export { ImagePullError } from "./serve/pull";
export type { SlurmInputs, SlurmTarget } from "./serve/slurm/inputs";
export type { SlurmJobRecord } from "./serve/slurm/state";
export type { SlurmEndpoint } from "./serve/slurm/tunnel";
export { TesseractSourceError } from "./tesseract-config";
export * from "./test-cases/run-tesseract-tests";
