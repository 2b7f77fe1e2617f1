// Waiting for a Deployment's rollout, with progress, and explaining a failed one from the pods'
// events and logs.
import type * as k8s from "@kubernetes/client-node";
import type { Progress } from "../../common/log";
import { call, type KubernetesApis, readyEndpoints } from "./connection";
import { CONTAINER_NAME, SELECTOR_LABEL } from "./manifests";

/** Container states that will not get better by waiting. */
const HOPELESS = new Set([
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "CrashLoopBackOff",
]);

export interface RolloutOutcome {
  ok: boolean;
  /** Why it failed: `timeout`, `pods` (a hopeless pod state) or `deleted`. */
  reason?: "timeout" | "pods" | "deleted";
  /** One-line summary of the failure. */
  detail?: string;
  seconds: number;
}

/** Pods of a service (every ReplicaSet generation). */
export async function servicePods(apis: KubernetesApis, serviceId: string): Promise<k8s.V1Pod[]> {
  const list = await call(apis.conn, () =>
    apis.core.listNamespacedPod({ namespace: apis.conn.namespace, labelSelector: `${SELECTOR_LABEL}=${serviceId}` }),
  );
  return list.items;
}

/** True when the Deployment's latest generation has every replica updated, ready and available, and no old pod left. */
export function rolledOut(d: k8s.V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want
  );
}

/**
 * Seconds a new pod's pull refused for credentials (401) counts as transient: the kubelet may pull
 * before its secret cache has the pull Secret created just before ("Unable to retrieve pull
 * secret ... failed to sync secret cache"), then retries with it after a back-off.
 */
export const PULL_AUTH_GRACE_SECONDS = 60;

/** True for a pull refused for credentials on a pod younger than {@link PULL_AUTH_GRACE_SECONDS}. */
function pullAuthRace(pod: k8s.V1Pod, waiting: k8s.V1ContainerStateWaiting, now: number): boolean {
  if (!/ImagePull|ErrImage/.test(waiting.reason ?? "")) return false;
  if (!/\b401\b|unauthorized/i.test(waiting.message ?? "")) return false;
  const created = pod.metadata?.creationTimestamp;
  return created !== undefined && now - timeOf(created) < PULL_AUTH_GRACE_SECONDS * 1000;
}

/** The first hopeless container state among the pods, as `pod: Reason: message`. */
export function hopelessPod(pods: k8s.V1Pod[], image?: string, now = Date.now()): string | undefined {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    for (const c of pod.status?.containerStatuses ?? []) {
      if (image && c.image !== image && pod.spec?.containers[0]?.image !== image) continue;
      const waiting = c.state?.waiting;
      if (waiting?.reason && HOPELESS.has(waiting.reason) && !pullAuthRace(pod, waiting, now)) {
        return `pod ${pod.metadata?.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
      }
    }
  }
  return undefined;
}

/**
 * Polls the Deployment until its rollout is complete and its Service routes to every replica, a pod is in a state that waiting will not
 * fix, or `timeoutSeconds` pass. Reports ready counts as they change.
 */
export async function waitForRollout(
  apis: KubernetesApis,
  name: string,
  timeoutSeconds: number,
  progress: Progress,
  image?: string,
): Promise<RolloutOutcome> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  let last = "";
  for (;;) {
    const d = await call(apis.conn, () =>
      apis.apps.readNamespacedDeployment({ name, namespace: apis.conn.namespace }),
    ).catch((err) => {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    });
    if (!d)
      return {
        ok: false,
        reason: "deleted",
        detail: `the Deployment ${name} was deleted meanwhile`,
        seconds: seconds(),
      };
    const s = d.status ?? {};
    const want = d.spec?.replicas ?? 1;
    let now = `${s.readyReplicas ?? 0}/${want} replicas ready, ${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} running`;
    if (rolledOut(d)) {
      // Done when the Service routes to every replica too: `up` returns a usable Service.
      const routed = (await readyEndpoints(apis.conn, apis.discovery, name)).length;
      if (routed === want) return { ok: true, seconds: seconds() };
      now = `${want}/${want} replicas ready, the Service routes to ${routed}`;
    }
    if (now !== last) {
      progress.info(`rollout of ${name}: ${now} (${seconds().toFixed(0)} s)`);
      last = now;
    }
    const stuck = hopelessPod(await servicePods(apis, name), image);
    if (stuck) return { ok: false, reason: "pods", detail: stuck, seconds: seconds() };
    const progressing = s.conditions?.find((c) => c.type === "Progressing");
    if (progressing?.reason === "ProgressDeadlineExceeded" || seconds() > timeoutSeconds) {
      return {
        ok: false,
        reason: "timeout",
        detail: `not every replica became ready within ${timeoutSeconds} s (${now})`,
        seconds: seconds(),
      };
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * What the pods say: per pod its phase, container state, recent events (warnings first) and the
 * last log lines of the Tesseract container (of the previous run when it restarted).
 */
export async function describePods(apis: KubernetesApis, serviceId: string, logLines = 20): Promise<string> {
  const pods = await servicePods(apis, serviceId).catch(() => [] as k8s.V1Pod[]);
  if (!pods.length) return "No pod was created.";
  const ns = apis.conn.namespace;
  const parts: string[] = [];
  for (const pod of pods.slice(0, 4)) {
    const name = pod.metadata?.name ?? "?";
    const status = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
    const state = status?.state?.waiting
      ? `waiting: ${status.state.waiting.reason ?? ""} ${status.state.waiting.message ?? ""}`.trim()
      : status?.state?.terminated
        ? `terminated: ${status.state.terminated.reason ?? ""} (exit ${status.state.terminated.exitCode})`
        : status?.state?.running
          ? `running${status.ready ? ", ready" : ", not ready"}`
          : (pod.status?.phase ?? "unknown");
    parts.push(`pod ${name} (${state}, ${status?.restartCount ?? 0} restarts)`);
    const events = await call(apis.conn, () =>
      apis.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` }),
    ).catch(() => undefined);
    const sorted = [...(events?.items ?? [])].sort(
      (a, b) => eventTime(a) - eventTime(b) || Number(a.type === "Warning") - Number(b.type === "Warning"),
    );
    const shown = [
      ...sorted.filter((e) => e.type === "Warning").slice(-6),
      ...sorted.filter((e) => e.type !== "Warning").slice(-4),
    ];
    if (shown.length) {
      parts.push("  events:");
      for (const e of shown.sort((a, b) => eventTime(a) - eventTime(b))) {
        parts.push(
          `    ${e.type} ${e.reason}: ${(e.message ?? "").trim()}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ""}`,
        );
      }
    }
    const logs = await podLogs(apis, name, logLines, (status?.restartCount ?? 0) > 0);
    parts.push(logs ? `  last log lines:\n${logs.replace(/^/gm, "    ")}` : "  no log lines");
  }
  if (pods.length > 4) parts.push(`(${pods.length - 4} more pod(s) not shown)`);
  return parts.join("\n");
}

function eventTime(e: k8s.CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? timeOf(t) : 0;
}

/**
 * Milliseconds since the epoch of a timestamp field: the client's types say `Date` (its
 * deserializer makes one), but objects that did not pass through it carry the RFC 3339 string.
 */
function timeOf(t: Date | string): number {
  return t instanceof Date ? t.getTime() : Date.parse(t);
}

async function podLogs(apis: KubernetesApis, pod: string, tailLines: number, previous: boolean): Promise<string> {
  const read = (prev: boolean) =>
    call(apis.conn, () =>
      apis.core.readNamespacedPodLog({
        name: pod,
        namespace: apis.conn.namespace,
        container: CONTAINER_NAME,
        tailLines,
        previous: prev,
      }),
    );
  const text = await read(previous).catch(() => (previous ? read(false).catch(() => "") : ""));
  return String(text ?? "").trimEnd();
}
