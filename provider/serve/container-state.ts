// The state of the container target (`ContainerServeTarget`, replicas on Docker engines): what a
// container platform serves and what the target stores. Shapes only, no code.
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

/** What a container platform serves for one TesseractService: the part of the state it owns. */
export interface ServedSet {
  /** Identifier of the set (container-name prefix, `pulumi-tesseract.service-id` label). */
  serviceId: string;
  /** The replicas, in any order (the target orders them). */
  containers: ContainerRecord[];
  /** Image IDs served, per entry of `images` (or `[image]`). */
  imageIds: string[];
  /** True when the set created its `network` (and so removes it). */
  networkCreated: boolean;
  /** The outermost folder of `outputPath` the set created (removed on delete, see output-dir.ts). */
  outputDirCreated?: string;
}

/** Inputs of a service on a Docker engine: `kubernetes` and `slurm` unset (they tell the targets apart). */
export type ContainerServiceInputs = ServiceInputs & { kubernetes?: undefined; slurm?: undefined };

/** State of a TesseractService on a Docker engine: its resolved inputs plus what was created. */
export interface ContainerServiceState extends ContainerServiceInputs, ServedSet {
  /** Address of the engine the replicas run on. */
  engine: string;
  /** URL of the first replica. */
  url: string;
  /** URL of every replica (image-major, then replica). */
  urls: string[];
  containerIds: string[];
  containerNames: string[];
  hostPorts: number[];
  debugPorts: number[];
}
