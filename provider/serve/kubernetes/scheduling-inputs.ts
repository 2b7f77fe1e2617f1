// Inputs of the Kubernetes target about where and how pods are placed and kept: node selector,
// tolerations, affinity, annotations, resource requests, a PodDisruptionBudget and a pod-spec
// patch. Zod schemas shaped like the Kubernetes API (so YAML copied from a manifest fits), with
// messages that name the rule and the fix; cross-field rules are in `schedulingFailures`.
// Kept apart from inputs.ts so that other Kubernetes inputs can be added there without conflicts.
import { z } from "zod";
import type { CheckFailure } from "../../common/check";

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A Kubernetes resource quantity (`500m`, `2`, `1.5Gi`, `1e3`). */
export const QUANTITY = /^\+?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** True when `key` is a Kubernetes qualified name: `[prefix/]name`, as label and annotation keys are. */
export function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME.test(name);
}

/** A Kubernetes quantity as a number (CPU in cores, memory in bytes), or undefined when not one. */
export function quantityValue(q: string): number | undefined {
  const m = QUANTITY.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[3] ?? "";
  const binary: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
  const decimal: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
  if (suffix in binary) return n * 1024 ** binary[suffix];
  // Dividing for negative exponents keeps 300m and 0.3 the same double (300 * 0.001 is not).
  const exp = suffix in decimal ? decimal[suffix] : /^[eE]/.test(suffix) ? Number(suffix.slice(1)) : 0;
  return exp < 0 ? n / 10 ** -exp : n * 10 ** exp;
}

const keyRule = (what: string, example: string) =>
  `is not a valid ${what} key: [prefix/]name, the name at most 63 of [A-Za-z0-9_.-] with alphanumeric ends, the prefix a DNS subdomain (fix: e.g. ${example})`;

const qualifiedKey = (what: string, example: string) => z.string().refine(isQualifiedName, keyRule(what, example));

/** A map whose keys are qualified names (zod drops a key schema's own message, so keys are checked here). */
const qualifiedMap = <V extends z.ZodType>(what: string, example: string, value: V) =>
  z.record(z.string(), value).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      if (!isQualifiedName(key))
        ctx.addIssue({ code: "custom", path: [key], message: `${JSON.stringify(key)} ${keyRule(what, example)}` });
    }
  });

/** Annotations: qualified-name keys, string values. */
const annotations = (example: string) =>
  qualifiedMap("annotation", example, z.string({ message: "must be a string (fix: quote it)" }));

/** Node labels replicas must run on (both keys and values are checked as label syntax). */
export const nodeSelectorSchema = qualifiedMap(
  "label",
  '"kubernetes.io/hostname" or "nvidia.com/gpu.present"',
  z
    .string()
    .max(63, "must be a label value of at most 63 characters")
    .regex(LABEL_VALUE, 'must be a Kubernetes label value (fix: [A-Za-z0-9_.-], alphanumeric ends, e.g. "true")'),
);

/** A Toleration (core/v1): lets replicas be scheduled on nodes with a matching taint (GPU nodes often have one). */
export const tolerationSchema = z.strictObject({
  /** Taint key; omitted with `operator: Exists`, every taint. */
  key: qualifiedKey("taint", '"nvidia.com/gpu"').optional(),
  /** `Equal` (default) or `Exists`. */
  operator: z.enum(["Equal", "Exists"], { message: 'must be "Equal" (default) or "Exists"' }).optional(),
  /** Taint value for `Equal`. */
  value: z
    .string()
    .regex(LABEL_VALUE, 'must be a taint value (fix: [A-Za-z0-9_.-], alphanumeric ends, e.g. "present")')
    .optional(),
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`; omitted: every effect. */
  effect: z
    .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
      message: 'must be "NoSchedule", "PreferNoSchedule" or "NoExecute" (or omitted: every effect)',
    })
    .optional(),
  /** With `NoExecute`: seconds a pod stays bound after the taint appears. */
  tolerationSeconds: z.number().int("must be a whole number of seconds").optional(),
});

const selectorRequirement = (operators: readonly [string, ...string[]]) =>
  z.strictObject({
    key: z.string().min(1, "must name a label"),
    operator: z.enum(operators, { message: `must be one of ${operators.join(", ")}` }),
    values: z.array(z.string()).optional(),
  });

const nodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(selectorRequirement(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])).optional(),
  matchFields: z.array(selectorRequirement(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])).optional(),
});

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(selectorRequirement(["In", "NotIn", "Exists", "DoesNotExist"])).optional(),
});

const weight = z
  .number()
  .int("must be a whole number")
  .min(1, "must be 1 to 100")
  .max(100, "must be 1 to 100 (fix: e.g. 50)");

const podAffinityTerm = z.strictObject({
  labelSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  namespaces: z.array(z.string()).optional(),
  topologyKey: z
    .string({ message: 'is required (fix: e.g. "kubernetes.io/hostname")' })
    .min(1, 'is required (fix: e.g. "kubernetes.io/hostname")'),
  matchLabelKeys: z.array(z.string()).optional(),
  mismatchLabelKeys: z.array(z.string()).optional(),
});

const podAffinity = z.strictObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(podAffinityTerm).optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.strictObject({ weight, podAffinityTerm })).optional(),
});

/** An Affinity (core/v1), passed through as is; its structure is checked here, its meaning by the API server. */
export const affinitySchema = z.strictObject({
  nodeAffinity: z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .strictObject({ nodeSelectorTerms: z.array(nodeSelectorTerm).min(1, "needs at least one term") })
        .optional(),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(z.strictObject({ weight, preference: nodeSelectorTerm }))
        .optional(),
    })
    .optional(),
  podAffinity: podAffinity.optional(),
  podAntiAffinity: podAffinity.optional(),
});

const quantity = (example: string) =>
  z.string().regex(QUANTITY, `must be a Kubernetes quantity (fix: e.g. ${example})`);

/** Resource requests apart from the limits (`cpu` and `memory` set both otherwise). */
export const requestsSchema = z.strictObject({
  /** CPU request, e.g. `250m`. */
  cpu: quantity('"250m" or "1"').optional(),
  /** Memory request, e.g. `256Mi`. */
  memory: quantity('"256Mi" or "1Gi"').optional(),
});

const budgetValue = z.union(
  [
    z.number().int("must be a whole number").nonnegative("must be 0 or more"),
    z.string().regex(/^\d{1,3}%$/, 'must be a number of pods or a percentage (fix: e.g. 1 or "50%")'),
  ],
  { message: 'must be a number of pods or a percentage (fix: e.g. 1 or "50%")' },
);

/** A PodDisruptionBudget for the replicas: exactly one of `minAvailable` or `maxUnavailable`. */
export const podDisruptionBudgetSchema = z
  .strictObject({
    /** Pods that must stay available during drains. */
    minAvailable: budgetValue.optional(),
    /** Pods that may be unavailable during drains. */
    maxUnavailable: budgetValue.optional(),
  })
  .refine(
    (b) => (b.minAvailable === undefined) !== (b.maxUnavailable === undefined),
    'needs exactly one of minAvailable or maxUnavailable (fix: e.g. {minAvailable: 1} or {maxUnavailable: "25%"})',
  );

/** The schema members this file adds to `kubernetes` (spread into kubernetesTargetSchema). */
export const schedulingSchemaShape = {
  /** Node labels replicas must be scheduled on. */
  nodeSelector: nodeSelectorSchema.optional(),
  /** Taints the replicas tolerate, e.g. `[{key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"}]`. */
  tolerations: z.array(tolerationSchema).optional(),
  /** Node and pod (anti-)affinity (core/v1 Affinity: nodeAffinity, podAffinity, podAntiAffinity), passed through. */
  affinity: affinitySchema.optional(),
  /** Annotations of the pods. */
  podAnnotations: annotations('"prometheus.io/scrape"').optional(),
  /** Annotations of the Service. */
  serviceAnnotations: annotations('"service.beta.kubernetes.io/aws-load-balancer-internal"').optional(),
  /** Resource requests apart from the limits (default: the limits `cpu` and `memory`). */
  requests: requestsSchema.optional(),
  /** A PodDisruptionBudget for the replicas: exactly one of `minAvailable` or `maxUnavailable`. */
  podDisruptionBudget: podDisruptionBudgetSchema.optional(),
  /** Merged onto the pod spec for everything else; fields the provider manages are refused. */
  podSpecPatch: z.record(z.string(), z.unknown()).optional(),
};

/** The `kubernetes` inputs of this file, as the provider sees them (validated). */
export type SchedulingInputs = z.output<z.ZodObject<typeof schedulingSchemaShape, z.core.$strict>>;

/** Resource requests apart from the limits. */
export type KubernetesRequests = z.output<typeof requestsSchema>;

/** A PodDisruptionBudget: exactly one of the two. */
export type KubernetesDisruptionBudget = z.output<typeof podDisruptionBudgetSchema>;

/** A toleration, as core/v1 Toleration. */
export type KubernetesToleration = z.output<typeof tolerationSchema>;

/** An affinity, as core/v1 Affinity (nodeAffinity, podAffinity, podAntiAffinity). */
export type KubernetesAffinity = z.infer<typeof affinitySchema>;

/** Pod-spec fields that have their own input, or that the provider manages: a patch may not set them. */
const PATCH_REFUSED: Record<string, string> = {
  nodeSelector: "use kubernetes.nodeSelector",
  tolerations: "use kubernetes.tolerations",
  affinity: "use kubernetes.affinity",
  imagePullSecrets: "use kubernetes.imagePullSecret",
  hostAliases: "use container.extraHosts",
  hostIPC: 'use gpuTransport: "cuda_ipc"',
};
/** Fields of the Tesseract container the provider manages. */
const CONTAINER_REFUSED: Record<string, string> = {
  image: "use `image`",
  name: "the container is named by the provider",
  ports: "the port is the provider's (use `port` for the Service's)",
  startupProbe: "the health probes are the provider's (use `startupTimeout`)",
  readinessProbe: "the health probes are the provider's",
  livenessProbe: "the health probes are the provider's",
  args: "the serve arguments are the provider's",
  command: "the serve command is the image's",
};

/**
 * `memory` (Docker syntax, `512m`) in bytes, as args.ts `memoryBytes` reads it (not imported from
 * there: args.ts imports this module). Undefined when malformed (the shared rules report that).
 */
function dockerMemoryBytes(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(value.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * 1024 ** "bkmg".indexOf(m[2].toLowerCase() || "b"));
}

/** Cross-field rules of these inputs, as check failures naming the field, the value and the fix. */
export function schedulingFailures(
  k: SchedulingInputs & { cpu?: string },
  shared: { memory?: string; replicas?: number; container?: { cpus?: number } },
  containerName: string,
): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason: `${property}: ${reason}` });
  (k.tolerations ?? []).forEach((t, i) => {
    const p = `kubernetes.tolerations[${i}]`;
    if (t.operator === "Exists" && t.value)
      fail(
        p,
        `operator Exists takes no value (got value ${JSON.stringify(t.value)}; fix: remove value, or use operator Equal)`,
      );
    if (!t.key && t.operator !== "Exists")
      fail(
        p,
        'a toleration without key must have operator "Exists" (it then tolerates every taint; fix: give key, or operator: "Exists")',
      );
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute")
      fail(
        p,
        `tolerationSeconds applies to effect NoExecute only (got effect ${JSON.stringify(t.effect ?? "(any)")}; fix: set effect: "NoExecute" or remove tolerationSeconds)`,
      );
  });
  // The CPU limit is kubernetes.cpu or container.cpus (check refuses both).
  const cpuLimit = k.cpu !== undefined ? quantityValue(k.cpu) : shared.container?.cpus;
  const limitName = k.cpu !== undefined ? "kubernetes.cpu" : "container.cpus";
  const cpuRequest = k.requests?.cpu !== undefined ? quantityValue(k.requests.cpu) : undefined;
  if (cpuLimit !== undefined && cpuRequest !== undefined && cpuRequest > cpuLimit)
    fail(
      "kubernetes.requests.cpu",
      `${JSON.stringify(k.requests?.cpu)} is more than the limit ${limitName} = ${JSON.stringify(k.cpu ?? shared.container?.cpus)} (fix: request at most the limit)`,
    );
  const memLimit = shared.memory ? dockerMemoryBytes(shared.memory) : undefined;
  const memRequest = k.requests?.memory !== undefined ? quantityValue(k.requests.memory) : undefined;
  if (memLimit !== undefined && memRequest !== undefined && memRequest > memLimit)
    fail(
      "kubernetes.requests.memory",
      `${JSON.stringify(k.requests?.memory)} is more than the limit memory = ${JSON.stringify(shared.memory)} (fix: request at most the limit)`,
    );
  const pdb = k.podDisruptionBudget;
  for (const field of ["minAvailable", "maxUnavailable"] as const) {
    const v = pdb?.[field];
    if (typeof v === "string" && Number(v.slice(0, -1)) > 100)
      fail(`kubernetes.podDisruptionBudget.${field}`, `${JSON.stringify(v)} is more than 100% (fix: e.g. "50%")`);
  }
  if (typeof pdb?.minAvailable === "number" && shared.replicas !== undefined && pdb.minAvailable > shared.replicas)
    fail(
      "kubernetes.podDisruptionBudget.minAvailable",
      `${pdb.minAvailable} is more than replicas = ${shared.replicas}: no pod could ever be evicted and node drains would hang (fix: at most ${Math.max(0, shared.replicas - 1)}, or raise replicas)`,
    );
  failures.push(...patchFailures(k.podSpecPatch, containerName));
  return failures;
}

/** Refusals of a pod-spec patch that touches what the provider or another input manages. */
function patchFailures(patch: Record<string, unknown> | undefined, containerName: string): CheckFailure[] {
  if (!patch) return [];
  const failures: CheckFailure[] = [];
  for (const [key, why] of Object.entries(PATCH_REFUSED)) {
    if (key in patch)
      failures.push({
        property: `kubernetes.podSpecPatch.${key}`,
        reason: `kubernetes.podSpecPatch.${key}: not patchable (fix: ${why})`,
      });
  }
  const containers = patch.containers;
  if (containers === undefined) return failures;
  if (!Array.isArray(containers)) {
    failures.push({
      property: "kubernetes.podSpecPatch.containers",
      reason: `kubernetes.podSpecPatch.containers: must be a list of containers merged by name (fix: e.g. [{name: "${containerName}", workingDir: "/tmp"}] or a sidecar with its own name)`,
    });
    return failures;
  }
  containers.forEach((c, i) => {
    const p = `kubernetes.podSpecPatch.containers[${i}]`;
    if (!c || typeof c !== "object" || typeof (c as { name?: unknown }).name !== "string") {
      failures.push({
        property: p,
        reason: `${p}: needs a name: "${containerName}" patches the Tesseract container, another name adds a sidecar (fix: add name)`,
      });
      return;
    }
    if ((c as { name: string }).name !== containerName) return;
    for (const [key, why] of Object.entries(CONTAINER_REFUSED)) {
      if (key !== "name" && key in (c as object))
        failures.push({
          property: `${p}.${key}`,
          reason: `${p}.${key}: managed by the provider (fix: remove it; ${why})`,
        });
    }
  });
  return failures;
}
