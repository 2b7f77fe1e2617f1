// The HorizontalPodAutoscaler of `kubernetes.autoscaling` (autoscaling/v2), and the form `read`
// compares it in (drift). Pure functions, like manifests.ts and scheduling.ts.
import type * as k8s from "@kubernetes/client-node";
import type { KubernetesAutoscaling, KubernetesAutoscalingMetric } from "./autoscaling-inputs";
import { quantityValue } from "./scheduling-inputs";

/** The autoscaler's name (the Deployment's). */
export function autoscalerName(serviceId: string): string {
  return serviceId;
}

/** Kubernetes' own stabilization windows (seconds), sent explicitly so that what is read back compares. */
const DEFAULT_WINDOW = { scaleUp: 0, scaleDown: 300 } as const;

function target(m: KubernetesAutoscalingMetric): k8s.V2MetricTarget {
  return m.averageValue !== undefined
    ? { type: "AverageValue", averageValue: m.averageValue }
    : { type: "Value", value: m.value };
}

function metricSpec(m: KubernetesAutoscalingMetric): k8s.V2MetricSpec {
  const metric: k8s.V2MetricIdentifier = {
    name: m.name,
    ...(m.selector && Object.keys(m.selector).length ? { selector: { matchLabels: m.selector } } : {}),
  };
  if (m.type === "Pods") return { type: "Pods", pods: { metric, target: target(m) } };
  if (m.type === "External") return { type: "External", external: { metric, target: target(m) } };
  const o = m.object ?? { kind: "", name: "" };
  return {
    type: "Object",
    object: {
      metric,
      describedObject: { apiVersion: o.apiVersion ?? "v1", kind: o.kind, name: o.name },
      target: target(m),
    },
  };
}

/** The metrics of an autoscaling input: CPU utilization first, then the custom ones in order. */
export function metricSpecs(a: KubernetesAutoscaling): k8s.V2MetricSpec[] {
  const metrics: k8s.V2MetricSpec[] = [];
  if (a.cpuUtilization !== undefined)
    metrics.push({
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: a.cpuUtilization } },
    });
  for (const m of a.metrics ?? []) metrics.push(metricSpec(m));
  return metrics;
}

/** The HorizontalPodAutoscaler scaling Deployment `serviceId` (same name and labels); undefined without `autoscaling`. */
export function horizontalPodAutoscaler(
  a: KubernetesAutoscaling | undefined,
  serviceId: string,
  namespace: string,
  labels: Record<string, string>,
): k8s.V2HorizontalPodAutoscaler | undefined {
  if (!a) return undefined;
  const b = a.behavior;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: autoscalerName(serviceId), namespace, labels },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: serviceId },
      minReplicas: a.minReplicas ?? 1,
      maxReplicas: a.maxReplicas,
      metrics: metricSpecs(a),
      // Given one window, the API server fills in the other side's defaults: send both so they compare.
      ...(b
        ? {
            behavior: {
              scaleUp: {
                stabilizationWindowSeconds: b.scaleUp?.stabilizationWindowSeconds ?? DEFAULT_WINDOW.scaleUp,
              },
              scaleDown: {
                stabilizationWindowSeconds: b.scaleDown?.stabilizationWindowSeconds ?? DEFAULT_WINDOW.scaleDown,
              },
            },
          }
        : {}),
    },
  };
}

/** What `read` compares of an autoscaler: bounds, metrics (quantities as numbers), windows; null when there is none. */
export interface AutoscalerObserved {
  minReplicas?: number;
  maxReplicas?: number;
  metrics?: unknown[];
  windows?: { scaleUp?: number; scaleDown?: number };
}

function targetOf(t: k8s.V2MetricTarget | undefined): Record<string, unknown> | undefined {
  if (!t) return undefined;
  return {
    type: t.type,
    averageUtilization: t.averageUtilization,
    averageValue: t.averageValue !== undefined ? (quantityValue(String(t.averageValue)) ?? t.averageValue) : undefined,
    value: t.value !== undefined ? (quantityValue(String(t.value)) ?? t.value) : undefined,
  };
}

function metricOf(m: k8s.V2MetricSpec): Record<string, unknown> {
  const source = m.resource ?? m.pods ?? m.object ?? m.external ?? m.containerResource;
  const id = m.pods?.metric ?? m.object?.metric ?? m.external?.metric;
  return {
    type: m.type,
    name: m.resource?.name ?? m.containerResource?.name ?? id?.name,
    selector: id?.selector,
    describedObject: m.object?.describedObject,
    target: targetOf(source?.target),
  };
}

/** An autoscaler (found or planned) in the form that compares equal when it means the same. */
export function observeAutoscaler(hpa: k8s.V2HorizontalPodAutoscaler | undefined): AutoscalerObserved | null {
  if (!hpa) return null;
  const s = hpa.spec;
  const b = s?.behavior;
  return {
    minReplicas: s?.minReplicas ?? 1,
    maxReplicas: s?.maxReplicas,
    metrics: (s?.metrics ?? []).map(metricOf),
    windows: b
      ? { scaleUp: b.scaleUp?.stabilizationWindowSeconds, scaleDown: b.scaleDown?.stabilizationWindowSeconds }
      : undefined,
  };
}
