import type { Progress } from "../common/log";
import type { ServiceInputs } from "./args";

/** One served replica, as recorded in state. */
export interface ContainerRecord {
  /** Replica key, `<image index>-<replica index>`. */
  key: string;
  /** ID of the replica on its target (a Docker container ID). */
  id: string;
  /** Name of the replica (a container name). */
  name: string;
  /** Image served by this replica. */
  image: string;
  /** Host port of the Tesseract API. */
  hostPort: number;
  /** Host port of debugpy, when `debug` is on. */
  debugPort?: number;
  /** `running`, or what `read` found instead (`exited`, `missing`, `restarting`, ...). */
  status: string;
}

/** What a target serves for one TesseractService: the part of the state a target owns. */
export interface ServedSet {
  /** Identifier of the set (container-name prefix, `pulumi-tesseract.service-id` label). */
  serviceId: string;
  /** The replicas, in any order (the lifecycle orders them). */
  containers: ContainerRecord[];
  /** Image IDs served, per entry of `images` (or `[image]`). */
  imageIds: string[];
  /** True when the set created its `network` (and so removes it). */
  networkCreated: boolean;
}

/** State of a TesseractService: its resolved inputs plus what was created. */
export interface ServiceOutputs extends ServiceInputs, ServedSet {
  /** Address of the target the replicas run on (the Docker engine's). */
  engine: string;
  url: string;
  urls: string[];
  containerIds: string[];
  containerNames: string[];
  hostPorts: number[];
  debugPorts: number[];
}

/**
 * Where a TesseractService's replicas run: the seam between the service lifecycle
 * (`resources/tesseract-service-impl.ts`) and a serving platform. One implementation today,
 * `DockerServeTarget` (containers on a Docker engine); another platform (e.g. Kubernetes) adds a
 * class here and a branch in `serveTargetFor`.
 */
export interface ServeTarget {
  /** Address of the platform the replicas run on, recorded as the `engine` output. */
  address(inputs: ServiceInputs): string;
  /** URL clients use to reach one replica (the `url`/`urls` outputs). */
  url(inputs: ServiceInputs, replica: ContainerRecord): string;
  /** Serves a new set: every replica started and healthy, or nothing left behind. */
  create(inputs: ServiceInputs, progress: Progress): Promise<ServedSet>;
  /** Refresh: each recorded replica with its current status (`running`, or why not). */
  read(state: ServiceOutputs): Promise<ContainerRecord[]>;
  /** In place: scale up or down, recreate replicas that are not running, apply in-place settings. */
  update(state: ServiceOutputs, inputs: ServiceInputs, progress: Progress): Promise<ServedSet>;
  /** Removes the set (strays found by label included) and what it created for itself. */
  remove(state: ServiceOutputs, progress: Progress): Promise<void>;
  /** Diff: true when an image behind the same names changed (rebuilt under its tag). */
  imagesChanged(state: ServiceOutputs, imageNames: string[], news: Record<string, unknown>): Promise<boolean>;
  /** Diff: true when a replacement must remove the old set first (e.g. host ports cannot hold both). */
  mustDeleteFirst(state: ServiceOutputs, news: Record<string, unknown>, imageCount: number): boolean;
}
