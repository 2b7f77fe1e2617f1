/**
 * The service lifecycle on a container platform (Docker engines): replicas with host ports,
 * replaced when what they run changes, scaled and healed in place. Its state is
 * `ContainerServiceState` (container-state.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import { diffByKeys } from "../common/diff";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { UNKNOWN } from "../common/unknown";
import { type DockerConnection, resolveHost } from "../docker/connection";
import { CONTAINER_REPLACE_ON_CHANGES, CONTAINER_UPDATE_IN_PLACE } from "../resources/definitions/tesseract-service";
import { imagesOf, type ServiceInputs } from "./args";
import type { ContainerRecord, ContainerServiceInputs, ContainerServiceState, ServedSet } from "./container-state";
import { DockerPlatform } from "./docker-platform";
import type { ServeTarget } from "./serve-target";
import { replicaKeys } from "./spec";

/**
 * A platform that runs a TesseractService's replicas as containers with host ports
 * (`DockerPlatform`: containers on a Docker engine). `ContainerServeTarget` maps the service
 * lifecycle onto it; the replicas are recreated when what they run changes.
 */
export interface ContainerPlatform {
  /** Address of the platform the replicas run on, recorded as the `engine` output. */
  address(inputs: ServiceInputs): string;
  /** URL clients use to reach one replica (the `url`/`urls` outputs). */
  url(inputs: ServiceInputs, replica: ContainerRecord): string;
  /** Serves a new set: every replica started and healthy, or nothing left behind. */
  create(inputs: ServiceInputs, progress: Progress): Promise<ServedSet>;
  /** Refresh: each recorded replica with its current status (`running`, or why not). */
  read(state: ContainerServiceState): Promise<ContainerRecord[]>;
  /** In place: scale up or down, recreate replicas that are not running, apply in-place settings. */
  update(state: ContainerServiceState, inputs: ServiceInputs, progress: Progress): Promise<ServedSet>;
  /** Removes the set (strays found by label included) and what it created for itself. */
  remove(state: ContainerServiceState, progress: Progress): Promise<void>;
  /** Diff: true when an image behind the same names changed (rebuilt under its tag). */
  imagesChanged(state: ContainerServiceState, imageNames: string[], news: Record<string, unknown>): Promise<boolean>;
  /** Diff: true when a replacement must remove the old set first (e.g. host ports cannot hold both). */
  mustDeleteFirst(state: ContainerServiceState, news: Record<string, unknown>, imageCount: number): boolean;
}

/**
 * The diff's keys on a Docker engine: the service's definition marks each input
 * (definitions/tesseract-service.ts: `replace` needs new containers, `update` applies in place).
 */
const REPLACE_ON_CHANGES = CONTAINER_REPLACE_ON_CHANGES;
const UPDATE_IN_PLACE = CONTAINER_UPDATE_IN_PLACE;

export { REPLACE_ON_CHANGES, UPDATE_IN_PLACE };

/** Known image names of raw inputs, or undefined while any is unknown. */
function imageList(raw: Record<string, unknown>): string[] | undefined {
  const list = raw.images !== undefined ? raw.images : raw.image !== undefined ? [raw.image] : undefined;
  if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === UNKNOWN)) return undefined;
  return list as string[];
}

function progressFor(inputs: Pick<ServiceInputs, "docker" | "registryAuth">, name: string): Progress {
  return new Progress(`TesseractService ${name}`, [
    inputs.docker?.keyPem,
    inputs.docker?.certPem,
    inputs.registryAuth?.password,
  ]);
}

export class ContainerServeTarget implements ServeTarget<ContainerServiceInputs, ContainerServiceState> {
  constructor(private readonly platform: ContainerPlatform = new DockerPlatform()) {}

  async diff(olds: ContainerServiceState, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    const { replaces, changed } = diffByKeys(olds, news, { replace: REPLACE_ON_CHANGES, update: UPDATE_IN_PLACE });
    const newDocker = news.docker as DockerConnection | typeof UNKNOWN | undefined;
    if (newDocker === UNKNOWN || resolveHost(olds.docker) !== resolveHost(newDocker as DockerConnection | undefined)) {
      replaces.push("docker");
    }
    // `read` found replicas that died or vanished: `update` recreates them.
    const changes = changed.length > 0 || (olds.containers ?? []).some((c) => c.status !== "running");

    // Same image name, new image (rebuilt under the same tag): the replicas must be recreated.
    if (!replaces.includes("image") && !replaces.includes("images") && !replaces.includes("docker")) {
      const names = imageList(news);
      if (names && (await this.platform.imagesChanged(olds, names, news))) {
        replaces.push(news.images !== undefined ? "images" : "image");
      }
    }
    if (replaces.length === 0) return { changes };
    const imageCount = imageList(news)?.length ?? 1;
    return { changes: true, replaces, deleteBeforeReplace: this.platform.mustDeleteFirst(olds, news, imageCount) };
  }

  async create(inputs: ContainerServiceInputs): Promise<{ id: string; outs: ContainerServiceState }> {
    const served = await this.platform.create(inputs, progressFor(inputs, inputs.serviceName));
    return { id: served.serviceId, outs: this.outputsOf(inputs, served) };
  }

  /**
   * Refresh: re-inspects every replica. Dead or vanished replicas keep their record with a status
   * other than `running`; `diff` then reports a change and `update` recreates them, so
   * `pulumi up --refresh` heals the service in place.
   */
  async read(_id: string, state: ContainerServiceState): Promise<ContainerServiceState> {
    const containers = await this.platform.read(state);
    return toPlainJson({ ...state, containers });
  }

  /** In place: scaling, healing and the restart policy (see the platform's `update`). */
  async update(
    id: string,
    olds: ContainerServiceState,
    inputs: ContainerServiceInputs,
  ): Promise<ContainerServiceState> {
    const state = { ...olds, serviceId: olds.serviceId ?? id };
    const served = await this.platform.update(state, inputs, progressFor(inputs, inputs.serviceName));
    return this.outputsOf(inputs, served);
  }

  async remove(id: string, state: ContainerServiceState): Promise<void> {
    await this.platform.remove(
      { ...state, serviceId: state.serviceId ?? id },
      progressFor(state, state.serviceName ?? id),
    );
  }

  /** The outputs: inputs, the served set, and per-replica lists in image-major, replica order. */
  outputsOf(inputs: ContainerServiceInputs, served: ServedSet): ContainerServiceState {
    const order = new Map(replicaKeys(imagesOf(inputs).length, inputs.replicas).map((k, i) => [k, i]));
    const sorted = [...served.containers].sort((a, b) => (order.get(a.key) ?? 1e9) - (order.get(b.key) ?? 1e9));
    const urls = sorted.map((c) => this.platform.url(inputs, c));
    return toPlainJson({
      ...inputs,
      serviceId: served.serviceId,
      engine: this.platform.address(inputs),
      containers: sorted,
      url: urls[0],
      urls,
      containerIds: sorted.map((c) => c.id),
      containerNames: sorted.map((c) => c.name),
      hostPorts: sorted.map((c) => c.hostPort),
      debugPorts: sorted.flatMap((c) => (c.debugPort !== undefined ? [c.debugPort] : [])),
      imageIds: served.imageIds,
      networkCreated: served.networkCreated,
      outputDirCreated: served.outputDirCreated,
    });
  }
}
