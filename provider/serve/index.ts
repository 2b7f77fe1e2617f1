export * from "./args";
export type { ContainerRecord, ContainerServiceInputs, ContainerServiceState, ServedSet } from "./container-state";
export {
  type ContainerPlatform,
  ContainerServeTarget,
  REPLACE_ON_CHANGES,
  UPDATE_IN_PLACE,
} from "./container-target";
export { DockerPlatform, type DockerPlatformOptions } from "./docker-platform";
export { ensureNetwork, networkOwner, removeOwnNetwork } from "./network";
export { type ReplicaContext, removeOrphans, startAll, statusOf } from "./replicas";
export {
  choosesKubernetes,
  containerServeTarget,
  inputsTargetKind,
  isKubernetesState,
  isSlurmState,
  loadKubernetesServeTarget,
  loadSlurmServeTarget,
  stateTargetKind,
  type TargetKind,
  targetInputs,
  withInputsTarget,
  withSameTarget,
  withStateTarget,
} from "./select";
export type {
  ContainerOutputKey,
  KubernetesOutputKey,
  ServeTarget,
  ServiceOutputKey,
  ServiceState,
  SlurmOutputKey,
  StoredServiceState,
  TargetInputs,
} from "./serve-target";
export {
  CONTAINER_OUTPUT_KEYS,
  INTERNAL_SERVICE_OUTPUTS,
  KUBERNETES_OUTPUT_KEYS,
  SERVICE_OUTPUT_KEYS,
  SLURM_OUTPUT_KEYS,
} from "./serve-target";
export { serviceLabels } from "./spec";
