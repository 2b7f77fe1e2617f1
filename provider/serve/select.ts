import { ContainerServeTarget } from "./container-target";
import type { ServeTarget } from "./serve-target";

const containers = new ContainerServeTarget();

/**
 * The serve target of a service, from its inputs or stored state (diff passes both: moving
 * between targets is the new target's to judge). `kubernetes` set → the Kubernetes target, loaded
 * here on first use so that services on Docker engines never load the Kubernetes client; else
 * containers on Docker engines. A new platform adds its branch here.
 */
export function serveTargetFor(...states: object[]): ServeTarget {
  if (states.some((s) => Boolean((s as { kubernetes?: unknown }).kubernetes))) {
    const k8s: typeof import("./kubernetes/kubernetes-target") = require("./kubernetes/kubernetes-target");
    return k8s.kubernetesServeTarget;
  }
  return containers;
}
