// The TesseractService serve target for `kubernetes`: state shape, diff rules (a changed pod
// template rolls in place; another cluster or namespace replaces) and the calls into the cluster.
// Chosen by `serveTargetFor` (../select.ts), which loads this module only for such services.
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { Assert } from "../../common/inputs";
import { Progress } from "../../common/log";
import { toPlainJson } from "../../common/plain";
import { UNKNOWN } from "../../common/unknown";
import type { ServiceInputs } from "../args";
import type { ServeTarget, ServiceOutputKey } from "../serve-target";
import {
  createKubernetesService,
  drifted,
  type KubernetesServed,
  readKubernetesService,
  removeKubernetesService,
  schedulingDriftOf,
  updateKubernetesService,
} from "./deployment";
import { isKubeconfigContent, type KubernetesTarget } from "./inputs";
import type { KubernetesServiceInputs } from "./manifests";

/** State of a Kubernetes-served TesseractService. */
export interface KubernetesServiceOutputs extends KubernetesServiceInputs {
  serviceId: string;
  /** The API server the objects live on. */
  engine: string;
  /** In-cluster URL of the Service (`http://<service>.<namespace>.svc.cluster.local:<port>`). */
  url: string;
  urls: string[];
  namespace: string;
  deployment: string;
  service: string;
  /** What was created and last seen (drift). */
  served: KubernetesServed;
  /** Docker-target outputs, empty here (kept so both targets have one shape). */
  containers: [];
  containerIds: string[];
  containerNames: string[];
  hostPorts: number[];
  debugPorts: number[];
  imageIds: string[];
  networkCreated: boolean;
}

/** Compile-time check: the Kubernetes target's outputs are keys of the one list (serve-target.ts). */
export type KubernetesOutputsInList = Assert<
  Exclude<keyof Omit<KubernetesServiceOutputs, keyof KubernetesServiceInputs>, ServiceOutputKey> extends never
    ? true
    : false
>;

function secretsOf(inputs: KubernetesServiceInputs): (string | undefined)[] {
  const k = inputs.kubernetes;
  return [k.imagePullSecret?.password, k.kubeconfig && isKubeconfigContent(k.kubeconfig) ? k.kubeconfig : undefined];
}

function progressFor(inputs: KubernetesServiceInputs): Progress {
  return new Progress(`TesseractService ${inputs.serviceName}`, secretsOf(inputs));
}

function outputsOf(inputs: KubernetesServiceInputs, served: KubernetesServed): KubernetesServiceOutputs {
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
    containers: [],
    containerIds: [],
    containerNames: [],
    hostPorts: [],
    debugPorts: [],
    imageIds: [],
    networkCreated: false,
  }) as KubernetesServiceOutputs;
}

async function create(inputs: KubernetesServiceInputs): Promise<{ id: string; outs: KubernetesServiceOutputs }> {
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

async function diff(olds: object, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
  const o = olds as KubernetesServiceOutputs;
  const n = news as unknown as KubernetesServiceInputs;
  // Moving between a Docker engine and a cluster, or between clusters/namespaces: new objects.
  if (!o.kubernetes || !n.kubernetes || JSON.stringify(n.kubernetes).includes(UNKNOWN)) {
    return { changes: true, replaces: ["kubernetes"], deleteBeforeReplace: false };
  }
  const replaces: string[] = [];
  if (!isDeepStrictEqual(location(o.kubernetes), location(n.kubernetes))) replaces.push("kubernetes");
  if (o.serviceName !== n.serviceName) replaces.push("serviceName");
  let changes = replaces.length > 0;
  for (const key of Object.keys({ ...n, ...pick(o) })) {
    const a = toPlainJson((o as unknown as Record<string, unknown>)[key] ?? null);
    const b = toPlainJson((news as Record<string, unknown>)[key] ?? null);
    if (!isDeepStrictEqual(a, b)) changes = true;
  }
  // Drift seen by `read` (deleted, scaled or re-imaged by hand): update re-applies the objects.
  if (o.served && drifted(o.served, n)) changes = true;
  return { changes, replaces, deleteBeforeReplace: false };
}

/** The input keys of a state (its outputs left out). */
function pick(o: KubernetesServiceOutputs): Record<string, unknown> {
  const {
    serviceId: _a,
    engine: _b,
    url: _c,
    urls: _d,
    namespace: _e,
    deployment: _f,
    service: _g,
    served: _h,
    containers: _i,
    containerIds: _j,
    containerNames: _k,
    hostPorts: _l,
    debugPorts: _m,
    imageIds: _n,
    networkCreated: _o,
    ...inputs
  } = o;
  return inputs;
}

async function read(_id: string, state: object): Promise<KubernetesServiceOutputs> {
  const props = state as KubernetesServiceOutputs;
  const served = await readKubernetesService(props.kubernetes, props.served);
  // Named in state so that `pulumi refresh` shows which settings were changed by hand.
  const drift = schedulingDriftOf(served, props);
  if (drift.length) served.observed.drift = drift;
  return toPlainJson({ ...props, served });
}

async function update(_id: string, state: object, inputs: KubernetesServiceInputs): Promise<KubernetesServiceOutputs> {
  const olds = state as KubernetesServiceOutputs;
  const previous = pick(olds) as unknown as KubernetesServiceInputs;
  const served = await updateKubernetesService(olds.served, inputs, previous, progressFor(inputs));
  return outputsOf(inputs, served);
}

async function remove(_id: string, state: object): Promise<void> {
  const props = state as KubernetesServiceOutputs;
  await removeKubernetesService(props.kubernetes, props.served, progressFor(props));
}

/** The Kubernetes serve target (inputs reach it validated, with `kubernetes` set). */
export const kubernetesServeTarget: ServeTarget = {
  diff,
  create: (inputs: ServiceInputs) => create(inputs as KubernetesServiceInputs),
  read,
  update: (id: string, olds: object, inputs: ServiceInputs) => update(id, olds, inputs as KubernetesServiceInputs),
  remove,
};
