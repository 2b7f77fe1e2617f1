import { LABELS } from "../common/labels";
import type { Progress } from "../common/log";
import type { ContainerEngine } from "../docker/engine";
import { DockerApiError } from "../docker/errors";
import type { ServiceInputs } from "./args";
import { BUILTIN_NETWORKS } from "./spec";

/** `project/stack/service`: who created a network, so that only its creator removes it. */
export function networkOwner(inputs: Pick<ServiceInputs, "project" | "stack" | "serviceName">): string {
  return [inputs.project ?? "", inputs.stack ?? "", inputs.serviceName].join("/");
}

/**
 * Creates `network` when missing and says whether this service owns it. A network this service
 * created earlier (same project, stack and name, e.g. during a create-before-delete replacement)
 * counts as its own; any other existing network (bridge, one from @pulumi/docker, another
 * service's) is only used.
 */
export async function ensureNetwork(
  engine: ContainerEngine,
  inputs: ServiceInputs,
  progress: Progress,
): Promise<boolean> {
  const name = inputs.network;
  if (!name || BUILTIN_NETWORKS.has(name)) return false;
  const existing = await engine.inspectNetwork(name);
  if (existing) return existing.Labels?.[LABELS.networkOwner] === networkOwner(inputs);
  try {
    await engine.createNetwork(name, {
      ...inputs.labels,
      [LABELS.managed]: "true",
      [LABELS.networkOwner]: networkOwner(inputs),
    });
    progress.info(`created network ${name}`);
    return true;
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 409) return false; // created concurrently
    throw err;
  }
}

/** Removes a network this service created, unless other containers still use it. */
export async function removeOwnNetwork(engine: ContainerEngine, name: string, progress: Progress): Promise<void> {
  const net = (await engine.inspectNetwork(name)) as { Containers?: Record<string, unknown> | null } | undefined;
  if (!net) return;
  if (net.Containers && Object.keys(net.Containers).length > 0) {
    progress.info(`network ${name} is still used by other containers; leaving it`);
    return;
  }
  try {
    await engine.removeNetwork(name);
    progress.info(`removed network ${name}`);
  } catch (err) {
    progress.warn(`could not remove network ${name}: ${(err as Error).message}`);
  }
}
