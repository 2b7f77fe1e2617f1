// Inputs of the Kubernetes serve target: schema and the rules on top of the shared service inputs.
// Kept free of the Kubernetes client so that checking a Docker-targeted service never loads it.
import { z } from "zod";
import type { CheckFailure } from "../../common/check";
import { autoscalingFailures, autoscalingSchemaShape, type KubernetesAutoscaling } from "./autoscaling-inputs";
import { type SchedulingInputs, schedulingFailures, schedulingSchemaShape } from "./scheduling-inputs";

/** Where a TesseractService runs when it targets Kubernetes instead of a Docker engine. */
export interface KubernetesTarget extends KubernetesScheduling {
  /**
   * A kubeconfig: a file path, or the YAML content itself (keep content a Pulumi secret).
   * Default: `KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account.
   */
  kubeconfig?: string;
  /** Context of the kubeconfig to use (default: its current context). */
  context?: string;
  /** Namespace for the Deployment, Service and pull secret (default: the context's, else `default`). It must exist. */
  namespace?: string;
  /** Kubernetes Service type: `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType?: "ClusterIP" | "NodePort" | "LoadBalancer";
  /** When the kubelet pulls the image: `IfNotPresent` (default; images are referenced by digest), `Always` or `Never`. */
  imagePullPolicy?: "IfNotPresent" | "Always" | "Never";
  /** Credentials for pulling the image from a private registry: stored as a `kubernetes.io/dockerconfigjson` Secret. */
  imagePullSecret?: { registry: string; username: string; password: string };
  /** CPU request and limit per replica in Kubernetes syntax, e.g. `500m` or `2`. */
  cpu?: string;
  /** Seconds to wait for a rollout (create or update) to have every replica ready (default 300). */
  rolloutTimeout?: number;
  /**
   * A HorizontalPodAutoscaler (autoscaling/v2) for the Deployment: `replicas` is then the initial
   * count only, and the provider leaves the replica count to the autoscaler.
   */
  autoscaling?: KubernetesAutoscaling;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const kubernetesTargetSchema = z.strictObject({
  kubeconfig: z.string().min(1, "must be a kubeconfig file path or its YAML content").optional(),
  context: z.string().min(1).optional(),
  namespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, "must be a Kubernetes namespace name (lowercase letters, digits and -; fix: e.g. tesseracts)")
    .optional(),
  serviceType: z
    .enum(["ClusterIP", "NodePort", "LoadBalancer"], { message: 'must be "ClusterIP", "NodePort" or "LoadBalancer"' })
    .optional(),
  imagePullPolicy: z
    .enum(["IfNotPresent", "Always", "Never"], { message: 'must be "IfNotPresent", "Always" or "Never"' })
    .optional(),
  imagePullSecret: z
    .strictObject({
      registry: z.string().min(1, "must be the registry host, e.g. ghcr.io or 127.0.0.1:5000"),
      username: z.string().min(1),
      password: z.string().min(1),
    })
    .optional(),
  cpu: z
    .string()
    .regex(/^\d+(\.\d+)?m?$/, 'must be a Kubernetes CPU quantity (fix: e.g. "500m" or "2")')
    .optional(),
  ...schedulingSchemaShape,
  ...autoscalingSchemaShape,
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
