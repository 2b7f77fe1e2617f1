// The container options (provider/serve/container-options.ts) and `gpuTransport` on the Kubernetes
// target: what has a pod-spec meaning is mapped here, the rest is refused at check by name. Kept
// apart from manifests.ts (one call in deployment.ts) and free of the Kubernetes client at run time,
// since args.ts loads the check half for every service.
import type * as k8s from "@kubernetes/client-node";
import type { CheckFailure } from "../../common/check";
import {
  type ContainerOptions,
  capabilityName,
  type GpuTransport,
  parseExtraHost,
  parseTmpfs,
} from "../container-options";
import { memoryBytes } from "../sizes";

/** The inputs this module looks at. */
interface OptionInputs {
  container?: ContainerOptions;
  gpuTransport?: GpuTransport;
  skipHealthCheck?: boolean;
  kubernetes?: { cpu?: string };
}

/** Container options with no pod-spec equivalent, and why. */
const REFUSED: Record<string, string> = {
  devices:
    "a pod cannot map host devices (fix: remove it; expose devices through a device plugin and request them, as `gpus` does for nvidia.com/gpu)",
  ulimits:
    "Kubernetes has no per-pod ulimits; they come from the node's container runtime (fix: remove it, or set the runtime's default ulimits on the nodes)",
  logConfig:
    "a pod's logs are collected by the kubelet and the cluster's log agent, not a per-container driver (fix: remove it)",
};

/** Check failures of the container options on a Kubernetes-targeted service. */
export function kubernetesOptionFailures(v: OptionInputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [key, why] of Object.entries(REFUSED)) {
    if (v.container?.[key as keyof ContainerOptions] !== undefined)
      failures.push({
        property: `container.${key}`,
        reason: `container.${key}: not supported with \`kubernetes\`: ${why}`,
      });
  }
  if (v.skipHealthCheck) {
    failures.push({
      property: "skipHealthCheck",
      reason:
        "skipHealthCheck: not supported with `kubernetes`: a rollout is done when its pods pass their /health probes (fix: remove it; raise `startupTimeout` or `kubernetes.rolloutTimeout` for slow starts)",
    });
  }
  if (v.container?.cpus !== undefined && v.kubernetes?.cpu !== undefined) {
    failures.push({
      property: "container.cpus",
      reason:
        "container.cpus: `kubernetes.cpu` already sets the CPU limit (fix: give one of container.cpus or kubernetes.cpu)",
    });
  }
  (v.container?.extraHosts ?? []).forEach((spec, i) => {
    const parsed = parseExtraHost(spec);
    if (!("error" in parsed) && parsed[1] === "host-gateway")
      failures.push({
        property: `container.extraHosts[${i}]`,
        reason: `container.extraHosts[${i}]: "host-gateway" is Docker's; a pod's host alias needs an IP address (fix: give the node's or service's IP)`,
      });
  });
  (v.container?.tmpfs ?? []).forEach((spec, i) => {
    const parsed = parseTmpfs(spec);
    if ("error" in parsed || !parsed[1]) return;
    const other = parsed[1].split(",").filter((o) => !/^size=\d+(\.\d+)?[kmg]?$/i.test(o) && o !== "rw");
    if (other.length)
      failures.push({
        property: `container.tmpfs[${i}]`,
        reason: `container.tmpfs[${i}]: with \`kubernetes\` a tmpfs is an emptyDir in memory, which takes only size= (got ${JSON.stringify(other.join(","))}; fix: e.g. "${parsed[0]}:size=64m")`,
      });
  });
  return failures;
}

/** `size=64m` of tmpfs options → bytes, as a Kubernetes quantity string. */
function tmpfsSize(opts: string): string | undefined {
  const size = /(?:^|,)size=([^,]+)/.exec(opts)?.[1];
  return size ? String(memoryBytes(size)) : undefined;
}

/**
 * Applies the container options and `gpuTransport` to a Deployment (its first container):
 * `cpus` → `resources.limits.cpu`, `capAdd`/`capDrop` → `securityContext.capabilities`,
 * `extraHosts` → `hostAliases`, `shmSize` → an in-memory emptyDir at `/dev/shm`, `tmpfs` →
 * in-memory emptyDirs, `cuda_ipc` → `hostIPC` (the runtime setting is already in the env).
 */
export function withContainerOptions(dep: k8s.V1Deployment, v: OptionInputs): k8s.V1Deployment {
  const pod = dep.spec?.template.spec;
  const container = pod?.containers[0];
  if (!pod || !container) return dep;
  if (v.gpuTransport === "cuda_ipc") pod.hostIPC = true;
  const o = v.container;
  if (!o) return dep;
  if (o.cpus !== undefined) {
    container.resources = {
      ...container.resources,
      limits: { ...container.resources?.limits, cpu: String(o.cpus) },
    };
  }
  if (o.capAdd || o.capDrop) {
    container.securityContext = {
      ...container.securityContext,
      capabilities: { add: o.capAdd?.map(capabilityName), drop: o.capDrop?.map(capabilityName) },
    };
  }
  if (o.extraHosts) {
    const byIp = new Map<string, string[]>();
    for (const spec of o.extraHosts) {
      const [host, ip] = parseExtraHost(spec) as [string, string];
      byIp.set(ip, [...(byIp.get(ip) ?? []), host]);
    }
    pod.hostAliases = [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
  }
  const memoryDirs: [string, string, string | undefined][] = [];
  if (o.shmSize !== undefined) memoryDirs.push(["dshm", "/dev/shm", String(memoryBytes(o.shmSize))]);
  (o.tmpfs ?? []).forEach((spec, i) => {
    const [path, opts] = parseTmpfs(spec) as [string, string];
    memoryDirs.push([`tmpfs${i}`, path, tmpfsSize(opts)]);
  });
  for (const [name, mountPath, sizeLimit] of memoryDirs) {
    pod.volumes = [...(pod.volumes ?? []), { name, emptyDir: { medium: "Memory", sizeLimit } }];
    container.volumeMounts = [...(container.volumeMounts ?? []), { name, mountPath }];
  }
  return dep;
}
