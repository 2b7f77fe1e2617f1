// Which serve target a service's state or inputs belong to, and the one place where the union of
// the targets' types is split: the lifecycle calls each target with its own inputs and state.
import { UserError } from "../common/errors";
import type { ServiceInputs } from "./args";
import type { ContainerServiceInputs, ContainerServiceState } from "./container-state";
import { ContainerServeTarget } from "./container-target";
import type { KubernetesServiceInputs } from "./kubernetes/manifests";
import type { StoredKubernetesState } from "./kubernetes/state";
import type { ServeTarget, StoredServiceState, TargetInputs } from "./serve-target";
import type { SlurmServiceInputs } from "./slurm/service-inputs";
import type { SlurmServiceState } from "./slurm/state";

const containers = new ContainerServeTarget();

/** The container target (services on Docker engines). */
export function containerServeTarget(): ServeTarget<ContainerServiceInputs, ContainerServiceState> {
  return containers;
}

/**
 * The Kubernetes target (`kubernetesServeTarget`), loaded here on first use so that services on
 * Docker engines never load the Kubernetes client.
 */
export function loadKubernetesServeTarget(): ServeTarget<KubernetesServiceInputs, StoredKubernetesState> {
  const k8s: typeof import("./kubernetes/kubernetes-target") = require("./kubernetes/kubernetes-target");
  return k8s.kubernetesServeTarget;
}

/**
 * The Slurm target (`slurmServeTarget`), loaded here on first use so that other services never
 * load the ssh code.
 */
export function loadSlurmServeTarget(): ServeTarget<SlurmServiceInputs, SlurmServiceState> {
  const slurm: typeof import("./slurm/slurm-target") = require("./slurm/slurm-target");
  return slurm.slurmServeTarget;
}

/** True for a state the Kubernetes target made: `kubernetes` is an input the targets keep in state. */
export function isKubernetesState(state: StoredServiceState): state is StoredKubernetesState {
  return state.kubernetes !== undefined;
}

/** True for a state the Slurm target made: `slurm` is an input the targets keep in state. */
export function isSlurmState(state: StoredServiceState): state is SlurmServiceState {
  return state.slurm !== undefined;
}

/** Which target made a state: `container`, `kubernetes` or `slurm`. */
export function stateTargetKind(state: StoredServiceState): TargetKind {
  return isSlurmState(state) ? "slurm" : isKubernetesState(state) ? "kubernetes" : "container";
}

/** A serve target's name, as the input that chooses it (`container`: neither). */
export type TargetKind = "container" | "kubernetes" | "slurm";

/** Validated inputs typed by their target: `kubernetes`, `slurm` or neither set (check refuses both). */
export function targetInputs(inputs: ServiceInputs): TargetInputs {
  const { kubernetes, slurm, ...rest } = inputs;
  if (slurm) return { ...rest, slurm };
  return kubernetes ? { ...rest, kubernetes } : rest;
}

/** True when new (raw) inputs choose the Kubernetes target; a preview unknown `kubernetes` counts. */
export function choosesKubernetes(news: Record<string, unknown>): boolean {
  return Boolean(news.kubernetes);
}

/** The target new (raw) inputs choose; a preview unknown `slurm` or `kubernetes` counts as set. */
export function inputsTargetKind(news: Record<string, unknown>): TargetKind {
  return news.slurm ? "slurm" : choosesKubernetes(news) ? "kubernetes" : "container";
}

/** Calls `run` with the target that made `state`, the state typed as that target's. */
export function withStateTarget<R>(
  state: StoredServiceState,
  run: <I extends TargetInputs, S extends I & StoredServiceState>(target: ServeTarget<I, S>, state: S) => R,
): R {
  if (isSlurmState(state)) return run(loadSlurmServeTarget(), state);
  return isKubernetesState(state) ? run(loadKubernetesServeTarget(), state) : run(containerServeTarget(), state);
}

/** Calls `run` with the target new inputs choose, the inputs typed as that target's. */
export function withInputsTarget<R>(
  inputs: ServiceInputs,
  run: <I extends TargetInputs, S extends I & StoredServiceState>(target: ServeTarget<I, S>, inputs: I) => R,
): R {
  const typed = targetInputs(inputs);
  if (typed.slurm) return run(loadSlurmServeTarget(), typed);
  return typed.kubernetes ? run(loadKubernetesServeTarget(), typed) : run(containerServeTarget(), typed);
}

/**
 * Calls `run` with the target of both a stored state and new inputs (an update). Moving between
 * targets is a replacement (the lifecycle's diff says so), so an update never gets here with two.
 */
export function withSameTarget<R>(
  state: StoredServiceState,
  inputs: ServiceInputs,
  run: <I extends TargetInputs, S extends I & StoredServiceState>(target: ServeTarget<I, S>, state: S, inputs: I) => R,
): R {
  const typed = targetInputs(inputs);
  if (isSlurmState(state) && typed.slurm) return run(loadSlurmServeTarget(), state, typed);
  if (isSlurmState(state) || typed.slurm)
    throw new UserError(
      "slurm: a TesseractService cannot be updated in place between Slurm and another target; " +
        "its diff replaces it instead (fix: run `pulumi up` again, after `pulumi refresh` if the state is out of date)",
      { property: "slurm" },
    );
  if (isKubernetesState(state) && typed.kubernetes) return run(loadKubernetesServeTarget(), state, typed);
  if (!isKubernetesState(state) && !typed.kubernetes) return run(containerServeTarget(), state, typed);
  throw new UserError(
    "kubernetes: a TesseractService cannot be updated in place from a Docker engine to a cluster or back; " +
      "its diff replaces it instead (fix: run `pulumi up` again, after `pulumi refresh` if the state is out of date)",
    { property: "kubernetes" },
  );
}
