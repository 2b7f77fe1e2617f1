import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import type { Progress } from "../common/log";
import type { ContainerEngine } from "../docker/engine";
import { DockerApiError, DockerUnreachableError } from "../docker/errors";
import { imagesOf, isLocalEngine, type ServiceInputs } from "./args";
import type { ContainerRecord } from "./container-state";
import type { waitHealthy } from "./health";
import {
  AUTO_PORT_RANGE,
  isPortConflict,
  isPortFree,
  PORT_ATTEMPTS,
  type PortSpec,
  parsePort,
  pickPort,
  releasePorts,
} from "./ports";
import { BUILTIN_NETWORKS, containerName, containerSpec, type ReplicaPlan } from "./spec";

/** What starting replicas of one service needs. */
export interface ReplicaContext {
  engine: ContainerEngine;
  inputs: ServiceInputs;
  serviceId: string;
  progress: Progress;
  /** URL of a replica published on `hostPort`. */
  urlOf(hostPort: number): string;
  /** The health wait (`GET /health` polling); a seam for unit tests. */
  waitHealthy: typeof waitHealthy;
}

export interface StartRequest {
  key: string;
  image: string;
  name: string;
  preferPort?: number;
}

function indent(text: string): string {
  const lines = text.trimEnd().split("\n").slice(-30);
  return lines.map((l) => `  | ${l}`).join("\n");
}

/**
 * Creates, starts and health-checks one replica. Auto-picked ports that Docker reports taken are
 * retried (up to 5 picks, as upstream); a fixed port in use is an error naming it. On any failure
 * the container is removed and the error carries its last log lines.
 */
async function startReplica(ctx: ReplicaContext, req: StartRequest): Promise<ContainerRecord> {
  const { engine: docker, inputs, serviceId, progress } = ctx;
  const spec = (inputs.port !== undefined ? parsePort(inputs.port) : AUTO_PORT_RANGE) as PortSpec;
  const local = isLocalEngine(inputs.docker);
  const attempts = spec.kind === "fixed" ? 1 : PORT_ATTEMPTS;
  const avoid = new Set<number>();
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const hostPort = await pickPort(spec, {
      hostIp: inputs.hostIp,
      probe: local,
      avoid,
      prefer: attempt === 1 ? req.preferPort : undefined,
    });
    if (hostPort === undefined) {
      throw new UserError(
        `port: no free host port in ${inputs.port ?? "49152-65535"} on ${inputs.hostIp} ` +
          "(fix: widen the range, free some ports, or omit `port`)",
      );
    }
    const portInUse = (): UserError =>
      new UserError(
        `port: host port ${hostPort} on ${inputs.hostIp} is already in use by another process or container ` +
          '(fix: choose another `port`, a range such as "8000-8010", or omit it to get a free port)',
      );
    if (spec.kind === "fixed" && local && !(await isPortFree(hostPort, inputs.hostIp))) throw portInUse();
    const debugPort = inputs.debug
      ? await pickPort(AUTO_PORT_RANGE, { hostIp: inputs.hostIp, probe: local, avoid })
      : undefined;
    const plan: ReplicaPlan = { name: req.name, image: req.image, key: req.key, hostPort, debugPort };
    let id: string;
    try {
      id = await createNamed(docker, req.name, containerSpec(inputs, serviceId, plan), serviceId);
    } catch (err) {
      releasePorts([hostPort, debugPort]);
      throw err;
    }
    try {
      await docker.startContainer(id);
    } catch (err) {
      releasePorts([hostPort, debugPort]);
      await docker.removeContainer(id).catch(() => false);
      if (!isPortConflict(err)) throw err;
      if (spec.kind === "fixed") throw portInUse();
      progress.info(`host port ${hostPort} was taken meanwhile; picking another (attempt ${attempt}/${attempts})`);
      avoid.add(hostPort);
      if (debugPort !== undefined) avoid.add(debugPort);
      lastConflict = err;
      continue;
    }
    releasePorts([hostPort, debugPort]); // Docker holds them now
    const url = ctx.urlOf(hostPort);
    if (inputs.skipHealthCheck) {
      // upstream's skip_health_check: the container is started and left to come up on its own
      progress.summary(`started ${req.name} (${req.image}) on ${url}; health check skipped (skipHealthCheck)`);
      return { key: req.key, id, name: req.name, image: req.image, hostPort, debugPort, status: "running" };
    }
    progress.info(`started ${req.name} (${req.image}) on ${url}; waiting for GET /health`);
    const outcome = await ctx.waitHealthy(docker, id, url, inputs.startupTimeout);
    if (!outcome.ok) {
      const logs = await docker.containerLogs(id, 40).catch(() => "");
      await docker.removeContainer(id).catch(() => false);
      // A container stopped by a signal while dockerd shuts down is the engine's doing, not the image's.
      if (outcome.reason !== "timeout" && /code 1(37|43)\b/.test(outcome.detail)) {
        await new Promise((r) => setTimeout(r, 1_000));
        if (!(await docker.answers())) {
          throw new DockerUnreachableError(
            docker.host,
            `container ${req.name} ${outcome.detail}`,
            "during the service create",
          );
        }
      }
      const prop = inputs.images ? "images" : "image";
      const hint =
        outcome.reason === "timeout"
          ? ` (input \`startupTimeout\` is ${inputs.startupTimeout} s; raise it for slow-starting Tesseracts)`
          : ` (input \`${prop}\` = ${JSON.stringify(req.image)})`;
      throw new UserError(
        `container ${req.name} ${outcome.detail} before becoming healthy${hint}. The container was removed. ` +
          (logs.trim() ? `Last log lines:\n${indent(logs)}` : "It wrote no logs."),
      );
    }
    progress.summary(`${req.name} healthy at ${url} after ${outcome.seconds.toFixed(2)} s`);
    return { key: req.key, id, name: req.name, image: req.image, hostPort, debugPort, status: "running" };
  }
  throw new UserError(
    `port: Docker reported every picked host port as taken (${attempts} attempts): ${(lastConflict as Error)?.message}`,
  );
}

/** Creates a container; a leftover of the same service with the same name is removed first. */
async function createNamed(
  docker: ContainerEngine,
  name: string,
  spec: ReturnType<typeof containerSpec>,
  serviceId: string,
): Promise<string> {
  try {
    return await docker.createContainer(name, spec);
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 409) {
      const stale = await docker.inspectContainer(name);
      if (stale?.Config.Labels?.[LABELS.serviceId] === serviceId) {
        await docker.removeContainer(stale.Id);
        return docker.createContainer(name, spec);
      }
      throw new UserError(
        `a container named ${name} already exists and does not belong to this service (fix: remove it, or rename the resource)`,
      );
    }
    if (err instanceof DockerApiError && err.statusCode === 404) {
      throw new UserError(`image: "${spec.Image}" disappeared from the engine at ${docker.host} while starting`);
    }
    throw err;
  }
}

/** Starts replicas in parallel; if any fails, the ones started by this call are removed too. */
export async function startAll(ctx: ReplicaContext, reqs: StartRequest[]): Promise<ContainerRecord[]> {
  const docker = ctx.engine;
  const results = await Promise.allSettled(reqs.map((r) => startReplica(ctx, r)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length === 0) return results.map((r) => (r as PromiseFulfilledResult<ContainerRecord>).value);
  for (const r of results) {
    if (r.status === "fulfilled") await docker.removeContainer(r.value.id).catch(() => false);
  }
  const first = failed[0].reason;
  if (failed.length === 1 || !(first instanceof Error)) throw first;
  const others = failed.slice(1).map((f) => (f.reason as Error).message.split("\n")[0]);
  throw new UserError(`${first.message}\n(${others.length} more replica(s) failed: ${others.join("; ")})`);
}

export function requestsFor(
  inputs: ServiceInputs,
  serviceId: string,
  keys: string[],
  prefer?: Map<string, number>,
): StartRequest[] {
  const images = imagesOf(inputs);
  return keys.map((key) => ({
    key,
    image: images[Number(key.split("-")[0])],
    name: containerName(serviceId, key, images.length),
    preferPort: prefer?.get(key),
  }));
}

/**
 * A create that failed because the engine went away can leave a `Created` or exited container the
 * engine never let us remove. Before creating, remove such non-running containers of the same
 * stack, project and service name; running ones belong to a live service (e.g. the old side of a
 * create-before-delete replacement) and are left alone.
 */
export async function removeOrphans(docker: ContainerEngine, inputs: ServiceInputs, progress: Progress): Promise<void> {
  if (!inputs.stack || !inputs.project) return;
  const found = await docker.listContainers({
    label: [
      `${LABELS.managed}=true`,
      `${LABELS.service}=${inputs.serviceName}`,
      `${LABELS.stack}=${inputs.stack}`,
      `${LABELS.project}=${inputs.project}`,
    ],
  });
  for (const c of found.filter((c) => c.State !== "running")) {
    await docker.removeContainer(c.Id);
    progress.info(`removed ${c.Names[0]?.replace(/^\//, "") ?? c.Id} (${c.State}), left by an earlier failed create`);
  }
}

/**
 * Status of a container as `read` reports it: `running` only when running, not restarting and
 * still attached to the service's user network (a network removed by hand detaches it).
 */
export async function statusOf(docker: ContainerEngine, id: string, network?: string): Promise<string> {
  const info = await docker.inspectContainer(id);
  if (!info) return "missing";
  if (!info.State.Running || info.State.Status === "restarting") return info.State.Status || "stopped";
  if (network && !BUILTIN_NETWORKS.has(network) && !(network in (info.NetworkSettings.Networks ?? {}))) {
    return "detached";
  }
  return "running";
}
