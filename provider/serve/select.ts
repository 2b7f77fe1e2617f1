import type { ServiceInputs } from "./args";
import { DockerServeTarget } from "./docker-target";
import type { ServeTarget } from "./target";

const docker = new DockerServeTarget();

/**
 * The serve target for a service's inputs (or state). Today every service runs on a Docker
 * engine; a new target (e.g. Kubernetes) adds its branch here, chosen by an input.
 */
export function serveTargetFor(_inputs: Partial<ServiceInputs> | Record<string, unknown>): ServeTarget {
  return docker;
}
