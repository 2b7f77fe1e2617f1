import { LABELS } from "../common/labels";
import type { ContainerSpec, DeviceRequest, PortBinding } from "../docker/types";
import { memoryBytes, type ServiceInputs } from "./args";
import { gpuTransportEnv, optionsHostConfig } from "./container-options";
import { CONTAINER_API_PORT, CONTAINER_DEBUG_PORT } from "./ports";
import { CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, isUrlPath } from "./volumes";

/** Networks Docker provides itself; never created or removed by the provider. */
export const BUILTIN_NETWORKS = new Set(["bridge", "host", "none", "default"]);

export interface ReplicaPlan {
  /** Container name. */
  name: string;
  /** Image reference. */
  image: string;
  /** Stable key of the replica: `<imageIndex>-<replica>`. */
  key: string;
  hostPort: number;
  debugPort?: number;
}

/** The labels every container of a service carries. */
export function serviceLabels(inputs: ServiceInputs, serviceId: string): Record<string, string> {
  return {
    ...inputs.labels,
    [LABELS.managed]: "true",
    [LABELS.service]: inputs.serviceName,
    [LABELS.serviceId]: serviceId,
    ...(inputs.stack ? { [LABELS.stack]: inputs.stack } : {}),
    ...(inputs.project ? { [LABELS.project]: inputs.project } : {}),
  };
}

/** Environment variables of a replica (upstream's serve semantics). */
export function serviceEnv(inputs: ServiceInputs): string[] {
  const env: Record<string, string> = { ...inputs.environment };
  for (const [k, v] of Object.entries(inputs.runtimeConfig ?? {})) {
    env[`TESSERACT_${k.toUpperCase()}`] = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  }
  if (inputs.outputFormat) env.TESSERACT_OUTPUT_FORMAT = inputs.outputFormat;
  Object.assign(env, gpuTransportEnv(inputs.gpuTransport));
  if (inputs.inputPath)
    env.TESSERACT_INPUT_PATH = isUrlPath(inputs.inputPath) ? inputs.inputPath : CONTAINER_INPUT_PATH;
  if (inputs.outputPath) {
    env.TESSERACT_OUTPUT_PATH = isUrlPath(inputs.outputPath) ? inputs.outputPath : CONTAINER_OUTPUT_PATH;
  }
  if (inputs.debug) {
    env.TESSERACT_DEBUG = "1";
    for (const prefix of ["TESSERACT", "TESSERACT_RUNTIME"]) {
      env[`${prefix}_DEBUGPY_PORT`] = String(CONTAINER_DEBUG_PORT);
      env[`${prefix}_DEBUGPY_HOST`] = "0.0.0.0";
    }
  }
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

/** Host uid:gid of the provider process, upstream's default user (undefined where unsupported). */
export function defaultUser(): string | undefined {
  return typeof process.getuid === "function" && typeof process.getgid === "function"
    ? `${process.getuid()}:${process.getgid()}`
    : undefined;
}

/** `HostConfig.DeviceRequests` for the `gpus` input (`--gpus all` / `--gpus device=0,1`). */
export function deviceRequests(gpus: ServiceInputs["gpus"]): DeviceRequest[] | undefined {
  if (!gpus) return undefined;
  if (gpus === "all") return [{ Driver: "", Count: -1, Capabilities: [["gpu"]] }];
  return [{ Driver: "", DeviceIDs: gpus, Capabilities: [["gpu"]] }];
}

/**
 * The Engine API body for one replica: `serve --host 0.0.0.0 --port 8000 [--num-workers N]` with
 * the image's entrypoint kept, tini as PID 1, ports published on `hostIp`, mounts, env, labels.
 */
export function containerSpec(inputs: ServiceInputs, serviceId: string, replica: ReplicaPlan): ContainerSpec {
  const hostNet = inputs.network === "host";
  // On the host network nothing is published: the runtime binds the host port itself.
  const cmd = hostNet
    ? ["serve", "--host", inputs.hostIp, "--port", String(replica.hostPort)]
    : ["serve", "--host", "0.0.0.0", "--port", String(CONTAINER_API_PORT)];
  if (inputs.numWorkers !== undefined) cmd.push("--num-workers", String(inputs.numWorkers));

  const ports: Record<string, PortBinding[]> = {};
  const exposed: Record<string, object> = {};
  if (!hostNet) {
    ports[`${CONTAINER_API_PORT}/tcp`] = [{ HostIp: inputs.hostIp, HostPort: String(replica.hostPort) }];
    exposed[`${CONTAINER_API_PORT}/tcp`] = {};
    if (replica.debugPort !== undefined) {
      ports[`${CONTAINER_DEBUG_PORT}/tcp`] = [{ HostIp: inputs.hostIp, HostPort: String(replica.debugPort) }];
      exposed[`${CONTAINER_DEBUG_PORT}/tcp`] = {};
    }
  }

  const binds = [...(inputs.volumes ?? [])];
  if (inputs.inputPath && !isUrlPath(inputs.inputPath)) binds.push(`${inputs.inputPath}:${CONTAINER_INPUT_PATH}:ro`);
  if (inputs.outputPath && !isUrlPath(inputs.outputPath))
    binds.push(`${inputs.outputPath}:${CONTAINER_OUTPUT_PATH}:rw`);

  const [policy, retries] = inputs.restartPolicy.split(":");
  const network = inputs.network;
  return {
    Image: replica.image,
    Cmd: cmd,
    Env: serviceEnv(inputs),
    User: inputs.user ?? defaultUser(),
    Labels: {
      ...serviceLabels(inputs, serviceId),
      [LABELS.replica]: replica.key,
      [LABELS.image]: replica.image,
    },
    ExposedPorts: exposed,
    Tty: false,
    HostConfig: {
      Init: true,
      PortBindings: ports,
      Binds: binds.length ? binds : undefined,
      RestartPolicy: { Name: policy, ...(retries ? { MaximumRetryCount: Number(retries) } : {}) },
      Memory: inputs.memory ? memoryBytes(inputs.memory) : undefined,
      DeviceRequests: deviceRequests(inputs.gpus),
      NetworkMode: network ?? undefined,
      ...optionsHostConfig(inputs.container, inputs.gpuTransport),
    },
    NetworkingConfig:
      network && !BUILTIN_NETWORKS.has(network)
        ? {
            EndpointsConfig: {
              [network]: inputs.networkAlias ? { Aliases: [inputs.networkAlias] } : {},
            },
          }
        : undefined,
  };
}

/** Docker container names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; other characters become `-`. */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_.-]/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
  return (cleaned || "tesseract").slice(0, 40);
}

/** Replica keys of a service: one per image and replica, image-major. */
export function replicaKeys(imageCount: number, replicas: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < imageCount; i++) for (let r = 0; r < replicas; r++) keys.push(`${i}-${r}`);
  return keys;
}

/** Container name for a replica key; single-image services use just the replica number. */
export function containerName(serviceId: string, key: string, imageCount: number): string {
  const [img, r] = key.split("-");
  return imageCount > 1 ? `${serviceId}-${img}-${r}` : `${serviceId}-${r}`;
}
