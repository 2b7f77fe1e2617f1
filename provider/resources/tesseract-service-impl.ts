// Implementation of the TesseractService dynamic provider. Loaded by name in the provider process
// (see tesseract-service.ts); never serialized, so it may hold schemas, pools and module state.
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { CheckFailure } from "../common/check";
import { UserError } from "../common/errors";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { UNKNOWN } from "../common/unknown";
import { DockerClient } from "../docker/client";
import { type DockerConnection, resolveHost } from "../docker/connection";
import { DockerApiError, DockerUnreachableError } from "../docker/errors";
import { isLocalEngine, type ServiceInputs, unknownTopLevelKeys, validateInputs } from "../serve/args";
import { waitHealthy } from "../serve/health";
import type { KubernetesServiceOutputs } from "../serve/kubernetes/lifecycle";
import type { KubernetesServiceInputs } from "../serve/kubernetes/manifests";
import {
  AUTO_PORT_RANGE,
  isPortConflict,
  isPortFree,
  PORT_ATTEMPTS,
  type PortSpec,
  parsePort,
  pickPort,
  portCount,
  releasePorts,
} from "../serve/ports";
import {
  BUILTIN_NETWORKS,
  containerName,
  containerSpec,
  type ReplicaPlan,
  replicaKeys,
  safeName,
  serviceLabels,
} from "../serve/spec";
import { ensureOutputDir, isUrlPath } from "../serve/volumes";

/** One served container, as recorded in state. */
export interface ContainerRecord {
  /** Replica key, `<image index>-<replica index>`. */
  key: string;
  /** Docker container ID. */
  id: string;
  /** Container name. */
  name: string;
  /** Image served by this container. */
  image: string;
  /** Host port of the Tesseract API. */
  hostPort: number;
  /** Host port of debugpy, when `debug` is on. */
  debugPort?: number;
  /** `running`, or what `read` found instead (`exited`, `missing`, `restarting`, ...). */
  status: string;
}

/** State of a TesseractService: its resolved inputs plus what was created. */
export interface ServiceOutputs extends ServiceInputs {
  serviceId: string;
  /** Engine address the containers run on. */
  engine: string;
  containers: ContainerRecord[];
  url: string;
  urls: string[];
  containerIds: string[];
  containerNames: string[];
  hostPorts: number[];
  debugPorts: number[];
  /** Image IDs the containers were created from, per entry of `images` (or `[image]`). */
  imageIds: string[];
  /** True when this service created `network` (and so removes it on delete). */
  networkCreated: boolean;
}

/** Inputs whose change needs new containers (Docker cannot change them in place). */
export const REPLACE_ON_CHANGES = [
  "image",
  "images",
  "port",
  "hostIp",
  "volumes",
  "inputPath",
  "outputPath",
  "environment",
  "runtimeConfig",
  "outputFormat",
  "user",
  "memory",
  "gpus",
  "numWorkers",
  "network",
  "networkAlias",
  "debug",
  "labels",
  "serviceName",
] as const;

/** Inputs applied in place by `update`: scaling, the restart policy, the health deadline, TLS material. */
export const UPDATE_IN_PLACE = ["replicas", "restartPolicy", "startupTimeout", "docker"] as const;

/** The Kubernetes target's lifecycle, loaded only for services that use it (it loads the Kubernetes client). */
function kubernetesLifecycle(): typeof import("../serve/kubernetes/lifecycle") {
  return require("../serve/kubernetes/lifecycle");
}

// ---- check ------------------------------------------------------------------------------------

export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const unknownKeys = unknownTopLevelKeys(news);
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(news)) if (k !== "__provider" && !unknownKeys.has(k)) known[k] = v;
  const { inputs, failures } = validateInputs(known, unknownKeys, process.cwd());
  if (!inputs) return { inputs: news, failures };
  const merged: Record<string, unknown> = { ...inputs };
  for (const k of unknownKeys) merged[k] = news[k];
  return { inputs: toPlainJson(merged) };
}

/** Validates again in create/update (inputs come from check, but state may be older). */
function resolveInputs(raw: Record<string, unknown>): ServiceInputs {
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== "__provider" && !isOutputKey(k)) known[k] = v;
  const { inputs, failures } = validateInputs(known, new Set(), process.cwd());
  if (!inputs)
    throw new UserError(`TesseractService: invalid inputs:\n${failures.map((f) => `  - ${f.reason}`).join("\n")}`);
  return inputs;
}

const OUTPUT_KEYS = new Set([
  "serviceId",
  "engine",
  "containers",
  "url",
  "urls",
  "containerIds",
  "containerNames",
  "hostPorts",
  "debugPorts",
  "imageIds",
  "networkCreated",
]);
const isOutputKey = (k: string) => OUTPUT_KEYS.has(k);

// ---- diff -------------------------------------------------------------------------------------

function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(toPlainJson(a ?? null), toPlainJson(b ?? null));
}

export async function diff(
  _id: string,
  olds: ServiceOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  if (olds.kubernetes || news.kubernetes)
    return kubernetesLifecycle().diff(olds as unknown as KubernetesServiceOutputs, news);
  const replaces: string[] = [];
  let changes = false;
  for (const key of REPLACE_ON_CHANGES) {
    if (!same((olds as unknown as Record<string, unknown>)[key], news[key])) replaces.push(key);
  }
  const oldDocker = olds.docker as DockerConnection | undefined;
  const newDocker = news.docker as DockerConnection | typeof UNKNOWN | undefined;
  if (newDocker === UNKNOWN || resolveHost(oldDocker) !== resolveHost(newDocker as DockerConnection | undefined)) {
    replaces.push("docker");
  }
  for (const key of UPDATE_IN_PLACE) {
    if (!same((olds as unknown as Record<string, unknown>)[key], news[key])) changes = true;
  }
  // `read` found containers that died or vanished: `update` recreates them.
  if ((olds.containers ?? []).some((c) => c.status !== "running")) changes = true;

  // Same image name, new image (rebuilt under the same tag): the containers must be recreated.
  if (!replaces.includes("image") && !replaces.includes("images") && !replaces.includes("docker")) {
    const names = imageList(news);
    if (names && olds.imageIds?.length === names.length) {
      const docker = DockerClient.for(news.docker as DockerConnection | undefined);
      const current = await Promise.all(names.map((n) => docker.inspectImage(n).catch(() => undefined)));
      if (current.some((img, i) => img && img.Id !== olds.imageIds[i])) {
        replaces.push(news.images !== undefined ? "images" : "image");
      }
    }
  }

  if (replaces.length === 0) return { changes };
  return { changes: true, replaces, deleteBeforeReplace: mustDeleteFirst(olds, news) };
}

/** Known image names of raw inputs, or undefined while any is unknown. */
function imageList(raw: Record<string, unknown>): string[] | undefined {
  const list = raw.images !== undefined ? raw.images : raw.image !== undefined ? [raw.image] : undefined;
  if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === UNKNOWN)) return undefined;
  return list as string[];
}

/**
 * Replacements create the new containers first (no moment without a serving replica), except when
 * the new containers could not get host ports while the old ones hold theirs: a fixed port, or a
 * range too small for both generations.
 */
function mustDeleteFirst(olds: ServiceOutputs, news: Record<string, unknown>): boolean {
  const spec =
    typeof news.port === "string" ? parsePort(news.port) : news.port === undefined ? AUTO_PORT_RANGE : undefined;
  if (!spec || "error" in spec) return false;
  const oldCount = olds.containers?.length ?? 0;
  const newImages = imageList(news)?.length ?? 1;
  const newReplicas = typeof news.replicas === "number" ? news.replicas : 1;
  return portCount(spec) < oldCount + newImages * newReplicas;
}

// ---- create -----------------------------------------------------------------------------------

function secretsOf(inputs: ServiceInputs): (string | undefined)[] {
  return [inputs.docker?.keyPem, inputs.docker?.certPem];
}

function imagesOf(inputs: ServiceInputs): string[] {
  return inputs.images ?? [inputs.image!];
}

/** Address the health check and the URLs use for a published host port. */
function reachableHost(inputs: ServiceInputs): string {
  if (inputs.hostIp !== "0.0.0.0") return inputs.hostIp;
  const host = resolveHost(inputs.docker);
  if (!isLocalEngine(inputs.docker) && host.startsWith("tcp://")) {
    return host.replace(/^tcp:\/\//, "").replace(/:\d+\/?$/, "");
  }
  return "127.0.0.1";
}

function urlOf(inputs: ServiceInputs, port: number): string {
  return `http://${reachableHost(inputs)}:${port}`;
}

/** Checks each image exists on the engine and is a Tesseract; returns their IDs. */
async function checkImages(docker: DockerClient, inputs: ServiceInputs): Promise<string[]> {
  const names = imagesOf(inputs);
  return Promise.all(
    names.map(async (name, i) => {
      const prop = inputs.images ? `images[${i}]` : "image";
      const img = await docker.inspectImage(name);
      if (!img) {
        throw new UserError(
          `${prop}: image "${name}" does not exist on the Docker engine at ${docker.host}. ` +
            "TesseractService never pulls images (fix: build it first, e.g. with TesseractImage, and pass its output; or correct the name)",
        );
      }
      if (!(img.Config?.Env ?? []).some((e) => e.startsWith("TESSERACT_NAME="))) {
        throw new UserError(
          `${prop}: image "${name}" is not a Tesseract: its Config.Env has no TESSERACT_NAME ` +
            "(fix: build it with TesseractImage or `tesseract build`)",
        );
      }
      return img.Id;
    }),
  );
}

function networkOwner(inputs: ServiceInputs): string {
  return [inputs.project ?? "", inputs.stack ?? "", inputs.serviceName].join("/");
}

/**
 * Creates `network` when missing. A network this service created earlier (same project, stack and
 * name, e.g. during a create-before-delete replacement) counts as its own; any other existing
 * network (bridge, one from @pulumi/docker, another service's) is only used.
 */
async function ensureNetwork(docker: DockerClient, inputs: ServiceInputs, progress: Progress): Promise<boolean> {
  const name = inputs.network;
  if (!name || BUILTIN_NETWORKS.has(name)) return false;
  const existing = await docker.inspectNetwork(name);
  if (existing) return existing.Labels?.["pulumi-tesseract.network-owner"] === networkOwner(inputs);
  try {
    await docker.createNetwork(name, {
      ...inputs.labels,
      "pulumi-tesseract.managed": "true",
      "pulumi-tesseract.network-owner": networkOwner(inputs),
    });
    progress.info(`created network ${name}`);
    return true;
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 409) return false; // created concurrently
    throw err;
  }
}

/** Removes a network this service created, unless other containers still use it. */
async function removeOwnNetwork(docker: DockerClient, name: string, progress: Progress): Promise<void> {
  const net = (await docker.inspectNetwork(name)) as { Containers?: Record<string, unknown> | null } | undefined;
  if (!net) return;
  if (net.Containers && Object.keys(net.Containers).length > 0) {
    progress.info(`network ${name} is still used by other containers; leaving it`);
    return;
  }
  try {
    await docker.removeNetwork(name);
    progress.info(`removed network ${name}`);
  } catch (err) {
    progress.warn(`could not remove network ${name}: ${(err as Error).message}`);
  }
}

interface StartRequest {
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
async function startReplica(
  docker: DockerClient,
  inputs: ServiceInputs,
  serviceId: string,
  req: StartRequest,
  progress: Progress,
): Promise<ContainerRecord> {
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
    const url = urlOf(inputs, hostPort);
    progress.info(`started ${req.name} (${req.image}) on ${url}; waiting for GET /health`);
    const outcome = await waitHealthy(docker, id, url, inputs.startupTimeout);
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
    progress.info(`${req.name} healthy at ${url} after ${outcome.seconds.toFixed(2)} s`);
    return { key: req.key, id, name: req.name, image: req.image, hostPort, debugPort, status: "running" };
  }
  throw new UserError(
    `port: Docker reported every picked host port as taken (${attempts} attempts): ${(lastConflict as Error)?.message}`,
  );
}

/** Creates a container; a leftover of the same service with the same name is removed first. */
async function createNamed(
  docker: DockerClient,
  name: string,
  spec: ReturnType<typeof containerSpec>,
  serviceId: string,
): Promise<string> {
  try {
    return await docker.createContainer(name, spec);
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 409) {
      const stale = await docker.inspectContainer(name);
      if (stale?.Config.Labels?.["pulumi-tesseract.service-id"] === serviceId) {
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
async function startAll(
  docker: DockerClient,
  inputs: ServiceInputs,
  serviceId: string,
  reqs: StartRequest[],
  progress: Progress,
): Promise<ContainerRecord[]> {
  const results = await Promise.allSettled(reqs.map((r) => startReplica(docker, inputs, serviceId, r, progress)));
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

function outputsOf(
  inputs: ServiceInputs,
  serviceId: string,
  containers: ContainerRecord[],
  imageIds: string[],
  networkCreated: boolean,
): ServiceOutputs {
  const order = new Map(replicaKeys(imagesOf(inputs).length, inputs.replicas).map((k, i) => [k, i]));
  const sorted = [...containers].sort((a, b) => (order.get(a.key) ?? 1e9) - (order.get(b.key) ?? 1e9));
  const urls = sorted.map((c) => urlOf(inputs, c.hostPort));
  return toPlainJson({
    ...inputs,
    serviceId,
    engine: resolveHost(inputs.docker),
    containers: sorted,
    url: urls[0],
    urls,
    containerIds: sorted.map((c) => c.id),
    containerNames: sorted.map((c) => c.name),
    hostPorts: sorted.map((c) => c.hostPort),
    debugPorts: sorted.flatMap((c) => (c.debugPort !== undefined ? [c.debugPort] : [])),
    imageIds,
    networkCreated,
  });
}

function requestsFor(
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

export async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
  const inputs = resolveInputs(raw);
  if (inputs.kubernetes) return kubernetesLifecycle().create(inputs as KubernetesServiceInputs);
  const progress = new Progress(`TesseractService ${inputs.serviceName}`, secretsOf(inputs));
  const docker = DockerClient.for(inputs.docker);
  const imageIds = await checkImages(docker, inputs);
  if (inputs.outputPath && !isUrlPath(inputs.outputPath) && isLocalEngine(inputs.docker))
    ensureOutputDir(inputs.outputPath);
  const serviceId = `${safeName(inputs.serviceName)}-${randomBytes(3).toString("hex")}`;
  const keys = replicaKeys(imagesOf(inputs).length, inputs.replicas);
  progress.info(`serving ${imagesOf(inputs).join(", ")} as ${keys.length} container(s) on ${docker.host}`);
  await removeOrphans(docker, inputs, progress);
  const networkCreated = await ensureNetwork(docker, inputs, progress);
  try {
    const containers = await startAll(docker, inputs, serviceId, requestsFor(inputs, serviceId, keys), progress);
    return { id: serviceId, outs: outputsOf(inputs, serviceId, containers, imageIds, networkCreated) };
  } catch (err) {
    if (networkCreated && inputs.network) await removeOwnNetwork(docker, inputs.network, progress);
    throw err;
  }
}

/**
 * A create that failed because the engine went away can leave a `Created` or exited container the
 * engine never let us remove. Before creating, remove such non-running containers of the same
 * stack, project and service name; running ones belong to a live service (e.g. the old side of a
 * create-before-delete replacement) and are left alone.
 */
async function removeOrphans(docker: DockerClient, inputs: ServiceInputs, progress: Progress): Promise<void> {
  if (!inputs.stack || !inputs.project) return;
  const found = await docker.listContainers({
    label: [
      "pulumi-tesseract.managed=true",
      `pulumi-tesseract.service=${inputs.serviceName}`,
      `pulumi-tesseract.stack=${inputs.stack}`,
      `pulumi-tesseract.project=${inputs.project}`,
    ],
  });
  for (const c of found.filter((c) => c.State !== "running")) {
    await docker.removeContainer(c.Id);
    progress.info(`removed ${c.Names[0]?.replace(/^\//, "") ?? c.Id} (${c.State}), left by an earlier failed create`);
  }
}

// ---- read -------------------------------------------------------------------------------------

/**
 * Status of a container as `read` reports it: `running` only when running, not restarting and
 * still attached to the service's user network (a network removed by hand detaches it).
 */
async function statusOf(docker: DockerClient, id: string, network?: string): Promise<string> {
  const info = await docker.inspectContainer(id);
  if (!info) return "missing";
  if (!info.State.Running || info.State.Status === "restarting") return info.State.Status || "stopped";
  if (network && !BUILTIN_NETWORKS.has(network) && !(network in (info.NetworkSettings.Networks ?? {}))) {
    return "detached";
  }
  return "running";
}

/**
 * Refresh: re-inspects every container. Dead or vanished replicas keep their record with a status
 * other than `running`; `diff` then reports a change and `update` recreates them (on the same
 * host port when it is still free), so `pulumi up --refresh` heals the service in place.
 */
export async function read(id: string, props: ServiceOutputs): Promise<pulumi.dynamic.ReadResult> {
  if (props.kubernetes) return kubernetesLifecycle().read(id, props as unknown as KubernetesServiceOutputs);
  const docker = DockerClient.for(props.docker);
  const containers = await Promise.all(
    (props.containers ?? []).map(async (c) => ({ ...c, status: await statusOf(docker, c.id, props.network) })),
  );
  return { id, props: toPlainJson({ ...props, containers }) };
}

// ---- update -----------------------------------------------------------------------------------

/**
 * In place: scales `replicas` up or down, recreates replicas that died or vanished, and applies a
 * new restart policy through `POST /containers/{id}/update`. Returns the full outputs.
 */
export async function update(
  id: string,
  olds: ServiceOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult> {
  const inputs = resolveInputs(news);
  if (inputs.kubernetes)
    return kubernetesLifecycle().update(olds as unknown as KubernetesServiceOutputs, inputs as KubernetesServiceInputs);
  const progress = new Progress(`TesseractService ${inputs.serviceName}`, secretsOf(inputs));
  const docker = DockerClient.for(inputs.docker);
  const serviceId = olds.serviceId ?? id;
  const keys = replicaKeys(imagesOf(inputs).length, inputs.replicas);
  const wanted = new Set(keys);
  const keep: ContainerRecord[] = [];
  const prefer = new Map<string, number>();
  const [policy, retries] = inputs.restartPolicy.split(":");
  for (const c of olds.containers ?? []) {
    if (!wanted.has(c.key)) {
      await docker.removeContainer(c.id);
      progress.info(`removed ${c.name} (scaled down)`);
      continue;
    }
    const status = await statusOf(docker, c.id, inputs.network);
    if (status === "running") {
      if (inputs.restartPolicy !== olds.restartPolicy) {
        await docker.updateContainer(c.id, {
          RestartPolicy: { Name: policy, ...(retries ? { MaximumRetryCount: Number(retries) } : {}) },
        });
      }
      keep.push({ ...c, status });
    } else {
      progress.info(`${c.name} is ${status}; recreating it`);
      await docker.removeContainer(c.id);
      prefer.set(c.key, c.hostPort);
    }
  }
  const have = new Set(keep.map((c) => c.key));
  const missing = keys.filter((k) => !have.has(k));
  let networkCreated = olds.networkCreated ?? false;
  if (missing.length) {
    await checkImages(docker, inputs);
    if (inputs.outputPath && !isUrlPath(inputs.outputPath) && isLocalEngine(inputs.docker)) {
      ensureOutputDir(inputs.outputPath);
    }
    networkCreated = (await ensureNetwork(docker, inputs, progress)) || networkCreated;
    progress.info(`starting ${missing.length} container(s)`);
  }
  const started = missing.length
    ? await startAll(docker, inputs, serviceId, requestsFor(inputs, serviceId, missing, prefer), progress)
    : [];
  return { outs: outputsOf(inputs, serviceId, [...keep, ...started], olds.imageIds ?? [], networkCreated) };
}

// ---- delete -----------------------------------------------------------------------------------

/**
 * Removes the service's containers with their anonymous volumes (`v=1`; upstream's teardown leaks
 * them), including strays found by label, and the network if this service created it.
 */
export async function remove(id: string, props: ServiceOutputs): Promise<void> {
  if (props.kubernetes) return kubernetesLifecycle().remove(props as unknown as KubernetesServiceOutputs);
  const docker = DockerClient.for(props.docker);
  const progress = new Progress(`TesseractService ${props.serviceName ?? id}`, [
    props.docker?.keyPem,
    props.docker?.certPem,
  ]);
  const ids = new Set((props.containers ?? []).map((c) => c.id));
  const serviceId = props.serviceId ?? id;
  for (const c of await docker.listContainers({ label: [`pulumi-tesseract.service-id=${serviceId}`] })) ids.add(c.Id);
  await Promise.all([...ids].map((cid) => docker.removeContainer(cid)));
  progress.info(`removed ${ids.size} container(s)`);
  if (props.networkCreated && props.network) await removeOwnNetwork(docker, props.network, progress);
}

/** For tests: the check failures of raw inputs (no preview unknowns). */
export function failuresOf(raw: Record<string, unknown>, cwd = process.cwd()): CheckFailure[] {
  return validateInputs(raw, unknownTopLevelKeys(raw), cwd).failures;
}

/** Labels of the service's containers (for tests and tooling). */
export { serviceLabels };
