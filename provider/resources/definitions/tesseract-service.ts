/**
 * TesseractService's definition: its inputs and outputs (with the docs of each field), secret
 * paths and the inputs the resource fills in from its own name, stack and project (the class and
 * the plugin's `prepare` both take them from here). See define.ts for what derives from a
 * definition and DEVELOPING.md "A resource's definition, end to end". The Args derive from the
 * inputs (resources/tesseract-service.ts: `ArgsWithResources`, as `image` and `network` also take
 * a resource); the zod schema that validates them (`serviceSchema`, provider/serve/args.ts) must
 * accept exactly these types: a compile-time check below says so. The diff keys are each target's
 * own (provider/serve: the per-target rules).
 */
import type { z } from "zod";
import type { Assert } from "../../common/inputs";
import type { DockerConnection } from "../../docker/connection";
import type { ServiceInputs, serviceSchema } from "../../serve/args";
import type { ContainerSettings } from "../../serve/container-options";
import type { ContainerRecord } from "../../serve/container-state";
import type { INTERNAL_SERVICE_OUTPUTS, ServiceOutputKey } from "../../serve/serve-target";
import type { SlurmJobRecord } from "../../serve/slurm/state";
import type { ListsKeysOf, SchemaMatches, SecretPath } from "./define";

/**
 * The inputs of a TesseractService, plain (the Args are these with every part an Input; `image`
 * and `network` also take a resource). Give exactly one of `image` or `images`.
 */
export interface TesseractServiceInputFields {
  /**
   * The Tesseract image to serve: a name such as `helloworld:latest`, an image ID, a
   * `TesseractImage`, or an image managed with `@pulumi/docker` (`docker.Image`,
   * `docker.RemoteImage`, recognised by shape: `@pulumi/docker` is an optional peer). A
   * TesseractImage with `push` (or a pushed `docker.Image`) is served by its `repoDigest`, and a
   * `registry/repository@sha256:…` reference the engine lacks is pulled (with `registryAuth`), so
   * one build serves on any engine; images named by tag are never pulled. A pulled image stays
   * on the engine after `destroy` (as built ones do).
   */
  image?: string;
  /** Several Tesseract images served by one resource: `replicas` containers for each, in this order. */
  images?: string[];
  /** Containers per image (default 1). Changing only this scales in place. */
  replicas?: number;
  /**
   * Host port: `"8080"` (fixed; one container only), a range `"8000-8010"` (both ends included, one
   * free port per container), or omitted for free ports in 49152–65535 (retried on conflicts).
   */
  port?: string | number;
  /** Host address the ports are published on (default `127.0.0.1`; `0.0.0.0` for all interfaces). */
  hostIp?: string;
  /** Extra mounts `source:target[:ro|rw]` (default `ro`). Host sources must exist and are made absolute; other sources are Docker volume names. */
  volumes?: string[];
  /** Host directory mounted read-only at `/tesseract/input_data` (sets `TESSERACT_INPUT_PATH`); an fsspec URL only sets the variable. */
  inputPath?: string;
  /** Host directory mounted read-write at `/tesseract/output_data` (sets `TESSERACT_OUTPUT_PATH`), created if missing. */
  outputPath?: string;
  /** Extra environment variables of the containers. */
  environment?: Record<string, string>;
  /** Runtime settings, each passed as `TESSERACT_<KEY>` (booleans as `1`/`0`), e.g. `{profiling: true}`. */
  runtimeConfig?: Record<string, string | number | boolean>;
  /** Default response format when clients send no Accept header: `json`, `json+base64` or `json+binref`. */
  outputFormat?: "json" | "json+base64" | "json+binref";
  /** Container user `uid[:gid]` (default: the host's uid:gid, as `tesseract serve` does). */
  user?: string;
  /** Memory limit in Docker syntax, e.g. `512m` or `2g`. */
  memory?: string;
  /** GPUs: `"all"` or a list of device ids (`["0", "1"]`; an index may be a number), passed as Docker DeviceRequests. */
  gpus?: "all" | (string | number)[];
  /** Uvicorn worker processes per container (`serve --num-workers`). */
  numWorkers?: number;
  /**
   * Docker network to attach to. A missing network is created (and removed with the service); an
   * existing one (e.g. a `docker.Network`'s name) is only used. `host` publishes nothing: the
   * runtime binds the host port itself.
   */
  network?: string;
  /** DNS alias of the containers on `network`, for Tesseracts that call each other. */
  networkAlias?: string;
  /** Debug mode (default false): `TESSERACT_DEBUG=1` (tracebacks, `/test`) and debugpy's port 5678 published on `hostIp`. */
  debug?: boolean;
  /** Seconds to wait for `GET /health` per container (default 30). */
  startupTimeout?: number;
  /** Docker restart policy: `unless-stopped` (default), `always`, `on-failure[:N]` or `no`. Changes apply in place. */
  restartPolicy?: string;
  /** Extra labels on the containers (and on a network the service creates). */
  labels?: Record<string, string>;
  /**
   * Do not wait for `GET /health` after starting a container (upstream's `skip_health_check`;
   * default false): `create` returns as soon as the containers run. Changes apply in place.
   * Refused with `kubernetes` (a rollout waits for its readiness probes).
   */
  skipHealthCheck?: boolean;
  /**
   * GPU transport the runtime enables (upstream's `gpu_transport`, tesseract-core 1.15): `none`
   * (default) or `cuda_ipc` (GPU arrays passed by CUDA IPC handle to clients on the same host that
   * ask for it). Sets `TESSERACT_GPU_TRANSPORT` and the host IPC namespace (`IpcMode: host`; on
   * Kubernetes `hostIPC`); needs `numWorkers` 1.
   */
  gpuTransport?: "none" | "cuda_ipc";
  /**
   * Typed container settings, the equivalents of upstream's `docker_args`: `shmSize`, `ulimits`,
   * `cpus`, `capAdd`, `capDrop`, `devices`, `tmpfs`, `extraHosts`, `logConfig`. Changes replace
   * the containers.
   */
  container?: ContainerSettings;
  /** Docker engine to serve on (default: `DOCKER_HOST` or the local socket). Key material is stored as a secret. */
  docker?: DockerConnection;
  /**
   * Credentials the Docker engine pulls a digest reference with (sent as `X-Registry-Auth`, only
   * to `registry`). Stored as a secret. Changes apply in place. Not with `kubernetes` (use
   * `kubernetes.imagePullSecret`).
   */
  registryAuth?: ServiceRegistryAuthFields;
  /**
   * Serve on a Kubernetes cluster instead of a Docker engine: a Deployment (`replicas` pods,
   * rolling updates that keep every replica serving) and a Service. The image must be pullable by
   * the cluster: give a TesseractImage with `push` (its `repoDigest` is used) or a registry
   * reference. `port` is then the Service's port; Docker-only inputs (`docker`, `network`,
   * `networkAlias`, `hostIp`, `restartPolicy`, `images`) are rejected.
   */
  kubernetes?: KubernetesTargetFields;
  /**
   * Serve as Slurm jobs instead (one job per replica, `slurm.replicas`), reached through the login
   * node over ssh: each job serves the Tesseract on its compute node and is health-checked through
   * a tunnel before `up` returns. `url`/`urls` are the in-cluster addresses (for callers on the
   * cluster); pass `endpoint` to the functions from the deploying machine (a tunnel per call).
   * Environment mode (default) serves the source in `slurm.srcDir` (no `image`); `podman` and
   * `apptainer` serve `image` by digest. Docker and Kubernetes inputs are refused. The private key
   * is stored as a secret. See docs/slurm.md.
   */
  slurm?: SlurmTargetFields;
}

/** How to reach the Slurm login node over ssh (the `slurm.login` input). */
export interface SlurmLoginFields {
  /** Login node host name or address (or a `Host` alias of `sshConfig`). */
  host: string;
  /** ssh port (default 22). */
  port?: number;
  /** Remote user (default: the local user, or the ssh_config's). */
  user?: string;
  /** Private key content (keep it a secret; stored as one). */
  privateKey?: string;
  /** Path of a private key file instead (not both). */
  identityFile?: string;
  /** known_hosts lines for the login node (`ssh-keyscan -p PORT HOST`); default: the user's known_hosts. */
  knownHosts?: string;
  /** `strict` (default: the key must be known) or `accept-new`. */
  hostKeyChecking?: "strict" | "accept-new";
  /** An ssh_config file for `ssh -F` (ProxyJump, aliases). */
  sshConfig?: string;
  /** Seconds an ssh connection may take to open (default 20). */
  connectTimeout?: number;
}

/** The `slurm` input: the login node, what each replica's job asks for, and what runs in it (docs/slurm.md). */
export interface SlurmTargetFields {
  /** How to reach the login node. */
  login: SlurmLoginFields;
  /** `--partition` (default: the cluster's default). */
  partition?: string;
  /** `--account`. */
  account?: string;
  /** `--time` of each job: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`. */
  walltime?: string;
  /** `--cpus-per-task` (default 1). */
  cpusPerTask?: number;
  /** `--mem`, e.g. `4G`. */
  memory?: string;
  /** GPUs per replica (`--gres=gpu:N`). */
  gpus?: number;
  /** GPU type for `--gres=gpu:<type>:N`. */
  gpuType?: string;
  /** Replicas: one job each (default 1). Changing only this scales in place. */
  replicas?: number;
  /** `--nodelist` per replica: replica i runs on `nodes[i % length]`. */
  nodes?: string[];
  /** `--constraint`, a feature expression. */
  constraint?: string;
  /** Further sbatch options, each `--key=value` or `--flag`. */
  sbatchOptions?: string[];
  /** Absolute folder on the cluster's shared file system (default `$HOME/.pulumi-tesseract`). */
  workDir?: string;
  /** Environment mode: the Tesseract's source folder here (holds tesseract_api.py). */
  srcDir?: string;
  /** `environment` (default), `podman` or `apptainer`. */
  mode?: "environment" | "podman" | "apptainer";
  /** Environment mode: the Python on the login node (same path on the nodes; default `python3`). */
  python?: string;
  /** podman/apptainer global options before `run`. */
  runtimeOptions?: string[];
  /** Shell lines run in the job before the server (e.g. `module load apptainer`). */
  setup?: string[];
  /** Seconds for each replica to be scheduled and healthy (default 600). */
  startTimeout?: number;
}

/** Registry credentials a Docker engine pulls with (the service's `registryAuth`). */
export interface ServiceRegistryAuthFields {
  /** Registry host with optional port, no scheme: `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** User name for the registry. */
  username: string;
  /** Password or access token (a secret). */
  password: string;
}

/** Registry credentials the cluster pulls with (a `kubernetes.io/dockerconfigjson` Secret). */
export interface KubernetesPullSecretFields {
  /** Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: string;
  /** User name for the registry. */
  username: string;
  /** Password or token (keep it a secret). */
  password: string;
}

/** A toleration (core/v1 Toleration). */
export interface KubernetesTolerationFields {
  /** Taint key; omitted with `operator: Exists`, every taint. */
  key?: string;
  /** `Equal` (default) or `Exists`. */
  operator?: "Equal" | "Exists";
  /** Taint value for `Equal`. */
  value?: string;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`; omitted: every effect. */
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  /** With `NoExecute`: seconds a pod stays bound after the taint appears. */
  tolerationSeconds?: number;
}

/** Resource requests apart from the limits (Kubernetes quantities). */
export interface KubernetesRequestsFields {
  /** CPU request, e.g. `250m`. */
  cpu?: string;
  /** Memory request, e.g. `256Mi`. */
  memory?: string;
}

/** A PodDisruptionBudget: exactly one of the two, a pod count or `"N%"`. */
export interface KubernetesDisruptionBudgetFields {
  /** Pods that must stay available during drains. */
  minAvailable?: number | string;
  /** Pods that may be unavailable during drains. */
  maxUnavailable?: number | string;
}

/** The object an `Object` metric describes (autoscaling/v2 CrossVersionObjectReference). */
export interface KubernetesMetricObjectFields {
  /** API version, e.g. `v1` or `networking.k8s.io/v1` (default `v1`). */
  apiVersion?: string;
  /** Kind, e.g. `Service` or `Ingress`. */
  kind: string;
  /** Name (in the service's namespace). */
  name: string;
}

/** A custom metric the autoscaler follows (a subset of autoscaling/v2 MetricSpec; needs a metrics adapter). */
export interface KubernetesAutoscalingMetricFields {
  /** `Pods` (per pod, averaged: `averageValue`), `Object` (one object's metric: `object`, `value` or `averageValue`) or `External` (`value` or `averageValue`). */
  type: "Pods" | "Object" | "External";
  /** The metric's name, e.g. `http_requests_per_second`. */
  name: string;
  /** Labels selecting the metric's series (`selector.matchLabels`). */
  selector?: Record<string, string>;
  /** `Object` metrics: the object the metric describes. */
  object?: KubernetesMetricObjectFields;
  /** Target average over the pods, a Kubernetes quantity (e.g. `"10"`, `"500m"`). */
  averageValue?: string;
  /** Target value (`Object`, `External`), a Kubernetes quantity. */
  value?: string;
}

/** Scaling rules of one direction (the stabilization window only). */
export interface KubernetesScalingRulesFields {
  /** Seconds of past recommendations considered before scaling (0–3600). */
  stabilizationWindowSeconds?: number;
}

/** How fast the autoscaler scales: stabilization windows up (default 0 s) and down (default 300 s). */
export interface KubernetesAutoscalingBehaviorFields {
  /** Scaling up (default window 0 s). */
  scaleUp?: KubernetesScalingRulesFields;
  /** Scaling down (default window 300 s). */
  scaleDown?: KubernetesScalingRulesFields;
}

/**
 * A HorizontalPodAutoscaler (autoscaling/v2) for the Deployment. `replicas` is then the initial
 * count only (within the bounds); the provider leaves the count to the autoscaler.
 */
export interface KubernetesAutoscalingFields {
  /** Fewest replicas (default 1). */
  minReplicas?: number;
  /** Most replicas (1–1000). */
  maxReplicas: number;
  /** Target average CPU utilization, percent of the CPU request (1–1000); needs `requests.cpu`, `cpu` or `container.cpus`. */
  cpuUtilization?: number;
  /** Custom metrics (Pods, Object, External). */
  metrics?: KubernetesAutoscalingMetricFields[];
  /** Stabilization windows of scaling up and down. */
  behavior?: KubernetesAutoscalingBehaviorFields;
}

/** The `kubernetes` input: the cluster, the objects' settings and the pods' placement (keep `kubeconfig` content a secret). */
export interface KubernetesTargetFields {
  /** A kubeconfig file path or its YAML content (secret). Default: `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig?: string;
  /** Kubeconfig context (default: its current context). */
  context?: string;
  /** Namespace of the objects (default: the context's, else `default`); it must exist. */
  namespace?: string;
  /** `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType?: "ClusterIP" | "NodePort" | "LoadBalancer";
  /** `IfNotPresent` (default), `Always` or `Never`. */
  imagePullPolicy?: "IfNotPresent" | "Always" | "Never";
  /** Registry credentials for the cluster's pulls. */
  imagePullSecret?: KubernetesPullSecretFields;
  /** CPU request and limit per replica, e.g. `500m`. */
  cpu?: string;
  /** Node labels replicas must be scheduled on. */
  nodeSelector?: Record<string, string>;
  /** Taints the replicas tolerate, e.g. `[{key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"}]`. */
  tolerations?: KubernetesTolerationFields[];
  /** Node and pod (anti-)affinity (core/v1 Affinity: nodeAffinity, podAffinity, podAntiAffinity), passed through. */
  affinity?: Record<string, unknown>;
  /** Annotations of the pods. */
  podAnnotations?: Record<string, string>;
  /** Annotations of the Service. */
  serviceAnnotations?: Record<string, string>;
  /** Resource requests apart from the limits (default: the limits `cpu` and `memory`). */
  requests?: KubernetesRequestsFields;
  /** A PodDisruptionBudget for the replicas: exactly one of `minAvailable` or `maxUnavailable`. */
  podDisruptionBudget?: KubernetesDisruptionBudgetFields;
  /** Merged onto the pod spec for everything else; fields the provider manages are refused. */
  podSpecPatch?: Record<string, unknown>;
  /** Seconds to wait for a rollout (default 300). */
  rolloutTimeout?: number;
  /** A HorizontalPodAutoscaler (CPU utilization or custom metrics); `replicas` is then the initial count. */
  autoscaling?: KubernetesAutoscalingFields;
}

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
] as const satisfies readonly SecretPath<TesseractServiceInputFields>[];

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
/**
 * Compile-time check: the zod schema `check` validates with accepts exactly the inputs defined here
 * (the context inputs left out: the class and `prepare` fill them, not the program).
 */
export type TesseractServiceSchemaMatches = Assert<
  SchemaMatches<Omit<z.input<typeof serviceSchema>, TesseractServiceContextInput>, TesseractServiceInputFields>
>;
