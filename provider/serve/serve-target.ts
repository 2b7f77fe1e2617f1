import type * as pulumi from "@pulumi/pulumi";
import type { Assert, SameKeys } from "../common/inputs";
import type { Progress } from "../common/log";
import type { ServiceInputs } from "./args";

/**
 * Every key a TesseractService's state adds to its inputs, on either target: the one list from
 * which the resource's output placeholders and the keys dropped when state is read back as inputs
 * derive. Compile-time checks keep it equal to the container target's outputs plus the Kubernetes
 * ones (here and in kubernetes/kubernetes-target.ts) and to the resource's fields.
 */
export const SERVICE_OUTPUT_KEYS = [
  "serviceId",
  "engine",
  "url",
  "urls",
  "containers",
  "containerIds",
  "containerNames",
  "hostPorts",
  "debugPorts",
  "imageIds",
  "networkCreated",
  "outputDirCreated",
  "namespace",
  "deployment",
  "service",
  "served",
] as const;
/** A key of {@link SERVICE_OUTPUT_KEYS}. */
export type ServiceOutputKey = (typeof SERVICE_OUTPUT_KEYS)[number];
/** Output keys only the Kubernetes target fills. */
export type KubernetesOnlyOutputKey = "namespace" | "deployment" | "service" | "served";
/** Outputs kept in state for the provider's own use, not exposed as fields of the resource. */
export const INTERNAL_SERVICE_OUTPUTS = ["outputDirCreated", "served"] as const;

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
  /** The outermost folder of `outputPath` the set created (removed on delete, see output-dir.ts). */
  outputDirCreated?: string;
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

/** Compile-time check: the container target's outputs are the list's keys minus the Kubernetes ones. */
export type ContainerOutputsMatchList = Assert<
  SameKeys<
    Omit<ServiceOutputs, keyof ServiceInputs>,
    Record<Exclude<ServiceOutputKey, KubernetesOnlyOutputKey>, unknown>
  >
>;

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

/**
 * Where a TesseractService runs: the seam the service lifecycle
 * (`resources/tesseract-service-impl.ts`) calls for everything after input validation. Each
 * target owns its state shape and its diff rules: `ContainerServeTarget` (replicas on Docker
 * engines, replaced when what they run changes) and `KubernetesServeTarget` (a Deployment and a
 * Service, rolled in place). A new platform adds a class and its branch in `serveTargetFor`
 * (`select.ts`). States are plain JSON objects typed by each target.
 */
export interface ServeTarget {
  /** Diff of the stored state against new inputs: what changes, what replaces. */
  diff(olds: object, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult>;
  /** Serves a new set and returns its ID and state; on failure nothing is left behind. */
  create(inputs: ServiceInputs): Promise<{ id: string; outs: object }>;
  /** Refresh: the state as the platform now sees it (drift shows in the next diff). */
  read(id: string, state: object): Promise<object>;
  /** Applies new inputs in place (scaling, healing, rolling updates). */
  update(id: string, olds: object, inputs: ServiceInputs): Promise<object>;
  /** Removes everything the set created. */
  remove(id: string, state: object): Promise<void>;
}
