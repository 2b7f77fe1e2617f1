/**
 * TesseractService's definition: its outputs (with the docs of each field), secret paths and the
 * inputs the resource fills in from its own name, stack and project (the class and the plugin's
 * `prepare` both take them from here). See define.ts for what derives from a definition and
 * DEVELOPING.md "A resource's definition, end to end". Not moved yet: the Args (still written in
 * resources/tesseract-service.ts, kept equal to the zod schema's keys by `SameKeys`) and the
 * per-target diff keys (provider/serve: each target's own).
 */
import type { Assert } from "../../common/inputs";
import type { ServiceInputs } from "../../serve/args";
import type { ContainerRecord } from "../../serve/container-state";
import type { INTERNAL_SERVICE_OUTPUTS, ServiceOutputKey } from "../../serve/serve-target";
import type { SlurmJobRecord } from "../../serve/slurm/state";
import type { ListsKeysOf, SecretPath } from "./define";

/** One served container as recorded in state. */
export type TesseractServiceContainer = ContainerRecord;

/**
 * The outputs of a TesseractService (the class's output fields). Each target fills its own (the
 * key lists in provider/serve/serve-target.ts); one only the other target fills is optional.
 */
export interface TesseractServiceOutputFields {
  /** URL of the first container, e.g. `http://127.0.0.1:49733` (Kubernetes: the Service's in-cluster URL). */
  url: string;
  /** URLs of all containers (image-major, then replica; Kubernetes: `[url]`). */
  urls: string[];
  /** Docker target: the container IDs (undefined on Kubernetes). */
  containerIds?: string[];
  /** Docker target: the container names, `<resource name>-<hash>-<replica>` (undefined on Kubernetes). */
  containerNames?: string[];
  /** Docker target: host ports of the API, per container (undefined on Kubernetes). */
  hostPorts?: number[];
  /** Docker target: host ports of debugpy, per container (empty unless `debug`; undefined on Kubernetes). */
  debugPorts?: number[];
  /** Docker target: per-container records including the status `read` last saw (undefined on Kubernetes). */
  containers?: TesseractServiceContainer[];
  /** Docker target: image IDs the containers run, per image (undefined on Kubernetes). */
  imageIds?: string[];
  /** Identifier of the service: the container-name prefix and the `pulumi-tesseract.service-id` label. */
  serviceId: string;
  /** Engine address the containers run on (Kubernetes: the API server's). */
  engine: string;
  /** Docker target: true when this service created its `network` and will remove it (undefined on Kubernetes). */
  networkCreated?: boolean;
  /** Kubernetes target: the namespace of the objects. */
  namespace?: string;
  /** Kubernetes target: the Deployment's name. */
  deployment?: string;
  /** Kubernetes target: the Service's name (`url` is its in-cluster address). */
  service?: string;
  /** Slurm target: the job id of every replica, in replica order (undefined on other targets). */
  jobIds?: string[];
  /** Slurm target: every replica's job (node, address, port, the state `read` last saw). */
  jobs?: SlurmJobRecord[];
}

/**
 * TesseractService: the engine's TLS key, the registry password a Docker engine pulls with, a
 * kubeconfig (its content holds cluster credentials), the pull secret's password, the Slurm login
 * node's private key.
 */
export const TESSERACT_SERVICE_SECRETS = [
  "docker.keyPem",
  "registryAuth.password",
  "kubernetes.kubeconfig",
  "kubernetes.imagePullSecret.password",
  "slurm.login.privateKey",
] as const satisfies readonly SecretPath<ServiceInputs>[];

/** Where a resource is: its name and its stack's and project's (from the program, or from the plugin's URN). */
export interface ResourcePlace {
  name: string;
  stack: string;
  project: string;
}

/**
 * The inputs a TesseractService gets from where it is, not from its Args: the container-name
 * prefix and the labels come from them. The class adds them from the program, the plugin's
 * `prepare` from the request's URN.
 */
export function serviceContextInputs(at: ResourcePlace): Required<Pick<ServiceInputs, TesseractServiceContextInput>> {
  return { serviceName: at.name, stack: at.stack, project: at.project };
}

/** The keys {@link serviceContextInputs} fills (left out of the Args and of the plugin schema's inputs). */
export type TesseractServiceContextInput = "serviceName" | "stack" | "project";

/** Compile-time check: the output fields are the targets' output keys but the internal ones. */
export type TesseractServiceOutputsListed = Assert<
  ListsKeysOf<Exclude<ServiceOutputKey, (typeof INTERNAL_SERVICE_OUTPUTS)[number]>[], TesseractServiceOutputFields>
>;
