// The Kubernetes objects of a TesseractService: a Deployment, a Service and an optional pull Secret.
// Pure functions of the inputs, so that what is created, diffed and tested is one description.
import type * as k8s from "@kubernetes/client-node";
import { memoryBytes, type ServiceInputs } from "../args";
import { CONTAINER_API_PORT } from "../ports";
import { serviceEnv } from "../spec";
import { CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, isUrlPath, parseVolume } from "../volumes";
import { horizontalPodAutoscaler } from "./autoscaling";
import { initialReplicas } from "./autoscaling-inputs";
import type { KubernetesTarget } from "./connection";
import {
  placement,
  podAnnotations,
  podDisruptionBudget,
  serviceAnnotations,
  withPodSpecPatch,
  withRequests,
} from "./scheduling";

/** The label that selects a service's pods (and names its objects). */
export const SELECTOR_LABEL = "pulumi-tesseract.service-id";
/** Name of the container serving the Tesseract in each pod. */
export const CONTAINER_NAME = "tesseract";
/** Default seconds a create or update waits for every replica to be ready. */
export const DEFAULT_ROLLOUT_TIMEOUT = 300;

/** Inputs of a Kubernetes-targeted service. */
export type KubernetesServiceInputs = ServiceInputs & { kubernetes: KubernetesTarget; slurm?: undefined };

/** A DNS-1035 label (Service names): lowercase letters, digits and `-`, starting with a letter, at most `max` long. */
export function dnsLabel(name: string, max = 63): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, max)
    .replace(/-+$/, "");
  return cleaned || "tesseract";
}

/** A value Kubernetes accepts as a label value (at most 63 characters of `[A-Za-z0-9_.-]`, alphanumeric ends). */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** Labels of every object (and pod) of the service: the Docker target's keys plus Kubernetes' recommended ones. */
export function objectLabels(inputs: ServiceInputs, serviceId: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs.labels ?? {})) labels[k] = labelValue(v);
  Object.assign(labels, {
    "app.kubernetes.io/name": "tesseract",
    "app.kubernetes.io/instance": serviceId,
    "app.kubernetes.io/managed-by": "pulumi-tesseract",
    "pulumi-tesseract.managed": "true",
    "pulumi-tesseract.service": labelValue(inputs.serviceName),
    [SELECTOR_LABEL]: serviceId,
  });
  if (inputs.stack) labels["pulumi-tesseract.stack"] = labelValue(inputs.stack);
  if (inputs.project) labels["pulumi-tesseract.project"] = labelValue(inputs.project);
  return labels;
}

/** The pull Secret's name for a service. */
export function pullSecretName(serviceId: string): string {
  return `${serviceId}-pull`;
}

/** `kubernetes.io/dockerconfigjson` Secret with the registry credentials. */
export function pullSecret(
  inputs: KubernetesServiceInputs,
  serviceId: string,
  namespace: string,
): k8s.V1Secret | undefined {
  const creds = inputs.kubernetes.imagePullSecret;
  if (!creds) return undefined;
  const auth = Buffer.from(`${creds.username}:${creds.password}`).toString("base64");
  const dockerConfig = { auths: { [creds.registry]: { username: creds.username, password: creds.password, auth } } };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: pullSecretName(serviceId), namespace, labels: objectLabels(inputs, serviceId) },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify(dockerConfig)).toString("base64") },
  };
}

/** Pod volumes and mounts: host paths become `hostPath` volumes (paths on the node), names become PVCs. */
export function podVolumes(inputs: ServiceInputs): { volumes: k8s.V1Volume[]; mounts: k8s.V1VolumeMount[] } {
  const volumes: k8s.V1Volume[] = [];
  const mounts: k8s.V1VolumeMount[] = [];
  const add = (source: string, target: string, readOnly: boolean, hostPath: boolean, create = false) => {
    const name = `v${volumes.length}`;
    if (hostPath) {
      volumes.push({ name, hostPath: { path: source, type: create ? "DirectoryOrCreate" : "" } });
    } else {
      volumes.push({ name, persistentVolumeClaim: { claimName: source, readOnly } });
    }
    mounts.push({ name, mountPath: target, readOnly });
  };
  for (const spec of inputs.volumes ?? []) {
    // Validated at check; node paths are not looked at here (they live on the cluster's nodes).
    const parsed = parseVolume(spec, "/", false);
    if ("error" in parsed) throw new Error(`volumes: ${spec} ${parsed.error}`);
    add(parsed.ok.source, parsed.ok.target, parsed.ok.mode === "ro", parsed.ok.bind);
  }
  if (inputs.inputPath && !isUrlPath(inputs.inputPath)) add(inputs.inputPath, CONTAINER_INPUT_PATH, true, true);
  if (inputs.outputPath && !isUrlPath(inputs.outputPath))
    add(inputs.outputPath, CONTAINER_OUTPUT_PATH, false, true, true);
  return { volumes, mounts };
}

/** Resource requests and limits: memory (Docker syntax, sent as bytes), CPU, and GPUs counted as `nvidia.com/gpu`. */
export function resources(inputs: KubernetesServiceInputs): k8s.V1ResourceRequirements | undefined {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (inputs.memory) limits.memory = requests.memory = String(memoryBytes(inputs.memory));
  if (inputs.kubernetes.cpu) limits.cpu = requests.cpu = inputs.kubernetes.cpu;
  // Kubernetes schedules GPUs by count (devices are the device plugin's choice): N ids = N GPUs.
  if (Array.isArray(inputs.gpus)) limits["nvidia.com/gpu"] = String(inputs.gpus.length);
  if (!Object.keys(limits).length) return withRequests(undefined, inputs.kubernetes);
  return withRequests({ limits, ...(Object.keys(requests).length ? { requests } : {}) }, inputs.kubernetes);
}

/** `runAsUser`/`runAsGroup` for a numeric `user`; otherwise the image's own user applies. */
function securityContext(user: string | undefined): k8s.V1SecurityContext | undefined {
  if (!user) return undefined;
  const [uid, gid] = user.split(":");
  if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) return undefined;
  return { runAsUser: Number(uid), ...(gid !== undefined ? { runAsGroup: Number(gid) } : {}) };
}

/** The Deployment: `serve` on port 8000 with health probes, rolling updates that never drop below `replicas`. */
export function deployment(
  inputs: KubernetesServiceInputs,
  serviceId: string,
  namespace: string,
  image: string,
): k8s.V1Deployment {
  const labels = objectLabels(inputs, serviceId);
  const args = ["serve", "--host", "0.0.0.0", "--port", String(CONTAINER_API_PORT)];
  if (inputs.numWorkers !== undefined) args.push("--num-workers", String(inputs.numWorkers));
  const env = serviceEnv(inputs).map((kv) => {
    const i = kv.indexOf("=");
    return { name: kv.slice(0, i), value: kv.slice(i + 1) };
  });
  const { volumes, mounts } = podVolumes(inputs);
  const health = { httpGet: { path: "/health", port: "http" } };
  const timeout = inputs.kubernetes.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT;
  const container: k8s.V1Container = {
    name: CONTAINER_NAME,
    image,
    imagePullPolicy: inputs.kubernetes.imagePullPolicy ?? "IfNotPresent",
    args,
    env: env.length ? env : undefined,
    ports: [{ name: "http", containerPort: CONTAINER_API_PORT, protocol: "TCP" }],
    // Startup may take a while (imports, JIT); then readiness gates traffic and liveness restarts a hung runtime.
    startupProbe: { ...health, periodSeconds: 1, failureThreshold: Math.max(1, Math.ceil(inputs.startupTimeout)) },
    readinessProbe: { ...health, periodSeconds: 2, failureThreshold: 2, timeoutSeconds: 2 },
    livenessProbe: { ...health, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 5 },
    // Leaves time for endpoints to drop a terminating pod before the runtime stops taking requests.
    lifecycle: { preStop: { sleep: { seconds: 2 } } },
    resources: resources(inputs),
    securityContext: securityContext(inputs.user),
    volumeMounts: mounts.length ? mounts : undefined,
  };
  const creds = inputs.kubernetes.imagePullSecret;
  const d: k8s.V1Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: serviceId, namespace, labels },
    spec: {
      // With an autoscaler, the count it starts from (updates keep the count the autoscaler set).
      replicas: initialReplicas(inputs.replicas, inputs.kubernetes.autoscaling),
      selector: { matchLabels: { [SELECTOR_LABEL]: serviceId } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: Math.ceil(timeout),
      revisionHistoryLimit: 3,
      template: {
        metadata: { labels, annotations: podAnnotations(inputs.kubernetes, image) },
        spec: {
          containers: [container],
          volumes: volumes.length ? volumes : undefined,
          imagePullSecrets: creds ? [{ name: pullSecretName(serviceId) }] : undefined,
          ...placement(inputs.kubernetes),
          terminationGracePeriodSeconds: 15,
          automountServiceAccountToken: false,
        },
      },
    },
  };
  return withPodSpecPatch(d, inputs.kubernetes);
}

/** The Service in front of the replicas (`port`, default 8000, to the pods' `http` port). */
export function service(inputs: KubernetesServiceInputs, serviceId: string, namespace: string): k8s.V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: serviceId,
      namespace,
      labels: objectLabels(inputs, serviceId),
      annotations: serviceAnnotations(inputs.kubernetes),
    },
    spec: {
      type: inputs.kubernetes.serviceType ?? "ClusterIP",
      selector: { [SELECTOR_LABEL]: serviceId },
      ports: [{ name: "http", port: servicePort(inputs), targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** The PodDisruptionBudget of `kubernetes.podDisruptionBudget` (same name and labels as the Deployment). */
export function disruptionBudget(
  inputs: KubernetesServiceInputs,
  serviceId: string,
  namespace: string,
): k8s.V1PodDisruptionBudget | undefined {
  return podDisruptionBudget(inputs.kubernetes, serviceId, namespace, objectLabels(inputs, serviceId), SELECTOR_LABEL);
}

/** The HorizontalPodAutoscaler of `kubernetes.autoscaling` (same name and labels as the Deployment). */
export function autoscaler(
  inputs: KubernetesServiceInputs,
  serviceId: string,
  namespace: string,
): k8s.V2HorizontalPodAutoscaler | undefined {
  return horizontalPodAutoscaler(inputs.kubernetes.autoscaling, serviceId, namespace, objectLabels(inputs, serviceId));
}

/** The Service's port: a fixed `port` input, else 8000. */
export function servicePort(inputs: ServiceInputs): number {
  return inputs.port !== undefined && /^\d+$/.test(inputs.port) ? Number(inputs.port) : CONTAINER_API_PORT;
}

/** The in-cluster URL of the service (for callers inside the cluster). */
export function clusterUrl(serviceId: string, namespace: string, port: number): string {
  return `http://${serviceId}.${namespace}.svc.cluster.local:${port}`;
}
