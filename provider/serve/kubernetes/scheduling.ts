// What the scheduling inputs (scheduling-inputs.ts) put into the objects — pod-spec fields,
// annotations, requests, the PodDisruptionBudget, the pod-spec patch — and how `read` compares
// the objects found on the cluster with them (drift). Pure functions, like manifests.ts.
import type * as k8s from "@kubernetes/client-node";
import { type AutoscalerObserved, observeAutoscaler } from "./autoscaling";
import type { KubernetesTarget } from "./inputs";
import { quantityValue } from "./scheduling-inputs";

/** The pod annotation the provider sets itself (which image the template runs). */
export const IMAGE_ANNOTATION = "pulumi-tesseract.image";

function nonEmpty<T extends object>(value: T | undefined): T | undefined {
  return value && Object.keys(value).length ? value : undefined;
}

/** Pod-spec fields of the placement inputs: nodeSelector, tolerations, affinity. */
export function placement(k: KubernetesTarget): Pick<k8s.V1PodSpec, "nodeSelector" | "tolerations" | "affinity"> {
  return {
    nodeSelector: nonEmpty(k.nodeSelector),
    tolerations: k.tolerations?.length ? k.tolerations : undefined,
    affinity: nonEmpty(k.affinity) as k8s.V1Affinity | undefined,
  };
}

/** The pod template's annotations: the user's plus the provider's image annotation (which wins). */
export function podAnnotations(k: KubernetesTarget, image: string): Record<string, string> {
  return { ...k.podAnnotations, [IMAGE_ANNOTATION]: image };
}

/** The Service's annotations (undefined when none). */
export function serviceAnnotations(k: KubernetesTarget): Record<string, string> | undefined {
  return nonEmpty(k.serviceAnnotations);
}

/** Applies `kubernetes.requests` over the requests derived from the limits (requests default to the limits). */
export function withRequests(
  r: k8s.V1ResourceRequirements | undefined,
  k: KubernetesTarget,
): k8s.V1ResourceRequirements | undefined {
  const own = Object.fromEntries(Object.entries(k.requests ?? {}).filter(([, v]) => v !== undefined));
  if (!Object.keys(own).length) return r;
  return { ...r, requests: { ...r?.requests, ...own } };
}

/** The PodDisruptionBudget's name (the Deployment's). */
export function budgetName(serviceId: string): string {
  return serviceId;
}

/** The PodDisruptionBudget of `kubernetes.podDisruptionBudget`, selecting the service's pods; undefined without one. */
export function podDisruptionBudget(
  k: KubernetesTarget,
  serviceId: string,
  namespace: string,
  labels: Record<string, string>,
  selectorLabel: string,
): k8s.V1PodDisruptionBudget | undefined {
  const b = k.podDisruptionBudget;
  if (!b) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: budgetName(serviceId), namespace, labels },
    spec: {
      selector: { matchLabels: { [selectorLabel]: serviceId } },
      ...(b.minAvailable !== undefined ? { minAvailable: b.minAvailable } : { maxUnavailable: b.maxUnavailable }),
    },
  };
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Strategic-merge-ish deep merge of `patch` onto `base`: objects merge key by key, lists whose
 * items all have a `name` merge by name (a new name is appended), other lists and values replace.
 * `null` removes a key. Neither argument is modified.
 */
export function deepMerge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (isPlain(base) && isPlain(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = deepMerge(base[key], value);
    }
    return out;
  }
  const named = (l: unknown): l is { name: string }[] =>
    Array.isArray(l) && l.every((i) => isPlain(i) && typeof i.name === "string");
  if (named(base) && named(patch)) {
    const out: unknown[] = base.map((item) => {
      const p = patch.find((q) => q.name === item.name);
      return p ? deepMerge(item, p) : item;
    });
    for (const p of patch) if (!base.some((item) => item.name === p.name)) out.push(p);
    return out;
  }
  return structuredClone(patch);
}

/** The Deployment with `kubernetes.podSpecPatch` merged onto its pod spec (validated at check: managed fields are refused). */
export function withPodSpecPatch(d: k8s.V1Deployment, k: KubernetesTarget): k8s.V1Deployment {
  const template = d.spec?.template;
  if (!k.podSpecPatch || !template?.spec) return d;
  template.spec = deepMerge(template.spec, k.podSpecPatch) as k8s.V1PodSpec;
  return d;
}

/**
 * What `read` compares, from a Deployment, Service and PodDisruptionBudget (found or planned):
 * quantities as numbers and tolerations with their default operator, since the API server
 * rewrites both (`0.5` comes back as `500m`).
 */
export interface SchedulingObserved {
  nodeSelector?: Record<string, string>;
  tolerations?: k8s.V1Toleration[];
  affinity?: unknown;
  podAnnotations?: Record<string, string>;
  serviceAnnotations?: Record<string, string>;
  /** Requests of the Tesseract container, as numbers (cores, bytes). */
  requests?: Record<string, number>;
  /** The budget's spec (`minAvailable` or `maxUnavailable`), null when there is none. */
  podDisruptionBudget: { minAvailable?: number | string; maxUnavailable?: number | string } | null;
  /** The HorizontalPodAutoscaler's spec as compared, null when there is none (absent in states from before it was read back). */
  autoscaling?: AutoscalerObserved | null;
}

/** Annotations that tools set themselves (kubectl's restartedAt and last-applied) and ours: not drift. */
function userAnnotations(a: Record<string, string> | undefined): Record<string, string> | undefined {
  const out = Object.fromEntries(
    Object.entries(a ?? {}).filter(([key]) => !key.startsWith("kubectl.kubernetes.io/") && key !== IMAGE_ANNOTATION),
  );
  return nonEmpty(out);
}

/** Plain JSON with sorted keys and without undefined, null, empty lists and empty objects (as the API server omits them). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(canonical).filter((i) => i !== undefined);
    return items.length ? items : undefined;
  }
  if (v instanceof Date) return v.toISOString();
  if (isPlain(v)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) {
      const c = canonical(v[key]);
      if (c !== undefined) out[key] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** The scheduling-relevant parts of the objects (and the autoscaler's spec), in a form that compares equal when they mean the same. */
export function observeScheduling(
  d: k8s.V1Deployment | undefined,
  svc: k8s.V1Service | undefined,
  pdb: k8s.V1PodDisruptionBudget | undefined,
  containerName: string,
  hpa?: k8s.V2HorizontalPodAutoscaler,
): SchedulingObserved {
  const pod = d?.spec?.template;
  const container = pod?.spec?.containers.find((c) => c.name === containerName);
  const requests: Record<string, number> = {};
  for (const [key, q] of Object.entries(container?.resources?.requests ?? {})) {
    const n = quantityValue(String(q));
    if (n !== undefined) requests[key] = n;
  }
  const observed: SchedulingObserved = {
    nodeSelector: pod?.spec?.nodeSelector,
    tolerations: pod?.spec?.tolerations?.map((t) => ({ ...t, operator: t.operator ?? "Equal" })),
    affinity: pod?.spec?.affinity,
    podAnnotations: userAnnotations(pod?.metadata?.annotations),
    serviceAnnotations: userAnnotations(svc?.metadata?.annotations),
    requests,
    podDisruptionBudget: pdb
      ? { minAvailable: pdb.spec?.minAvailable, maxUnavailable: pdb.spec?.maxUnavailable }
      : null,
    autoscaling: observeAutoscaler(hpa),
  };
  return (canonical(observed) ?? {}) as SchedulingObserved;
}

/** The fields of `observed` that differ from `expected` (both from {@link observeScheduling}). */
export function schedulingDrift(observed: SchedulingObserved, expected: SchedulingObserved): string[] {
  const keys: (keyof SchedulingObserved)[] = [
    "nodeSelector",
    "tolerations",
    "affinity",
    "podAnnotations",
    "serviceAnnotations",
    "requests",
    "podDisruptionBudget",
    "autoscaling",
  ];
  return keys.filter((key) => JSON.stringify(canonical(observed[key])) !== JSON.stringify(canonical(expected[key])));
}
