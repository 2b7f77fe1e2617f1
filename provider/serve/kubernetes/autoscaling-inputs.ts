// The `kubernetes.autoscaling` input: a HorizontalPodAutoscaler (autoscaling/v2) for the
// Deployment. Zod schema shaped like the API's (typed subset of MetricSpec), with messages that
// name the rule and the fix; the cross-field rules (bounds, the CPU request utilization needs,
// `replicas` inside the bounds) are in `autoscalingFailures`. Free of the Kubernetes client.
import { z } from "zod";
import type { CheckFailure } from "../../common/check";
import { QUANTITY } from "./scheduling-inputs";

const count = (max: number, example: string) =>
  z
    .number()
    .int("must be a whole number")
    .min(1, `must be at least 1 (fix: e.g. ${example})`)
    .max(max, `must be at most ${max}`);

const quantity = z
  .string()
  .regex(QUANTITY, 'must be a Kubernetes quantity (fix: e.g. "10", "500m" or "2k")')
  .refine(
    (q) => !/^\+?0*(\.0*)?([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/.test(q),
    'must be more than 0 (fix: e.g. "10")',
  );

const window = z
  .number()
  .int("must be a whole number of seconds")
  .min(0, "must be 0 to 3600 seconds")
  .max(3600, "must be 0 to 3600 seconds (fix: e.g. 300)");

/** Scaling rules of one direction (autoscaling/v2 HPAScalingRules, the stabilization window only). */
export const scalingRulesSchema = z.strictObject({
  /** Seconds of past recommendations considered before scaling (0–3600; Kubernetes' default: 0 up, 300 down). */
  stabilizationWindowSeconds: window.optional(),
});

/** The object an `Object` metric describes (autoscaling/v2 CrossVersionObjectReference). */
export const metricObjectSchema = z.strictObject({
  /** API version of the object, e.g. `v1` or `networking.k8s.io/v1` (default `v1`). */
  apiVersion: z.string().min(1).optional(),
  /** Kind of the object, e.g. `Service` or `Ingress`. */
  kind: z.string().min(1, 'must name the kind (fix: e.g. "Service")'),
  /** Name of the object (in the service's namespace). */
  name: z.string().min(1, "must name the object"),
});

/** A custom metric the autoscaler follows (a subset of autoscaling/v2 MetricSpec). */
export const metricSchema = z.strictObject({
  /**
   * `Pods`: a metric of each pod, averaged (target `averageValue`); `Object`: a metric describing
   * one object (`object`; target `value` or `averageValue`); `External`: a metric from outside the
   * cluster (target `value` or `averageValue`). Served by a custom/external metrics adapter.
   */
  type: z.enum(["Pods", "Object", "External"], {
    message: 'must be "Pods", "Object" or "External" (CPU: use autoscaling.cpuUtilization)',
  }),
  /** The metric's name, e.g. `http_requests_per_second`. */
  name: z.string().min(1, "must name the metric (fix: e.g. http_requests_per_second)"),
  /** Labels selecting the metric's series (`metric.selector.matchLabels`). */
  selector: z.record(z.string(), z.string()).optional(),
  /** `Object` metrics: the object the metric describes, e.g. `{kind: "Service", name: "front"}`. */
  object: metricObjectSchema.optional(),
  /** Target value of the metric averaged over the pods, a Kubernetes quantity (e.g. `"10"`, `"500m"`). */
  averageValue: quantity.optional(),
  /** Target value of the metric itself (`Object`, `External`), a Kubernetes quantity. */
  value: quantity.optional(),
});

/** How fast the autoscaler scales (autoscaling/v2 HorizontalPodAutoscalerBehavior, windows only). */
export const autoscalingBehaviorSchema = z.strictObject({
  /** Scaling up (default window 0 s). */
  scaleUp: scalingRulesSchema.optional(),
  /** Scaling down (default window 300 s). */
  scaleDown: scalingRulesSchema.optional(),
});

/**
 * A HorizontalPodAutoscaler (autoscaling/v2) for the Deployment. `replicas` is then the initial
 * count only (within the bounds); the provider leaves the count to the autoscaler. Cross-field
 * rules in {@link autoscalingFailures}.
 */
export const autoscalingSchema = z.strictObject({
  /** Fewest replicas (default 1). */
  minReplicas: count(1000, "1").optional(),
  /** Most replicas (1–1000). */
  maxReplicas: count(1000, "5"),
  /**
   * Target average CPU utilization in percent of the CPU request (1–1000), e.g. 70. Needs a CPU
   * request: `kubernetes.requests.cpu`, `kubernetes.cpu` or `container.cpus`.
   */
  cpuUtilization: z
    .number()
    .int("must be a whole percentage")
    .min(1, "must be 1 to 1000 percent of the CPU request (fix: e.g. 70)")
    .max(1000, "must be 1 to 1000 percent of the CPU request (fix: e.g. 70)")
    .optional(),
  /** Custom metrics (Pods, Object, External): each needs a metrics adapter in the cluster. */
  metrics: z.array(metricSchema).optional(),
  /** Stabilization windows of scaling up and down. */
  behavior: autoscalingBehaviorSchema.optional(),
});

/** A custom metric, validated. */
export type KubernetesAutoscalingMetric = z.output<typeof metricSchema>;

/** `kubernetes.autoscaling`, validated. */
export type KubernetesAutoscaling = z.output<typeof autoscalingSchema>;

/** The schema member this file adds to `kubernetes` (spread into kubernetesTargetSchema). */
export const autoscalingSchemaShape = {
  /** A HorizontalPodAutoscaler (CPU utilization or custom metrics); `replicas` is then the initial count. */
  autoscaling: autoscalingSchema.optional(),
};

/** The replica count a Deployment starts with under an autoscaler: `replicas`, inside the bounds. */
export function initialReplicas(replicas: number, a: KubernetesAutoscaling | undefined): number {
  if (!a) return replicas;
  return Math.min(a.maxReplicas, Math.max(a.minReplicas ?? 1, replicas));
}

/**
 * Cross-field rules of `kubernetes.autoscaling`, as check failures naming the field, the value and
 * the fix. `replicasGiven` is false when `replicas` is the default (then it starts at the bounds).
 */
export function autoscalingFailures(
  k: { autoscaling?: KubernetesAutoscaling; cpu?: string; requests?: { cpu?: string } },
  shared: { replicas?: number; replicasGiven: boolean; container?: { cpus?: number } },
): CheckFailure[] {
  const a = k.autoscaling;
  if (!a) return [];
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason: `${property}: ${reason}` });
  const p = "kubernetes.autoscaling";
  const min = a.minReplicas ?? 1;
  if (min > a.maxReplicas)
    fail(
      `${p}.minReplicas`,
      `${min} is more than maxReplicas = ${a.maxReplicas} (fix: minReplicas at most ${a.maxReplicas}, or raise maxReplicas)`,
    );
  if (a.cpuUtilization === undefined && !a.metrics?.length)
    fail(p, "needs something to scale on: cpuUtilization or metrics (fix: e.g. {maxReplicas: 5, cpuUtilization: 70})");
  if (
    a.cpuUtilization !== undefined &&
    k.requests?.cpu === undefined &&
    k.cpu === undefined &&
    shared.container?.cpus === undefined
  )
    fail(
      `${p}.cpuUtilization`,
      `${a.cpuUtilization}% is a share of each pod's CPU request, and the pods request no CPU (fix: set kubernetes.requests.cpu, e.g. "250m", or kubernetes.cpu)`,
    );
  if (shared.replicasGiven && shared.replicas !== undefined && min <= a.maxReplicas) {
    if (shared.replicas > a.maxReplicas || shared.replicas < min)
      failures.push({
        property: "replicas",
        reason: `replicas: ${shared.replicas} is outside kubernetes.autoscaling's ${min}–${a.maxReplicas}; with an autoscaler it is only the initial count (fix: a count from ${min} to ${a.maxReplicas}, or omit replicas)`,
      });
  }
  (a.metrics ?? []).forEach((m, i) => {
    const mp = `${p}.metrics[${i}]`;
    if (m.type === "Pods" && m.value !== undefined)
      fail(`${mp}.value`, 'a Pods metric is averaged over the pods (fix: use averageValue, e.g. "10")');
    if (m.type === "Pods" && m.averageValue === undefined && m.value === undefined)
      fail(mp, 'a Pods metric needs a target averageValue (fix: e.g. averageValue: "10")');
    if (m.type !== "Pods" && (m.value === undefined) === (m.averageValue === undefined))
      fail(mp, `an ${m.type} metric needs exactly one target: value or averageValue (fix: e.g. value: "100")`);
    if (m.type === "Object" && !m.object)
      fail(
        `${mp}.object`,
        'an Object metric describes one object (fix: e.g. object: {kind: "Service", name: "front"})',
      );
    if (m.type !== "Object" && m.object)
      fail(`${mp}.object`, `only Object metrics describe an object (fix: remove object, or use type "Object")`);
  });
  return failures;
}
