// Inputs of the Kubernetes serve target: schema and the rules on top of the shared service inputs.
// Kept free of the Kubernetes client so that checking a Docker-targeted service never loads it.
import { z } from "zod";
import type { CheckFailure } from "../../common/check";
import { autoscalingFailures, autoscalingSchemaShape } from "./autoscaling-inputs";
import { type SchedulingInputs, schedulingFailures, schedulingSchemaShape } from "./scheduling-inputs";

/** Where a TesseractService runs when it targets Kubernetes instead of a Docker engine (validated). */
export type KubernetesTarget = z.output<typeof kubernetesTargetSchema>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Registry credentials the cluster pulls with (a `kubernetes.io/dockerconfigjson` Secret). */
export const kubernetesPullSecretSchema = z.strictObject({
  /** Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: z.string().min(1, "must be the registry host, e.g. ghcr.io or 127.0.0.1:5000"),
  /** User name for the registry. */
  username: z.string().min(1),
  /** Password or token (keep it a secret). */
  password: z.string().min(1),
});

export const kubernetesTargetSchema = z.strictObject({
  /** A kubeconfig file path or its YAML content (secret). Default: `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig: z.string().min(1, "must be a kubeconfig file path or its YAML content").optional(),
  /** Kubeconfig context (default: its current context). */
  context: z.string().min(1).optional(),
  /** Namespace of the objects (default: the context's, else `default`); it must exist. */
  namespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, "must be a Kubernetes namespace name (lowercase letters, digits and -; fix: e.g. tesseracts)")
    .optional(),
  /** `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType: z
    .enum(["ClusterIP", "NodePort", "LoadBalancer"], { message: 'must be "ClusterIP", "NodePort" or "LoadBalancer"' })
    .optional(),
  /** `IfNotPresent` (default), `Always` or `Never`. */
  imagePullPolicy: z
    .enum(["IfNotPresent", "Always", "Never"], { message: 'must be "IfNotPresent", "Always" or "Never"' })
    .optional(),
  /** Registry credentials for the cluster's pulls. */
  imagePullSecret: kubernetesPullSecretSchema.optional(),
  /** CPU request and limit per replica, e.g. `500m`. */
  cpu: z
    .string()
    .regex(/^\d+(\.\d+)?m?$/, 'must be a Kubernetes CPU quantity (fix: e.g. "500m" or "2")')
    .optional(),
  ...schedulingSchemaShape,
  ...autoscalingSchemaShape,
  /** Seconds to wait for a rollout (default 300). */
  rolloutTimeout: z
    .number()
    .positive("must be more than 0 seconds")
    .max(3600, "must be at most 3600 seconds")
    .optional(),
});

/**
 * Placement and upkeep of the pods (see scheduling-inputs.ts): node selector, tolerations,
 * affinity, annotations, requests, PodDisruptionBudget and a pod-spec patch.
 */
export type KubernetesScheduling = SchedulingInputs;

/** True when a kubeconfig input is YAML content rather than a path. */
export function isKubeconfigContent(value: string): boolean {
  return /\n/.test(value) || /^\s*(apiVersion|kind|clusters)\s*:/.test(value);
}

/** The shared inputs this module looks at. */
interface SharedInputs {
  kubernetes?: KubernetesTarget;
  memory?: string;
  replicas?: number;
  container?: { cpus?: number };
  gpus?: "all" | string[];
  port?: string;
  volumes?: string[];
}

/** Inputs of the Docker target that mean nothing on Kubernetes. */
const DOCKER_ONLY = ["docker", "network", "networkAlias", "hostIp", "restartPolicy", "images", "registryAuth"] as const;

/** Check failures of a Kubernetes-targeted service (on top of the shared schema). */
export function kubernetesFailures(raw: Record<string, unknown>, v: SharedInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  // hostIp and restartPolicy come back from `check` with their defaults filled in: only other values are errors.
  const defaults: Record<string, unknown> = { hostIp: "127.0.0.1", restartPolicy: "unless-stopped" };
  for (const key of DOCKER_ONLY) {
    if (raw[key] !== undefined && raw[key] !== defaults[key]) {
      failures.push({
        property: key,
        reason:
          key === "images"
            ? "images: the Kubernetes target serves one image per service (fix: use `image`, and one TesseractService per image)"
            : key === "registryAuth"
              ? "registryAuth: the Docker target's pull credentials; a cluster pulls with its own (fix: move them to `kubernetes.imagePullSecret`)"
              : `${key}: applies to the Docker target only and cannot be combined with \`kubernetes\` (fix: remove it)`,
      });
    }
  }
  if (v.gpus === "all") {
    failures.push({
      property: "gpus",
      reason:
        'gpus: Kubernetes schedules GPUs by count, so "all" has no meaning there (fix: list N ids, e.g. ["0"], to request N nvidia.com/gpu per replica)',
    });
  }
  if (v.port !== undefined && !/^\d+$/.test(v.port)) {
    failures.push({
      property: "port",
      reason: `port: with \`kubernetes\` this is the Service's port, one number (got ${JSON.stringify(raw.port)}; fix: e.g. 8000)`,
    });
  }
  (v.volumes ?? []).forEach((spec, i) => {
    const source = spec.split(":")[0];
    if (!source.startsWith("/") && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(source)) {
      failures.push({
        property: `volumes[${i}]`,
        reason: `volumes[${i}]: ${JSON.stringify(source)} is not a PersistentVolumeClaim name (fix: lowercase letters, digits and -, or an absolute node path)`,
      });
    }
  });
  if (v.kubernetes) {
    failures.push(...schedulingFailures(v.kubernetes, v, "tesseract" /* manifests.ts CONTAINER_NAME */));
    failures.push(...autoscalingFailures(v.kubernetes, { ...v, replicasGiven: raw.replicas !== undefined }));
  }
  return failures;
}
