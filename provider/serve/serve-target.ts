import type * as pulumi from "@pulumi/pulumi";
import type { Assert, SameKeys } from "../common/inputs";
import type { ServiceInputs } from "./args";
import type { ContainerServiceInputs, ContainerServiceState } from "./container-state";
import type { KubernetesServiceInputs } from "./kubernetes/manifests";
import type { KubernetesServiceState, StoredKubernetesState } from "./kubernetes/state";
import type { SlurmServiceInputs } from "./slurm/service-inputs";
import type { SlurmServiceState } from "./slurm/state";

/**
 * Where a TesseractService runs: the seam the service lifecycle
 * (`resources/tesseract-service-impl.ts`) calls for everything after input validation. Each
 * target has its own inputs and state types and its diff rules: `ContainerServeTarget` (replicas on
 * Docker engines, replaced when what they run changes), `kubernetesServeTarget` (a Deployment
 * and a Service, rolled in place) and `slurmServeTarget` (one Slurm job per replica, resubmitted
 * in place when it ended). The lifecycle hands each target only the states it made
 * (`select.ts`: the stored state says which target made it); a move between targets replaces
 * before any target sees the other's state. A new platform adds its state to {@link ServiceState}
 * and its branch in `select.ts`. States are plain JSON objects.
 */
export interface ServeTarget<Inputs extends ServiceInputs, State extends Inputs> {
  /**
   * Diff of the stored state against new inputs: what changes, what replaces. `news` are the
   * inputs `check` returned, for this target, and may hold preview unknowns.
   */
  diff(olds: State, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  /** Serves a new set and returns its ID and state; on failure nothing is left behind. */
  create(inputs: Inputs): Promise<{ id: string; outs: State }>;
  /** Refresh: the state as the platform now sees it (drift shows in the next diff). */
  read(id: string, state: State): Promise<State>;
  /** Applies new inputs in place (scaling, healing, rolling updates). */
  update(id: string, olds: State, inputs: Inputs): Promise<State>;
  /** Removes everything the set created. */
  remove(id: string, state: State): Promise<void>;
}

/** Inputs of any target: `kubernetes`, `slurm` or neither set. */
export type TargetInputs = ContainerServiceInputs | KubernetesServiceInputs | SlurmServiceInputs;
/** State of a TesseractService as a target writes it: `kubernetes` or `slurm` (inputs kept in state) say which target. */
export type ServiceState = ContainerServiceState | KubernetesServiceState | SlurmServiceState;
/** State of a TesseractService as stored, older Kubernetes states included: what the lifecycle reads. */
export type StoredServiceState = ContainerServiceState | StoredKubernetesState | SlurmServiceState;

// ---- output keys ------------------------------------------------------------------------------

/** Keys both targets add to their inputs. */
const SHARED_OUTPUT_KEYS = ["serviceId", "engine", "url", "urls"] as const;

/** Keys the container target adds to its inputs (its state minus the inputs). */
export const CONTAINER_OUTPUT_KEYS = [
  ...SHARED_OUTPUT_KEYS,
  "containers",
  "containerIds",
  "containerNames",
  "hostPorts",
  "debugPorts",
  "imageIds",
  "networkCreated",
  "outputDirCreated",
] as const;
/** Keys the Kubernetes target adds to its inputs (its state minus the inputs). */
export const KUBERNETES_OUTPUT_KEYS = [...SHARED_OUTPUT_KEYS, "namespace", "deployment", "service", "served"] as const;

/** Keys the Slurm target adds to its inputs (its state minus the inputs). */
export const SLURM_OUTPUT_KEYS = [...SHARED_OUTPUT_KEYS, "jobIds", "jobs", "slurmServed"] as const;

/** A key of {@link CONTAINER_OUTPUT_KEYS}. */
export type ContainerOutputKey = (typeof CONTAINER_OUTPUT_KEYS)[number];
/** A key of {@link KUBERNETES_OUTPUT_KEYS}. */
export type KubernetesOutputKey = (typeof KUBERNETES_OUTPUT_KEYS)[number];
/** A key of {@link SLURM_OUTPUT_KEYS}. */
export type SlurmOutputKey = (typeof SLURM_OUTPUT_KEYS)[number];
/** A key of {@link SERVICE_OUTPUT_KEYS}: an output of any target. */
export type ServiceOutputKey = ContainerOutputKey | KubernetesOutputKey | SlurmOutputKey;

/**
 * Every key a TesseractService's state adds to its inputs, on either target: the union of the
 * two lists, from which the resource's output placeholders and the keys dropped when state is read
 * back as inputs derive. Compile-time checks below keep each list equal to its target's state, and
 * the resource's fields (resources/tesseract-service.ts) to the union.
 */
export const SERVICE_OUTPUT_KEYS: readonly ServiceOutputKey[] = [
  ...new Set<ServiceOutputKey>([...CONTAINER_OUTPUT_KEYS, ...KUBERNETES_OUTPUT_KEYS, ...SLURM_OUTPUT_KEYS]),
];

/** Outputs kept in state for the provider's own use, not exposed as fields of the resource. */
export const INTERNAL_SERVICE_OUTPUTS = [
  "outputDirCreated",
  "served",
  "slurmServed",
] as const satisfies readonly ServiceOutputKey[];

/** Compile-time check: the container target's state is its inputs plus exactly its list's keys. */
export type ContainerOutputsMatchList = Assert<
  SameKeys<Omit<ContainerServiceState, keyof ContainerServiceInputs>, Record<ContainerOutputKey, unknown>>
>;
/** Compile-time check: the Kubernetes target's state is its inputs plus exactly its list's keys. */
export type KubernetesOutputsMatchList = Assert<
  SameKeys<Omit<KubernetesServiceState, keyof KubernetesServiceInputs>, Record<KubernetesOutputKey, unknown>>
>;
/** Compile-time check: the Slurm target's state is its inputs plus exactly its list's keys. */
export type SlurmOutputsMatchList = Assert<
  SameKeys<Omit<SlurmServiceState, keyof SlurmServiceInputs>, Record<SlurmOutputKey, unknown>>
>;
/** Compile-time check: no output key is also an input (read-back drops every key of the union). */
export type OutputKeysAreNotInputs = Assert<
  Extract<ServiceOutputKey, keyof ServiceInputs> extends never ? true : false
>;
