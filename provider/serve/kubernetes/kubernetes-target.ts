// The TesseractService serve target for `kubernetes`: diff rules (a changed pod template rolls in
// place; another cluster or namespace replaces), outputs, and the calls into the cluster. Its
// state's shape is in state.ts. Loaded by ../select.ts only for such services, and only ever given
// their states (a move from or to a Docker engine replaces before).
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { Progress } from "../../common/log";
import { toPlainJson } from "../../common/plain";
import { UNKNOWN } from "../../common/unknown";
import type { ServeTarget } from "../serve-target";
import {
  createKubernetesService,
  drifted,
  readKubernetesService,
  removeKubernetesService,
  schedulingDriftOf,
  updateKubernetesService,
} from "./deployment";
import { isKubeconfigContent, type KubernetesTarget } from "./inputs";
import type { KubernetesServiceInputs } from "./manifests";
import type { KubernetesServed, KubernetesServiceState, StoredKubernetesState } from "./state";

export type { KubernetesServiceState } from "./state";

function secretsOf(inputs: KubernetesServiceInputs): (string | undefined)[] {
  const k = inputs.kubernetes;
  return [k.imagePullSecret?.password, k.kubeconfig && isKubeconfigContent(k.kubeconfig) ? k.kubeconfig : undefined];
}

function progressFor(inputs: KubernetesServiceInputs): Progress {
  return new Progress(`TesseractService ${inputs.serviceName}`, secretsOf(inputs));
}

function outputsOf(inputs: KubernetesServiceInputs, served: KubernetesServed): KubernetesServiceState {
  return toPlainJson({
    ...inputs,
    serviceId: served.serviceId,
    engine: served.server,
    url: served.clusterUrl,
    urls: [served.clusterUrl],
    namespace: served.namespace,
    deployment: served.deployment,
    service: served.service,
    served,
  });
}

/**
 * The inputs a state was made from: its outputs left out, with the container target's empty
 * outputs that states written before typed targets carry.
 */
export function inputsOfState(state: StoredKubernetesState): KubernetesServiceInputs {
  const {
    serviceId: _serviceId,
    engine: _engine,
    url: _url,
    urls: _urls,
    namespace: _namespace,
    deployment: _deployment,
    service: _service,
    served: _served,
    // Older states only (see StoredKubernetesState).
    containers: _containers,
    containerIds: _containerIds,
    containerNames: _containerNames,
    hostPorts: _hostPorts,
    debugPorts: _debugPorts,
    imageIds: _imageIds,
    networkCreated: _networkCreated,
    outputDirCreated: _outputDirCreated,
    ...inputs
  } = state;
  return inputs;
}

async function create(inputs: KubernetesServiceInputs): Promise<{ id: string; outs: KubernetesServiceState }> {
  const served = await createKubernetesService(inputs, progressFor(inputs));
  return { id: served.serviceId, outs: outputsOf(inputs, served) };
}

/**
 * Inputs whose every change replaces a Kubernetes-served service. `kubernetes` replaces only when
 * the location (cluster, context, namespace) changes, so it is not listed; everything else,
 * `image` included, rolls in place.
 */
export const KUBERNETES_REPLACE_ON_CHANGES = ["serviceName"] as const;

/** Where the objects live: changing any of these makes new objects (and removes the old ones). */
function location(k: KubernetesTarget | undefined): unknown[] {
  return [k?.namespace ?? null, k?.context ?? null, k?.kubeconfig ?? null];
}

/**
 * True when new inputs name a known location: `kubernetes` an object with no preview unknown in
 * it. The rest are the inputs `check` returned (validated where known); other unknowns only make
 * the comparisons below see a change, and the drift checks tolerate them.
 */
function knowsLocation(news: Record<string, unknown>): news is Record<string, unknown> & KubernetesServiceInputs {
  const k = news.kubernetes;
  return typeof k === "object" && k !== null && !JSON.stringify(k).includes(UNKNOWN);
}

async function diff(olds: StoredKubernetesState, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
  // Unknown until `up` (another cluster or namespace, maybe): new objects.
  if (!knowsLocation(news)) return { changes: true, replaces: ["kubernetes"], deleteBeforeReplace: false };
  const replaces: string[] = [];
  if (!isDeepStrictEqual(location(olds.kubernetes), location(news.kubernetes))) replaces.push("kubernetes");
  if (olds.serviceName !== news.serviceName) replaces.push("serviceName");
  let changes = replaces.length > 0;
  const previous: Record<string, unknown> = { ...inputsOfState(olds) };
  // Under an autoscaler before and after, `replicas` is the initial count only: a new one changes nothing.
  const autoscaled = Boolean(olds.kubernetes?.autoscaling && news.kubernetes.autoscaling);
  for (const key of Object.keys({ ...news, ...previous })) {
    if (autoscaled && key === "replicas") continue;
    if (!isDeepStrictEqual(toPlainJson(previous[key] ?? null), toPlainJson(news[key] ?? null))) changes = true;
  }
  // Drift seen by `read` (deleted, scaled or re-imaged by hand): update re-applies the objects.
  if (olds.served && drifted(olds.served, news)) changes = true;
  return { changes, replaces, deleteBeforeReplace: false };
}

/** Refresh: the objects as the cluster has them now (older states come back without the empties). */
async function read(_id: string, state: StoredKubernetesState): Promise<KubernetesServiceState> {
  const inputs = inputsOfState(state);
  const served = await readKubernetesService(inputs.kubernetes, state.served);
  // Named in state so that `pulumi refresh` shows which settings were changed by hand.
  const drift = schedulingDriftOf(served, inputs);
  if (drift.length) served.observed.drift = drift;
  return outputsOf(inputs, served);
}

async function update(
  _id: string,
  olds: StoredKubernetesState,
  inputs: KubernetesServiceInputs,
): Promise<KubernetesServiceState> {
  const served = await updateKubernetesService(olds.served, inputs, inputsOfState(olds), progressFor(inputs));
  return outputsOf(inputs, served);
}

async function remove(_id: string, state: StoredKubernetesState): Promise<void> {
  await removeKubernetesService(state.kubernetes, state.served, progressFor(state));
}

/**
 * The Kubernetes serve target (inputs reach it validated, with `kubernetes` set). It takes states
 * in their stored form, older ones included (see StoredKubernetesState).
 */
export const kubernetesServeTarget: ServeTarget<KubernetesServiceInputs, StoredKubernetesState> = {
  diff,
  create,
  read,
  update,
  remove,
};
