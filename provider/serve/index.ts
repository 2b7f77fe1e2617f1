export * from "./args";
export { ContainerServeTarget, REPLACE_ON_CHANGES, UPDATE_IN_PLACE } from "./container-target";
export { DockerPlatform, type DockerPlatformOptions } from "./docker-platform";
export { ensureNetwork, networkOwner, removeOwnNetwork } from "./network";
export { type ReplicaContext, removeOrphans, startAll, statusOf } from "./replicas";
export { serveTargetFor } from "./select";
export type {
  ContainerPlatform,
  ContainerRecord,
  ServedSet,
  ServeTarget,
  ServiceOutputKey,
  ServiceOutputs,
} from "./serve-target";
export { INTERNAL_SERVICE_OUTPUTS, SERVICE_OUTPUT_KEYS } from "./serve-target";
export { serviceLabels } from "./spec";
