import * as pulumi from "@pulumi/pulumi";
import type { Assert, SameKeys } from "../common/inputs";
import type { DockerConnection } from "../docker/connection";
import type { ServiceInputs } from "../serve/args";
import type { ContainerSettingsInput } from "../serve/container-options";
import type { KubernetesEndpoint } from "../serve/kubernetes/forward";
import type { KubernetesTarget } from "../serve/kubernetes/inputs";
import { SERVICE_OUTPUT_KEYS, type StoredServiceState } from "../serve/serve-target";
import type { SlurmJobRecord } from "../serve/slurm/state";
import type { SlurmEndpoint } from "../serve/slurm/tunnel";
import type { OutputFieldsOf } from "./definitions/define";
import {
  serviceContextInputs,
  TESSERACT_SERVICE_SECRETS,
  type TesseractServiceContainer,
  type TesseractServiceContextInput,
  type TesseractServiceOutputFields,
} from "./definitions/tesseract-service";
import {
  type DockerImageLike,
  type DockerNetworkLike,
  type DockerRemoteImageLike,
  imageReference,
  networkName,
} from "./pulumi-docker";
import { withSecretInputs, withSecretOutputs } from "./secret-inputs";
import { dynamicProvider, urnInput } from "./shim";
import type { TesseractImage } from "./tesseract-image";

/**
 * The provider object Pulumi serializes into state: a module-level singleton whose methods only
 * load the lifecycle module by package name, so no schema, pool or closure state is captured and
 * fixes reach existing resources (including their delete).
 */
const provider = dynamicProvider<ServiceInputs, StoredServiceState>(() =>
  require("pulumi-tesseract/lib/resources/tesseract-service-impl.js"),
);

/** How to reach a Docker engine (shared with TesseractImage); every field may be an Output. */
export type DockerConnectionInput = { [K in keyof DockerConnection]?: pulumi.Input<DockerConnection[K]> };

/** Inputs of a {@link TesseractService}. Give exactly one of `image` or `images`. */
export interface TesseractServiceArgs {
  /**
   * The Tesseract image to serve: a name such as `helloworld:latest`, an image ID, a
   * `TesseractImage`, or an image managed with `@pulumi/docker` (`docker.Image`,
   * `docker.RemoteImage`, recognised by shape: `@pulumi/docker` is an optional peer). A
   * TesseractImage with `push` (or a pushed `docker.Image`) is served by its `repoDigest`, and a
   * `registry/repository@sha256:…` reference the engine lacks is pulled (with `registryAuth`), so
   * one build serves on any engine; images named by tag are never pulled. A pulled image stays
   * on the engine after `destroy` (as built ones do).
   */
  image?: pulumi.Input<string> | TesseractImage | DockerImageLike | DockerRemoteImageLike;
  /** Several Tesseract images served by one resource: `replicas` containers for each, in this order. */
  images?: pulumi.Input<pulumi.Input<string>[]>;
  /** Containers per image (default 1). Changing only this scales in place. */
  replicas?: pulumi.Input<number>;
  /**
   * Host port: `"8080"` (fixed; one container only), a range `"8000-8010"` (both ends included, one
   * free port per container), or omitted for free ports in 49152–65535 (retried on conflicts).
   */
  port?: pulumi.Input<string | number>;
  /** Host address the ports are published on (default `127.0.0.1`; `0.0.0.0` for all interfaces). */
  hostIp?: pulumi.Input<string>;
  /** Extra mounts `source:target[:ro|rw]` (default `ro`). Host sources must exist and are made absolute; other sources are Docker volume names. */
  volumes?: pulumi.Input<pulumi.Input<string>[]>;
  /** Host directory mounted read-only at `/tesseract/input_data` (sets `TESSERACT_INPUT_PATH`); an fsspec URL only sets the variable. */
  inputPath?: pulumi.Input<string>;
  /** Host directory mounted read-write at `/tesseract/output_data` (sets `TESSERACT_OUTPUT_PATH`), created if missing. */
  outputPath?: pulumi.Input<string>;
  /** Extra environment variables of the containers. */
  environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Runtime settings, each passed as `TESSERACT_<KEY>` (booleans as `1`/`0`), e.g. `{profiling: true}`. */
  runtimeConfig?: pulumi.Input<Record<string, pulumi.Input<string | number | boolean>>>;
  /** Default response format when clients send no Accept header: `json`, `json+base64` or `json+binref`. */
  outputFormat?: pulumi.Input<"json" | "json+base64" | "json+binref">;
  /** Container user `uid[:gid]` (default: the host's uid:gid, as `tesseract serve` does). */
  user?: pulumi.Input<string>;
  /** Memory limit in Docker syntax, e.g. `512m` or `2g`. */
  memory?: pulumi.Input<string>;
  /** GPUs: `"all"` or a list of device ids (`["0", "1"]`), passed as Docker DeviceRequests. */
  gpus?: pulumi.Input<"all" | pulumi.Input<string>[]>;
  /** Uvicorn worker processes per container (`serve --num-workers`). */
  numWorkers?: pulumi.Input<number>;
  /**
   * Docker network to attach to. A missing network is created (and removed with the service); an
   * existing one (e.g. a `docker.Network`'s name) is only used. `host` publishes nothing: the
   * runtime binds the host port itself.
   */
  network?: pulumi.Input<string> | DockerNetworkLike;
  /** DNS alias of the containers on `network`, for Tesseracts that call each other. */
  networkAlias?: pulumi.Input<string>;
  /** Debug mode (default false): `TESSERACT_DEBUG=1` (tracebacks, `/test`) and debugpy's port 5678 published on `hostIp`. */
  debug?: pulumi.Input<boolean>;
  /** Seconds to wait for `GET /health` per container (default 30). */
  startupTimeout?: pulumi.Input<number>;
  /** Docker restart policy: `unless-stopped` (default), `always`, `on-failure[:N]` or `no`. Changes apply in place. */
  restartPolicy?: pulumi.Input<string>;
  /** Extra labels on the containers (and on a network the service creates). */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Do not wait for `GET /health` after starting a container (upstream's `skip_health_check`;
   * default false): `create` returns as soon as the containers run. Changes apply in place.
   * Refused with `kubernetes` (a rollout waits for its readiness probes).
   */
  skipHealthCheck?: pulumi.Input<boolean>;
  /**
   * GPU transport the runtime enables (upstream's `gpu_transport`, tesseract-core 1.15): `none`
   * (default) or `cuda_ipc` (GPU arrays passed by CUDA IPC handle to clients on the same host that
   * ask for it). Sets `TESSERACT_GPU_TRANSPORT` and the host IPC namespace (`IpcMode: host`; on
   * Kubernetes `hostIPC`); needs `numWorkers` 1.
   */
  gpuTransport?: pulumi.Input<"none" | "cuda_ipc">;
  /**
   * Typed container settings, the equivalents of upstream's `docker_args`: `shmSize`, `ulimits`,
   * `cpus`, `capAdd`, `capDrop`, `devices`, `tmpfs`, `extraHosts`, `logConfig`. Changes replace
   * the containers.
   */
  container?: pulumi.Input<ContainerSettingsInput>;
  /** Docker engine to serve on (default: `DOCKER_HOST` or the local socket). Key material is stored as a secret. */
  docker?: pulumi.Input<DockerConnectionInput>;
  /**
   * Credentials the Docker engine pulls a digest reference with (sent as `X-Registry-Auth`, only
   * to `registry`). Stored as a secret. Changes apply in place. Not with `kubernetes` (use
   * `kubernetes.imagePullSecret`).
   */
  registryAuth?: pulumi.Input<RegistryAuthInput>;
  /**
   * Serve on a Kubernetes cluster instead of a Docker engine: a Deployment (`replicas` pods,
   * rolling updates that keep every replica serving) and a Service. The image must be pullable by
   * the cluster: give a TesseractImage with `push` (its `repoDigest` is used) or a registry
   * reference. `port` is then the Service's port; Docker-only inputs (`docker`, `network`,
   * `networkAlias`, `hostIp`, `restartPolicy`, `images`) are rejected.
   */
  kubernetes?: pulumi.Input<KubernetesTargetInput>;
  /**
   * Serve as Slurm jobs instead (one job per replica, `slurm.replicas`), reached through the login
   * node over ssh: each job serves the Tesseract on its compute node and is health-checked through
   * a tunnel before `up` returns. `url`/`urls` are the in-cluster addresses (for callers on the
   * cluster); pass `endpoint` to the functions from the deploying machine (a tunnel per call).
   * Environment mode (default) serves the source in `slurm.srcDir` (no `image`); `podman` and
   * `apptainer` serve `image` by digest. Docker and Kubernetes inputs are refused. The private key
   * is stored as a secret. See docs/slurm.md.
   */
  slurm?: pulumi.Input<SlurmTargetInput>;
}

/** How to reach the Slurm login node over ssh (the `slurm.login` input); every field may be an Output. */
export interface SlurmLoginInput {
  /** Login node host name or address (or a `Host` alias of `sshConfig`). */
  host: pulumi.Input<string>;
  /** ssh port (default 22). */
  port?: pulumi.Input<number>;
  /** Remote user (default: the local user, or the ssh_config's). */
  user?: pulumi.Input<string>;
  /** Private key content (keep it a secret; stored as one). */
  privateKey?: pulumi.Input<string>;
  /** Path of a private key file instead (not both). */
  identityFile?: pulumi.Input<string>;
  /** known_hosts lines for the login node (`ssh-keyscan -p PORT HOST`); default: the user's known_hosts. */
  knownHosts?: pulumi.Input<string>;
  /** `strict` (default: the key must be known) or `accept-new`. */
  hostKeyChecking?: pulumi.Input<"strict" | "accept-new">;
  /** An ssh_config file for `ssh -F` (ProxyJump, aliases). */
  sshConfig?: pulumi.Input<string>;
  /** Seconds an ssh connection may take to open (default 20). */
  connectTimeout?: pulumi.Input<number>;
}

/** The `slurm` input: the login node, what each replica's job asks for, and what runs in it (docs/slurm.md). */
export interface SlurmTargetInput {
  /** How to reach the login node. */
  login: pulumi.Input<SlurmLoginInput>;
  /** `--partition` (default: the cluster's default). */
  partition?: pulumi.Input<string>;
  /** `--account`. */
  account?: pulumi.Input<string>;
  /** `--time` of each job: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`. */
  walltime?: pulumi.Input<string>;
  /** `--cpus-per-task` (default 1). */
  cpusPerTask?: pulumi.Input<number>;
  /** `--mem`, e.g. `4G`. */
  memory?: pulumi.Input<string>;
  /** GPUs per replica (`--gres=gpu:N`). */
  gpus?: pulumi.Input<number>;
  /** GPU type for `--gres=gpu:<type>:N`. */
  gpuType?: pulumi.Input<string>;
  /** Replicas: one job each (default 1). Changing only this scales in place. */
  replicas?: pulumi.Input<number>;
  /** `--nodelist` per replica: replica i runs on `nodes[i % length]`. */
  nodes?: pulumi.Input<pulumi.Input<string>[]>;
  /** `--constraint`, a feature expression. */
  constraint?: pulumi.Input<string>;
  /** Further sbatch options, each `--key=value` or `--flag`. */
  sbatchOptions?: pulumi.Input<pulumi.Input<string>[]>;
  /** Absolute folder on the cluster's shared file system (default `$HOME/.pulumi-tesseract`). */
  workDir?: pulumi.Input<string>;
  /** Environment mode: the Tesseract's source folder here (holds tesseract_api.py). */
  srcDir?: pulumi.Input<string>;
  /** `environment` (default), `podman` or `apptainer`. */
  mode?: pulumi.Input<"environment" | "podman" | "apptainer">;
  /** Environment mode: the Python on the login node (same path on the nodes; default `python3`). */
  python?: pulumi.Input<string>;
  /** podman/apptainer global options before `run`. */
  runtimeOptions?: pulumi.Input<pulumi.Input<string>[]>;
  /** Shell lines run in the job before the server (e.g. `module load apptainer`). */
  setup?: pulumi.Input<pulumi.Input<string>[]>;
  /** Seconds for each replica to be scheduled and healthy (default 600). */
  startTimeout?: pulumi.Input<number>;
}

/** Registry credentials a Docker engine pulls with (the service's `registryAuth`). */
export interface RegistryAuthInput {
  /** Registry host with optional port, no scheme: `ghcr.io`, `127.0.0.1:5000`. */
  registry: pulumi.Input<string>;
  /** User name for the registry. */
  username: pulumi.Input<string>;
  /** Password or access token (a secret). */
  password: pulumi.Input<string>;
}

/** Registry credentials the cluster pulls with (a `kubernetes.io/dockerconfigjson` Secret). */
export interface KubernetesPullSecretInput {
  /** Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: pulumi.Input<string>;
  /** User name for the registry. */
  username: pulumi.Input<string>;
  /** Password or token (keep it a secret). */
  password: pulumi.Input<string>;
}

/** A toleration (core/v1 Toleration) with every field an Input. */
export interface KubernetesTolerationInput {
  /** Taint key; omitted with `operator: Exists`, every taint. */
  key?: pulumi.Input<string>;
  /** `Equal` (default) or `Exists`. */
  operator?: pulumi.Input<"Equal" | "Exists">;
  /** Taint value for `Equal`. */
  value?: pulumi.Input<string>;
  /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`; omitted: every effect. */
  effect?: pulumi.Input<"NoSchedule" | "PreferNoSchedule" | "NoExecute">;
  /** With `NoExecute`: seconds a pod stays bound after the taint appears. */
  tolerationSeconds?: pulumi.Input<number>;
}

/** Resource requests apart from the limits (Kubernetes quantities). */
export interface KubernetesRequestsInput {
  /** CPU request, e.g. `250m`. */
  cpu?: pulumi.Input<string>;
  /** Memory request, e.g. `256Mi`. */
  memory?: pulumi.Input<string>;
}

/** A PodDisruptionBudget: exactly one of the two, a pod count or `"N%"`. */
export interface KubernetesDisruptionBudgetInput {
  /** Pods that must stay available during drains. */
  minAvailable?: pulumi.Input<number | string>;
  /** Pods that may be unavailable during drains. */
  maxUnavailable?: pulumi.Input<number | string>;
}

/** {@link KubernetesTarget} with every field an Input (keep `kubeconfig` content a secret). */
export interface KubernetesTargetInput {
  /** A kubeconfig file path or its YAML content (secret). Default: `KUBECONFIG`, else `~/.kube/config`. */
  kubeconfig?: pulumi.Input<string>;
  /** Kubeconfig context (default: its current context). */
  context?: pulumi.Input<string>;
  /** Namespace of the objects (default: the context's, else `default`); it must exist. */
  namespace?: pulumi.Input<string>;
  /** `ClusterIP` (default), `NodePort` or `LoadBalancer`. */
  serviceType?: pulumi.Input<"ClusterIP" | "NodePort" | "LoadBalancer">;
  /** `IfNotPresent` (default), `Always` or `Never`. */
  imagePullPolicy?: pulumi.Input<"IfNotPresent" | "Always" | "Never">;
  /** Registry credentials for the cluster's pulls. */
  imagePullSecret?: pulumi.Input<KubernetesPullSecretInput>;
  /** CPU request and limit per replica, e.g. `500m`. */
  cpu?: pulumi.Input<string>;
  /** Node labels replicas must be scheduled on. */
  nodeSelector?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Taints the replicas tolerate, e.g. `[{key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule"}]`. */
  tolerations?: pulumi.Input<pulumi.Input<KubernetesTolerationInput>[]>;
  /** Node and pod (anti-)affinity (core/v1 Affinity: nodeAffinity, podAffinity, podAntiAffinity), passed through. */
  affinity?: pulumi.Input<Record<string, unknown>>;
  /** Annotations of the pods. */
  podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Annotations of the Service. */
  serviceAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Resource requests apart from the limits (default: the limits `cpu` and `memory`). */
  requests?: pulumi.Input<KubernetesRequestsInput>;
  /** A PodDisruptionBudget for the replicas: exactly one of `minAvailable` or `maxUnavailable`. */
  podDisruptionBudget?: pulumi.Input<KubernetesDisruptionBudgetInput>;
  /** Merged onto the pod spec for everything else; fields the provider manages are refused. */
  podSpecPatch?: pulumi.Input<Record<string, unknown>>;
  /** Seconds to wait for a rollout (default 300). */
  rolloutTimeout?: pulumi.Input<number>;
}

/** Compile-time check: the Args and the schema-inferred plain inputs name the same keys (minus those the class sets). */
export type TesseractServiceArgsMatchInputs = Assert<
  SameKeys<TesseractServiceArgs, Omit<ServiceInputs, TesseractServiceContextInput>>
>;

export type { TesseractServiceContainer };

/**
 * Serves one or several Tesseract images as containers on a Docker engine, like `tesseract serve`
 * but declaratively: health-checked on create, scaled and healed in place, replaced without
 * downtime, torn down with their anonymous volumes.
 *
 * Replaced (new containers) when any of these change: `image(s)` (or the image behind the same
 * tag), `port`, `hostIp`, `volumes`, `inputPath`, `outputPath`, `environment`, `runtimeConfig`,
 * `outputFormat`, `user`, `memory`, `gpus`, `numWorkers`, `network`, `networkAlias`, `debug`,
 * `labels`, `container`, `gpuTransport`, `docker.host`. Updated in place: `replicas`, `restartPolicy`,
 * `startupTimeout`, `skipHealthCheck`, TLS
 * material. Replacement creates the new containers first unless the host ports cannot hold both
 * generations (a fixed port), in which case the old ones are deleted first.
 *
 * On Kubernetes (`kubernetes` set) only a change of cluster, context or namespace replaces (new
 * objects there); everything else, `image` included, rolls the Deployment in place.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below adds only the output fields Pulumi sets on the instance
export class TesseractService extends pulumi.dynamic.Resource {
  /**
   * How a caller outside the cluster reaches the service: pass it as `url` to `apply`,
   * `applyOutput` and the other functions, which then open a port-forward through the API server
   * for the call (spread over the ready pods). A secret when the kubeconfig content is. On Slurm,
   * the functions open a tunnel through the login node to the first running replica per call (a
   * secret when `slurm.login.privateKey` is given). For the Docker target it is the `url`.
   */
  readonly endpoint: pulumi.Output<string | KubernetesEndpoint | SlurmEndpoint>;

  /**
   * @param name Resource name; also the prefix of container names.
   * @param args What to serve and how.
   * @param opts Resource options.
   */
  constructor(name: string, args: TesseractServiceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      // Secret in the state's inputs and outputs (TESSERACT_SERVICE_SECRETS): `docker` (TLS key
      // material), `registryAuth` (its password) and `kubernetes` (kubeconfig content, the pull
      // secret's password).
      withSecretInputs(
        {
          ...args,
          // A pushed image is served by its digest on every target (pulled where absent).
          image: imageReference(args.image),
          network: networkName(args.network),
          ...serviceContextInputs({ name, stack: pulumi.getStack(), project: pulumi.getProject() }),
          // Every output, unknown until the provider answers (the one list, serve-target.ts).
          ...Object.fromEntries(SERVICE_OUTPUT_KEYS.map((k) => [k, undefined])),
          // Hidden: tells the provider process which resource it works for (progress, per-stack defaults).
          __urn: urnInput(name, "tesseract", "TesseractService", opts),
        },
        TESSERACT_SERVICE_SECRETS,
      ),
      withSecretOutputs(opts, TESSERACT_SERVICE_SECRETS),
      "tesseract",
      "TesseractService",
    );
    // Computed in the program from the inputs, so it is a secret exactly when the kubeconfig is.
    const kubernetesOrUrl = pulumi
      .all([pulumi.output(args.kubernetes), this.url, this.namespace, this.service])
      .apply(([k, url, namespace, service]): string | KubernetesEndpoint =>
        k && namespace && service
          ? {
              kind: "kubernetes",
              ...(k.kubeconfig !== undefined ? { kubeconfig: k.kubeconfig } : {}),
              ...(k.context !== undefined ? { context: k.context } : {}),
              namespace,
              service,
              targetPort: 8000,
            }
          : url,
      );
    this.endpoint = args.slurm
      ? (pulumi
          .all([pulumi.output(args.slurm), this.jobs])
          .apply(([s, jobs]) => slurmEndpoint(s, jobs ?? [])) as pulumi.Output<SlurmEndpoint>)
      : kubernetesOrUrl;
  }
}

/** The endpoint of a Slurm-served service: its first running replica (a secret when it holds the key). */
function slurmEndpoint(slurm: pulumi.Unwrap<SlurmTargetInput>, jobs: SlurmJobRecord[]): pulumi.Output<SlurmEndpoint> {
  const job = jobs.find((j) => j.status === "RUNNING") ?? jobs[0];
  const login = Object.fromEntries(Object.entries(slurm.login).filter(([, v]) => v !== undefined));
  const endpoint = {
    kind: "slurm",
    login: login as unknown as SlurmEndpoint["login"],
    host: job?.host ?? "",
    port: job?.port ?? 0,
  } satisfies SlurmEndpoint;
  return slurm.login.privateKey ? pulumi.secret(endpoint) : pulumi.output(endpoint);
}

// The output fields come from the definition (declaration merging: a class's instance type takes
// the members of an interface of the same name), so they are never written twice.
export interface TesseractService extends OutputFieldsOf<TesseractServiceOutputFields> {}
