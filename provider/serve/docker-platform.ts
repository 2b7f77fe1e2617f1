import { randomBytes } from "node:crypto";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import type { Progress } from "../common/log";
import type { DockerConnection } from "../docker/connection";
import { resolveHost } from "../docker/connection";
import { engineHostname } from "../docker/discovery";
import { type ContainerEngine, engineFor } from "../docker/engine";
import type { ImageInspect } from "../docker/types";
import { imagesOf, isLocalEngine, type ServiceInputs } from "./args";
import type { ContainerRecord, ContainerServiceState, ServedSet } from "./container-state";
import type { ContainerPlatform } from "./container-target";
import { waitHealthy } from "./health";
import { ensureNetwork, removeOwnNetwork } from "./network";
import { createOutputDir, removeCreatedOutputDir } from "./output-dir";
import { AUTO_PORT_RANGE, parsePort, portCount } from "./ports";
import { isDigestReference, pullDigest } from "./pull";
import { type ReplicaContext, removeOrphans, requestsFor, startAll, statusOf } from "./replicas";
import { replicaKeys, safeName } from "./spec";
import { isUrlPath } from "./volumes";

/** Seams of {@link DockerPlatform}; the defaults talk to real engines. */
export interface DockerPlatformOptions {
  /** The engine for a connection (default: the shared Docker Engine API client). */
  engineFor?: (conn: DockerConnection | undefined) => ContainerEngine;
  /** The health wait of a started replica (default: `GET /health` polling). */
  waitHealthy?: typeof waitHealthy;
}

/**
 * Serves a TesseractService as containers on a Docker engine: health-checked replicas with host
 * ports, an optional user network it creates and owns, scaling and healing in place.
 */
export class DockerPlatform implements ContainerPlatform {
  private readonly engineOf: (conn: DockerConnection | undefined) => ContainerEngine;
  private readonly health: typeof waitHealthy;

  constructor(options: DockerPlatformOptions = {}) {
    this.engineOf = options.engineFor ?? engineFor;
    this.health = options.waitHealthy ?? waitHealthy;
  }

  address(inputs: ServiceInputs): string {
    return resolveHost(inputs.docker);
  }

  url(inputs: ServiceInputs, replica: Pick<ContainerRecord, "hostPort">): string {
    return `http://${reachableHost(inputs)}:${replica.hostPort}`;
  }

  async create(inputs: ServiceInputs, progress: Progress): Promise<ServedSet> {
    const engine = this.engineOf(inputs.docker);
    const pulled: string[] = [];
    const imageIds = await checkImages(engine, inputs, progress, pulled);
    const outputDirCreated =
      inputs.outputPath && !isUrlPath(inputs.outputPath) && isLocalEngine(inputs.docker)
        ? createOutputDir(inputs.outputPath)
        : undefined;
    const serviceId = `${safeName(inputs.serviceName)}-${randomBytes(3).toString("hex")}`;
    const keys = replicaKeys(imagesOf(inputs).length, inputs.replicas);
    progress.info(`serving ${imagesOf(inputs).join(", ")} as ${keys.length} container(s) on ${engine.host}`);
    let networkCreated = false;
    try {
      await removeOrphans(engine, inputs, progress);
      networkCreated = await ensureNetwork(engine, inputs, progress);
      const containers = await startAll(
        this.context(engine, inputs, serviceId, progress),
        requestsFor(inputs, serviceId, keys),
      );
      return { serviceId, containers, imageIds, networkCreated, ...(outputDirCreated ? { outputDirCreated } : {}) };
    } catch (err) {
      if (networkCreated && inputs.network) await removeOwnNetwork(engine, inputs.network, progress);
      if (outputDirCreated && inputs.outputPath)
        await removeCreatedOutputDir(engine, outputDirCreated, inputs.outputPath, progress);
      await removePulled(engine, pulled, progress);
      throw err;
    }
  }

  async read(state: ContainerServiceState): Promise<ContainerRecord[]> {
    const engine = this.engineOf(state.docker);
    return Promise.all(
      (state.containers ?? []).map(async (c) => ({ ...c, status: await statusOf(engine, c.id, state.network) })),
    );
  }

  /**
   * Scales `replicas` up or down, recreates replicas that died or vanished (on the same host port
   * when it is still free), and applies a new restart policy through `POST /containers/{id}/update`.
   */
  async update(state: ContainerServiceState, inputs: ServiceInputs, progress: Progress): Promise<ServedSet> {
    const engine = this.engineOf(inputs.docker);
    const serviceId = state.serviceId;
    const keys = replicaKeys(imagesOf(inputs).length, inputs.replicas);
    const wanted = new Set(keys);
    const keep: ContainerRecord[] = [];
    const prefer = new Map<string, number>();
    const [policy, retries] = inputs.restartPolicy.split(":");
    for (const c of state.containers ?? []) {
      if (!wanted.has(c.key)) {
        await engine.removeContainer(c.id);
        progress.info(`removed ${c.name} (scaled down)`);
        continue;
      }
      const status = await statusOf(engine, c.id, inputs.network);
      if (status === "running") {
        if (inputs.restartPolicy !== state.restartPolicy) {
          await engine.updateContainer(c.id, {
            RestartPolicy: { Name: policy, ...(retries ? { MaximumRetryCount: Number(retries) } : {}) },
          });
        }
        keep.push({ ...c, status });
      } else {
        progress.info(`${c.name} is ${status}; recreating it`);
        await engine.removeContainer(c.id);
        prefer.set(c.key, c.hostPort);
      }
    }
    const have = new Set(keep.map((c) => c.key));
    const missing = keys.filter((k) => !have.has(k));
    let networkCreated = state.networkCreated ?? false;
    let outputDirCreated = state.outputDirCreated;
    if (missing.length) {
      // A healed or added replica on an engine that lost the image (pruned) pulls its digest again.
      await checkImages(engine, inputs, progress, []);
      if (inputs.outputPath && !isUrlPath(inputs.outputPath) && isLocalEngine(inputs.docker)) {
        outputDirCreated = createOutputDir(inputs.outputPath) ?? outputDirCreated;
      }
      networkCreated = (await ensureNetwork(engine, inputs, progress)) || networkCreated;
      progress.info(`starting ${missing.length} container(s)`);
    }
    const started = missing.length
      ? await startAll(
          this.context(engine, inputs, serviceId, progress),
          requestsFor(inputs, serviceId, missing, prefer),
        )
      : [];
    return {
      serviceId,
      containers: [...keep, ...started],
      imageIds: state.imageIds ?? [],
      networkCreated,
      ...(outputDirCreated ? { outputDirCreated } : {}),
    };
  }

  /**
   * Removes the service's containers with their anonymous volumes (`v=1`; upstream's teardown
   * leaks them), including strays found by label, and the network if this service created it.
   */
  async remove(state: ContainerServiceState, progress: Progress): Promise<void> {
    const engine = this.engineOf(state.docker);
    const ids = new Set((state.containers ?? []).map((c) => c.id));
    for (const c of await engine.listContainers({ label: [`${LABELS.serviceId}=${state.serviceId}`] })) ids.add(c.Id);
    await Promise.all([...ids].map((cid) => engine.removeContainer(cid)));
    progress.info(`removed ${ids.size} container(s)`);
    if (state.networkCreated && state.network) await removeOwnNetwork(engine, state.network, progress);
    if (state.outputDirCreated && state.outputPath)
      await removeCreatedOutputDir(engine, state.outputDirCreated, state.outputPath, progress);
  }

  async imagesChanged(
    state: ContainerServiceState,
    imageNames: string[],
    news: Record<string, unknown>,
  ): Promise<boolean> {
    if (state.imageIds?.length !== imageNames.length) return false;
    const engine = this.engineOf(news.docker as DockerConnection | undefined);
    const current = await Promise.all(imageNames.map((n) => engine.inspectImage(n).catch(() => undefined)));
    return current.some((img, i) => img && img.Id !== state.imageIds[i]);
  }

  /**
   * Replacements create the new containers first (no moment without a serving replica), except
   * when the new containers could not get host ports while the old ones hold theirs: a fixed port,
   * or a range too small for both generations.
   */
  mustDeleteFirst(state: ContainerServiceState, news: Record<string, unknown>, imageCount: number): boolean {
    const spec =
      typeof news.port === "string" ? parsePort(news.port) : news.port === undefined ? AUTO_PORT_RANGE : undefined;
    if (!spec || "error" in spec) return false;
    const oldCount = state.containers?.length ?? 0;
    const newReplicas = typeof news.replicas === "number" ? news.replicas : 1;
    return portCount(spec) < oldCount + imageCount * newReplicas;
  }

  private context(
    engine: ContainerEngine,
    inputs: ServiceInputs,
    serviceId: string,
    progress: Progress,
  ): ReplicaContext {
    return {
      engine,
      inputs,
      serviceId,
      progress,
      urlOf: (hostPort) => this.url(inputs, { hostPort }),
      waitHealthy: this.health,
    };
  }
}

/** Address the health check and the URLs use for a published host port. */
function reachableHost(inputs: ServiceInputs): string {
  if (inputs.hostIp !== "0.0.0.0") return inputs.hostIp;
  // A remote engine (tcp:// or ssh://) publishes on its own machine.
  const remote = isLocalEngine(inputs.docker) ? undefined : engineHostname(resolveHost(inputs.docker));
  return remote ?? "127.0.0.1";
}

/**
 * Checks each image exists on the engine and is a Tesseract; returns their IDs. A digest
 * reference (`registry/repo@sha256:…`) the engine lacks is pulled first (its name goes to
 * `pulled`); any other missing image is an error, since a tag may name another image tomorrow.
 */
async function checkImages(
  engine: ContainerEngine,
  inputs: ServiceInputs,
  progress: Progress,
  pulled: string[],
): Promise<string[]> {
  const ids: string[] = [];
  try {
    // One after the other: the same digest listed twice is pulled once.
    for (const [i, name] of imagesOf(inputs).entries()) {
      const prop = inputs.images ? `images[${i}]` : "image";
      let img = await engine.inspectImage(name);
      if (!img && isDigestReference(name)) {
        await pullDigest(engine, name, prop, inputs.registryAuth, progress);
        pulled.push(name);
        img = await engine.inspectImage(name);
      }
      if (!img) {
        throw new UserError(
          `${prop}: image "${name}" does not exist on the Docker engine at ${engine.host}. ` +
            "TesseractService never pulls images by tag, only pushed digests (fix: build it first, e.g. with TesseractImage, " +
            "and pass its output; or give a TesseractImage with `push` or a `registry/repository@sha256:…` reference, " +
            "which is pulled when absent; or correct the name)",
          { property: prop },
        );
      }
      ids.push(checkTesseract(img, name, prop));
    }
  } catch (err) {
    await removePulled(engine, pulled, progress);
    throw err;
  }
  return ids;
}

/** The image's ID when it is a Tesseract (TESSERACT_NAME in its env), else a UserError. */
function checkTesseract(img: ImageInspect, name: string, prop: string): string {
  if (!(img.Config?.Env ?? []).some((e) => e.startsWith("TESSERACT_NAME="))) {
    throw new UserError(
      `${prop}: image "${name}" is not a Tesseract: its Config.Env has no TESSERACT_NAME ` +
        "(fix: build it with TesseractImage or `tesseract build`)",
      { property: prop },
    );
  }
  return img.Id;
}

/**
 * After a failed create: removes the images this create pulled, so a failure leaves nothing behind.
 * Without force, so an image that something else started using meanwhile stays (Docker answers
 * 409); a removal that fails is only reported.
 */
async function removePulled(engine: ContainerEngine, pulled: string[], progress: Progress): Promise<void> {
  for (const name of pulled.splice(0)) {
    await engine.removeImage(name).then(
      () => progress.info(`removed the pulled ${name}`),
      () => progress.info(`kept the pulled ${name} (in use)`),
    );
  }
}
