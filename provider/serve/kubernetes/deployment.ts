// Serving a Tesseract on Kubernetes: a Deployment and a Service (plus a pull Secret), created,
// rolled, refreshed and removed through the official client.
import { randomBytes } from "node:crypto";
import type * as k8s from "@kubernetes/client-node";
import { UserError } from "../../common/errors";
import type { Progress } from "../../common/log";
import { autoscalerName } from "./autoscaling";
import { initialReplicas } from "./autoscaling-inputs";
import {
  apiMessage,
  apisFor,
  call,
  checkNamespace,
  connect,
  type KubernetesApis,
  type KubernetesTarget,
  statusOf,
} from "./connection";
import { withContainerOptions } from "./container-options";
import {
  autoscaler,
  CONTAINER_NAME,
  clusterUrl,
  DEFAULT_ROLLOUT_TIMEOUT,
  deployment,
  disruptionBudget,
  dnsLabel,
  type KubernetesServiceInputs,
  pullSecret,
  pullSecretName,
  service,
  servicePort,
} from "./manifests";
import { describePods, servicePods, waitForRollout } from "./rollout";
import { budgetName, observeScheduling, type SchedulingObserved, schedulingDrift } from "./scheduling";
import type { KubernetesServed } from "./state";

export type { KubernetesServed } from "./state";

function imageOf(inputs: KubernetesServiceInputs): string {
  if (!inputs.image) throw new UserError("image: the Kubernetes target serves one image; give `image`");
  return inputs.image;
}

/** Read-and-replace rounds {@link applyObject} tries when controllers keep writing the object. */
const REPLACE_ATTEMPTS = 5;

function connection(target: KubernetesTarget): KubernetesApis {
  return apisFor(connect(target));
}

/**
 * Creates (or replaces) an object: `create`, and on 409 read its version and `replace`. A replace
 * refused with 409 ("the object has been modified") lost a race with a controller writing the
 * object meanwhile (the disruption controller updates a PodDisruptionBudget's status, the HPA
 * controller its autoscaler's): read and replace again, a bounded number of times.
 */
export async function applyObject<T extends { metadata?: k8s.V1ObjectMeta }>(
  apis: KubernetesApis,
  obj: T,
  ops: {
    create: () => Promise<unknown>;
    read: () => Promise<T>;
    replace: (body: T) => Promise<unknown>;
    merge?: (current: T, next: T) => T;
  },
): Promise<void> {
  try {
    await call(apis.conn, ops.create);
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
    for (let attempt = 1; ; attempt++) {
      const current = await call(apis.conn, ops.read);
      const next = ops.merge ? ops.merge(current, obj) : obj;
      next.metadata = { ...next.metadata, resourceVersion: current.metadata?.resourceVersion };
      try {
        await call(apis.conn, () => ops.replace(next));
        return;
      } catch (conflict) {
        if (statusOf(conflict) !== 409 || attempt >= REPLACE_ATTEMPTS) throw conflict;
      }
    }
  }
}

/** Writes the service's objects: pull Secret, Service, Deployment, budget, autoscaler (in that order). */
async function writeObjects(
  apis: KubernetesApis,
  inputs: KubernetesServiceInputs,
  serviceId: string,
  progress?: Progress,
): Promise<void> {
  const namespace = apis.conn.namespace;
  const secret = pullSecret(inputs, serviceId, namespace);
  if (secret) {
    await applyObject(apis, secret, {
      create: () => apis.core.createNamespacedSecret({ namespace, body: secret }),
      read: () => apis.core.readNamespacedSecret({ namespace, name: pullSecretName(serviceId) }),
      replace: (body) => apis.core.replaceNamespacedSecret({ namespace, name: pullSecretName(serviceId), body }),
    });
  } else {
    await deleteIgnoringMissing(apis, () =>
      apis.core.deleteNamespacedSecret({ namespace, name: pullSecretName(serviceId) }),
    );
  }
  const svc = service(inputs, serviceId, namespace);
  await applyObject(apis, svc, {
    create: () => apis.core.createNamespacedService({ namespace, body: svc }),
    read: () => apis.core.readNamespacedService({ namespace, name: serviceId }),
    replace: (body) => apis.core.replaceNamespacedService({ namespace, name: serviceId, body }),
    // The allocated cluster IPs and node ports are the Service's own; keep them.
    merge: (current, next) => ({
      ...next,
      spec: {
        ...next.spec,
        clusterIP: current.spec?.clusterIP,
        clusterIPs: current.spec?.clusterIPs,
        ports: next.spec?.ports?.map((p) => ({
          ...p,
          nodePort: current.spec?.ports?.find((c) => c.name === p.name)?.nodePort,
        })),
      },
    }),
  });
  const dep = withContainerOptions(deployment(inputs, serviceId, namespace, imageOf(inputs)), inputs);
  await applyObject(apis, dep, {
    create: () => apis.apps.createNamespacedDeployment({ namespace, body: dep }),
    read: () => apis.apps.readNamespacedDeployment({ namespace, name: serviceId }),
    replace: (body) => apis.apps.replaceNamespacedDeployment({ namespace, name: serviceId, body }),
    // Under an autoscaler the replica count is its own: a replacement keeps the one it set (a
    // replacement without one would reset it to 1).
    merge: inputs.kubernetes.autoscaling
      ? (current, next) => ({
          ...next,
          spec: { ...(next.spec as k8s.V1DeploymentSpec), replicas: current.spec?.replicas },
        })
      : undefined,
  });
  await writeBudget(apis, inputs, serviceId);
  await writeAutoscaler(apis, inputs, serviceId, progress);
}

/** Creates, replaces or (when `kubernetes.autoscaling` is gone) deletes the HorizontalPodAutoscaler. */
async function writeAutoscaler(
  apis: KubernetesApis,
  inputs: KubernetesServiceInputs,
  serviceId: string,
  progress?: Progress,
): Promise<void> {
  const namespace = apis.conn.namespace;
  const name = autoscalerName(serviceId);
  const hpa = autoscaler(inputs, serviceId, namespace);
  if (!hpa) {
    const removed = await deleteIgnoringMissing(apis, () =>
      apis.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace, name }),
    );
    if (removed) progress?.info(`removed HorizontalPodAutoscaler ${name}: ${inputs.replicas} fixed replica(s)`);
    return;
  }
  const a = inputs.kubernetes.autoscaling;
  const on = [
    a?.cpuUtilization !== undefined ? `cpu ${a.cpuUtilization}%` : "",
    ...(a?.metrics ?? []).map((m) => `${m.type} ${m.name}`),
  ].filter(Boolean);
  progress?.info(
    `HorizontalPodAutoscaler ${name}: ${hpa.spec?.minReplicas}–${hpa.spec?.maxReplicas} replicas on ${on.join(", ")}`,
  );
  await applyObject(apis, hpa, {
    create: () => apis.autoscaling.createNamespacedHorizontalPodAutoscaler({ namespace, body: hpa }),
    read: () => apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }),
    replace: (body) => apis.autoscaling.replaceNamespacedHorizontalPodAutoscaler({ namespace, name, body }),
  });
}

/** Creates, replaces or (when `kubernetes.podDisruptionBudget` is gone) deletes the PodDisruptionBudget. */
async function writeBudget(apis: KubernetesApis, inputs: KubernetesServiceInputs, serviceId: string): Promise<void> {
  const namespace = apis.conn.namespace;
  const name = budgetName(serviceId);
  const pdb = disruptionBudget(inputs, serviceId, namespace);
  if (!pdb) {
    await deleteIgnoringMissing(apis, () => apis.policy.deleteNamespacedPodDisruptionBudget({ namespace, name }));
    return;
  }
  await applyObject(apis, pdb, {
    create: () => apis.policy.createNamespacedPodDisruptionBudget({ namespace, body: pdb }),
    read: () => apis.policy.readNamespacedPodDisruptionBudget({ namespace, name }),
    replace: (body) => apis.policy.replaceNamespacedPodDisruptionBudget({ namespace, name, body }),
  });
}

/** What the objects of `inputs` look like to {@link observeScheduling} (what `read` should find). */
export function expectedScheduling(inputs: KubernetesServiceInputs, served: KubernetesServed): SchedulingObserved {
  const ns = served.namespace;
  return observeScheduling(
    withContainerOptions(deployment(inputs, served.serviceId, ns, served.image), inputs),
    service(inputs, served.serviceId, ns),
    disruptionBudget(inputs, served.serviceId, ns),
    CONTAINER_NAME,
    autoscaler(inputs, served.serviceId, ns),
  );
}

async function deleteIgnoringMissing(apis: KubernetesApis, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await call(apis.conn, fn);
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}

/** Deletes the service's objects and waits (bounded) until its pods are gone. */
async function deleteObjects(apis: KubernetesApis, serviceId: string, progress: Progress): Promise<void> {
  const namespace = apis.conn.namespace;
  const background = { propagationPolicy: "Background" };
  const removed = [
    // The autoscaler first, so that it does not act on a Deployment being deleted.
    await deleteIgnoringMissing(apis, () =>
      apis.autoscaling.deleteNamespacedHorizontalPodAutoscaler({ namespace, name: autoscalerName(serviceId) }),
    ),
    await deleteIgnoringMissing(apis, () =>
      apis.apps.deleteNamespacedDeployment({ namespace, name: serviceId, body: background }),
    ),
    await deleteIgnoringMissing(apis, () => apis.core.deleteNamespacedService({ namespace, name: serviceId })),
    await deleteIgnoringMissing(apis, () =>
      apis.core.deleteNamespacedSecret({ namespace, name: pullSecretName(serviceId) }),
    ),
    await deleteIgnoringMissing(apis, () =>
      apis.policy.deleteNamespacedPodDisruptionBudget({ namespace, name: budgetName(serviceId) }),
    ),
  ].filter(Boolean).length;
  // ReplicaSets and pods go with the Deployment (garbage collection); wait so that nothing is left
  // running when the resource is reported deleted.
  const deadline = Date.now() + 90_000;
  let pods = await servicePods(apis, serviceId);
  while (pods.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    pods = await servicePods(apis, serviceId);
  }
  if (pods.length) {
    // A pod stuck terminating (e.g. its node is gone) is force-deleted: the API object is ours.
    for (const p of pods) {
      await deleteIgnoringMissing(apis, () =>
        apis.core.deleteNamespacedPod({ namespace, name: p.metadata?.name ?? "", gracePeriodSeconds: 0 }),
      );
    }
  }
  progress.info(`removed ${removed} object(s) and the pods of ${serviceId} from namespace ${namespace}`);
}

function servedOf(apis: KubernetesApis, inputs: KubernetesServiceInputs, serviceId: string): KubernetesServed {
  const port = servicePort(inputs);
  return {
    serviceId,
    namespace: apis.conn.namespace,
    context: apis.conn.context,
    server: apis.conn.server,
    deployment: serviceId,
    service: serviceId,
    pullSecret: inputs.kubernetes.imagePullSecret ? pullSecretName(serviceId) : undefined,
    image: imageOf(inputs),
    port,
    clusterUrl: clusterUrl(serviceId, apis.conn.namespace, port),
    observed: {
      exists: true,
      replicas: initialReplicas(inputs.replicas, inputs.kubernetes.autoscaling),
      readyReplicas: initialReplicas(inputs.replicas, inputs.kubernetes.autoscaling),
      image: imageOf(inputs),
    },
  };
}

/** `servedOf` with what was just written recorded as observed (so that `read` has a baseline). */
function servedWithScheduling(
  apis: KubernetesApis,
  inputs: KubernetesServiceInputs,
  serviceId: string,
): KubernetesServed {
  const served = servedOf(apis, inputs, serviceId);
  served.observed.scheduling = expectedScheduling(inputs, served);
  return served;
}

/** The error of a failed rollout: what went wrong, the pods' story, and what was done about it. */
async function rolloutError(
  apis: KubernetesApis,
  inputs: KubernetesServiceInputs,
  serviceId: string,
  detail: string,
  aftermath: string,
): Promise<UserError> {
  const story = await describePods(apis, serviceId);
  const hint = /ImagePull|ErrImage|InvalidImageName/.test(detail + story)
    ? ` (fix: check that \`image\` = ${JSON.stringify(imageOf(inputs))} exists in its registry and that the cluster can pull it: registry address, TLS trust, kubernetes.imagePullSecret)`
    : /timeout|within/.test(detail)
      ? ` (kubernetes.rolloutTimeout is ${inputs.kubernetes.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT} s; check the events and logs below)`
      : "";
  return new UserError(
    `kubernetes: the rollout of Deployment ${serviceId} in namespace ${apis.conn.namespace} failed: ${detail}${hint}. ${aftermath}\n${story}`,
  );
}

/**
 * Creates the Deployment, Service and pull Secret and waits until every replica is ready. On any
 * failure the objects are removed again and the error carries the pods' events and logs.
 */
export async function createKubernetesService(
  inputs: KubernetesServiceInputs,
  progress: Progress,
): Promise<KubernetesServed> {
  const apis = connection(inputs.kubernetes);
  await checkNamespace(apis);
  const serviceId = `${dnsLabel(inputs.serviceName, 40)}-${randomBytes(3).toString("hex")}`;
  const timeout = inputs.kubernetes.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT;
  const replicas = initialReplicas(inputs.replicas, inputs.kubernetes.autoscaling);
  progress.info(
    `serving ${imageOf(inputs)} as Deployment ${serviceId} (${replicas} replica(s)) in namespace ${apis.conn.namespace} of ${apis.conn.server}`,
  );
  try {
    await writeObjects(apis, inputs, serviceId, progress);
  } catch (err) {
    await deleteObjects(apis, serviceId, progress).catch(() => undefined);
    throw apiFailure(apis, err, `creating the objects of ${serviceId}`);
  }
  const outcome = await waitForRollout(apis, serviceId, timeout, progress, imageOf(inputs)).catch(async (err) => {
    await deleteObjects(apis, serviceId, progress).catch(() => undefined);
    throw err;
  });
  if (!outcome.ok) {
    const error = await rolloutError(
      apis,
      inputs,
      serviceId,
      outcome.detail ?? "",
      "The Deployment, Service and Secret were removed.",
    );
    await deleteObjects(apis, serviceId, progress).catch(() => undefined);
    throw error;
  }
  progress.summary(`${replicas} replica(s) of ${serviceId} ready after ${outcome.seconds.toFixed(1)} s`);
  return servedWithScheduling(apis, inputs, serviceId);
}

/** Refresh: what the Deployment looks like now (deleted, scaled or re-imaged by hand). */
export async function readKubernetesService(
  target: KubernetesTarget,
  served: KubernetesServed,
): Promise<KubernetesServed> {
  const apis = connection({ ...target, namespace: served.namespace, context: target.context ?? served.context });
  const d = await call(apis.conn, () =>
    apis.apps.readNamespacedDeployment({ namespace: served.namespace, name: served.deployment }),
  ).catch((err) => {
    if (statusOf(err) === 404) return undefined;
    throw err;
  });
  const svc = await call(apis.conn, () =>
    apis.core.readNamespacedService({ namespace: served.namespace, name: served.service }),
  ).catch((err) => {
    if (statusOf(err) === 404) return undefined;
    throw err;
  });
  const pdb = await call(apis.conn, () =>
    apis.policy.readNamespacedPodDisruptionBudget({ namespace: served.namespace, name: budgetName(served.serviceId) }),
  ).catch((err) => {
    if (statusOf(err) === 404) return undefined;
    throw err;
  });
  const hpa = await call(apis.conn, () =>
    apis.autoscaling.readNamespacedHorizontalPodAutoscaler({
      namespace: served.namespace,
      name: autoscalerName(served.serviceId),
    }),
  ).catch((err) => {
    if (statusOf(err) === 404) return undefined;
    throw err;
  });
  return {
    ...served,
    observed:
      d && svc
        ? {
            exists: true,
            replicas: d.spec?.replicas,
            readyReplicas: d.status?.readyReplicas ?? 0,
            image: d.spec?.template.spec?.containers[0]?.image,
            scheduling: observeScheduling(d, svc, pdb, CONTAINER_NAME, hpa),
          }
        : { exists: false },
  };
}

/** The scheduling fields `read` found different from `inputs` (empty for states from before they were read back). */
export function schedulingDriftOf(served: KubernetesServed, inputs: KubernetesServiceInputs): string[] {
  const seen = served.observed?.scheduling;
  if (!seen || !served.observed.exists || !inputs.kubernetes) return [];
  try {
    return schedulingDrift(seen, expectedScheduling(inputs, served));
  } catch {
    return []; // inputs that cannot make objects yet (diff during a preview): `check` reports them
  }
}

/**
 * True when `read` saw the objects differ from what state says (so `update` re-applies them). The
 * replica count is not compared under an autoscaler: it is the autoscaler's to change.
 */
export function drifted(served: KubernetesServed, inputs: KubernetesServiceInputs): boolean {
  const o = served.observed;
  return (
    !o?.exists ||
    (!inputs.kubernetes?.autoscaling && o.replicas !== inputs.replicas) ||
    (o.image !== undefined && o.image !== served.image) ||
    schedulingDriftOf(served, inputs).length > 0
  );
}

/**
 * In place: re-applies the objects (a changed pod template rolls out with `maxUnavailable: 0`, so
 * the old replicas serve until new ones are ready) and waits for the rollout. A failed rollout is
 * rolled back to `previous` so the service keeps serving the old version.
 */
export async function updateKubernetesService(
  served: KubernetesServed,
  inputs: KubernetesServiceInputs,
  previous: KubernetesServiceInputs | undefined,
  progress: Progress,
): Promise<KubernetesServed> {
  const apis = connection(inputs.kubernetes);
  const serviceId = served.serviceId;
  const timeout = inputs.kubernetes.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT;
  const count = inputs.kubernetes.autoscaling
    ? "replicas as the autoscaler sets them"
    : `${inputs.replicas} replica(s)`;
  progress.info(`updating Deployment ${serviceId} (${count} of ${imageOf(inputs)})`);
  try {
    await writeObjects(apis, inputs, serviceId, progress);
  } catch (err) {
    throw apiFailure(apis, err, `updating the objects of ${serviceId}`);
  }
  const outcome = await waitForRollout(apis, serviceId, timeout, progress, imageOf(inputs));
  if (!outcome.ok) {
    let aftermath = "The objects were left as they are.";
    if (previous) {
      try {
        await writeObjects(apis, previous, serviceId);
        aftermath = `The Deployment was rolled back to the previous settings (${imageOf(previous)}).`;
      } catch (err) {
        aftermath = `Rolling back failed too: ${apiMessage(err)}`;
      }
    }
    throw await rolloutError(apis, inputs, serviceId, outcome.detail ?? "", aftermath);
  }
  progress.summary(`rollout of ${serviceId} complete after ${outcome.seconds.toFixed(1)} s`);
  return servedWithScheduling(apis, inputs, serviceId);
}

/** Removes the Deployment (with its ReplicaSets and pods), the Service and the pull Secret. */
export async function removeKubernetesService(
  target: KubernetesTarget,
  served: KubernetesServed,
  progress: Progress,
): Promise<void> {
  const apis = connection({ ...target, namespace: served.namespace, context: target.context ?? served.context });
  await deleteObjects(apis, served.serviceId, progress);
}

/** A readable error for a refused API call (RBAC, quota, invalid object, admission). */
function apiFailure(apis: KubernetesApis, err: unknown, what: string): Error {
  if (err instanceof UserError) return err;
  const code = statusOf(err);
  if (code === undefined) return err as Error;
  const fix =
    code === 403
      ? " (fix: the kubeconfig's user needs rights to manage Deployments, Services, Secrets, PodDisruptionBudgets and HorizontalPodAutoscalers in this namespace)"
      : code === 422
        ? " (fix: an input produced an object the API server rejects; see its message)"
        : "";
  return new UserError(
    `kubernetes: ${what} in namespace ${apis.conn.namespace} was refused by ${apis.conn.server} (${code}): ${apiMessage(err)}${fix}`,
  );
}
