export * from "./args";
export { DockerServeTarget, type DockerServeTargetOptions } from "./docker-target";
export { ensureNetwork, networkOwner, removeOwnNetwork } from "./network";
export { type ReplicaContext, removeOrphans, startAll, statusOf } from "./replicas";
export { serveTargetFor } from "./select";
export { serviceLabels } from "./spec";
export type { ContainerRecord, ServedSet, ServeTarget, ServiceOutputs } from "./target";
