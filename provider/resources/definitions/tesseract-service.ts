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
import { z } from "zod";
import type { Assert } from "../../common/inputs";
import { dockerConnectionSchema } from "../../docker/connection";
import type { ServiceInputs } from "../../serve/args";
import { containerOptionsSchema, gpuTransportSchema } from "../../serve/container-options";
import type { ContainerRecord } from "../../serve/container-state";
import { imageRef, RESERVED_LABELS, RESTART } from "../../serve/input-rules";
import type {
  autoscalingBehaviorSchema,
  autoscalingSchema,
  metricObjectSchema,
  metricSchema,
  scalingRulesSchema,
} from "../../serve/kubernetes/autoscaling-inputs";
import { type kubernetesPullSecretSchema, kubernetesTargetSchema } from "../../serve/kubernetes/inputs";
import type {
  podDisruptionBudgetSchema,
  requestsSchema,
  tolerationSchema,
} from "../../serve/kubernetes/scheduling-inputs";
import { registryAuthSchema } from "../../serve/pull";
import type { INTERNAL_SERVICE_OUTPUTS, ServiceOutputKey } from "../../serve/serve-target";
import { MEMORY, memoryBytes } from "../../serve/sizes";
import { type slurmLoginSchema, slurmTargetSchema } from "../../serve/slurm/inputs";
import type { SlurmJobRecord } from "../../serve/slurm/state";
import { field, fields, inputsOn, type ListsKeysOf, type SecretPath } from "./define";

/**
 * TesseractService's inputs: each field's rule, docs (JSDoc) and how a change of it applies on a
 * Docker engine (`field`: `replace` makes new containers, `update` applies in place; `apart`: the
 * targets, judged by the lifecycle, and the context inputs), once; the nested objects' fields in
 * their schemas (serve/kubernetes/inputs.ts, serve/slurm/inputs.ts, serve/container-options.ts,
 * serve/pull.ts). Cross-field rules are in serve/args.ts `validateInputs`; Kubernetes and Slurm
 * diff by their own rules (serve/kubernetes, serve/slurm).
 */
export const serviceSchema = z.strictObject(
  fields({
    /**
     * The Tesseract image to serve: a name such as `helloworld:latest`, an image ID, a
     * `TesseractImage`, or an image managed with `@pulumi/docker` (`docker.Image`,
     * `docker.RemoteImage`, recognised by shape: `@pulumi/docker` is an optional peer). A
     * TesseractImage with `push` (or a pushed `docker.Image`) is served by its `repoDigest`, and a
     * `registry/repository@sha256:…` reference the engine lacks is pulled (with `registryAuth`), so
     * one build serves on any engine; images named by tag are never pulled. A pulled image stays
     * on the engine after `destroy` (as built ones do).
     */
    image: field("replace", imageRef.optional()),
    /** Several Tesseract images served by one resource: `replicas` containers for each, in this order. */
    images: field("replace", z.array(imageRef).min(1, "must list at least one image").optional()),
    /** Containers per image (default 1). Changing only this scales in place. */
    replicas: field(
      "update",
      z
        .number()
        .int("must be a whole number")
        .min(1, "must be at least 1 (fix: delete the resource to stop serving)")
        .max(100, "must be at most 100")
        .default(1),
    ),
    /**
     * Host port: `"8080"` (fixed; one container only), a range `"8000-8010"` (both ends included, one
     * free port per container), or omitted for free ports in 49152–65535 (retried on conflicts).
     */
    port: field(
      "replace",
      z
        .union([z.string(), z.number()])
        .transform((v) => String(v).trim())
        .optional(),
    ),
    /** Host address the ports are published on (default `127.0.0.1`; `0.0.0.0` for all interfaces). */
    hostIp: field(
      "replace",
      z.ipv4("must be an IPv4 address (fix: 127.0.0.1, or 0.0.0.0 for all interfaces)").default("127.0.0.1"),
    ),
    /** Extra mounts `source:target[:ro|rw]` (default `ro`). Host sources must exist and are made absolute; other sources are Docker volume names. */
    volumes: field("replace", z.array(z.string()).optional()),
    /** Host directory mounted read-only at `/tesseract/input_data` (sets `TESSERACT_INPUT_PATH`); an fsspec URL only sets the variable. */
    inputPath: field("replace", z.string().min(1, "must not be empty").optional()),
    /** Host directory mounted read-write at `/tesseract/output_data` (sets `TESSERACT_OUTPUT_PATH`), created if missing. */
    outputPath: field("replace", z.string().min(1, "must not be empty").optional()),
    // Each bad name is reported at its own path, so no failure points at the whole (maybe secret) map.
    /** Extra environment variables of the containers. */
    environment: field(
      "replace",
      z
        .record(z.string(), z.string())
        .superRefine((r, ctx) => {
          for (const k of Object.keys(r))
            if (!/^[^=\s]+$/.test(k))
              ctx.addIssue({
                code: "custom",
                path: [k],
                message: "variable names must not be empty or contain `=` or spaces (fix: e.g. API_TOKEN)",
              });
        })
        .optional(),
    ),
    /** Runtime settings, each passed as `TESSERACT_<KEY>` (booleans as `1`/`0`), e.g. `{profiling: true}`. */
    runtimeConfig: field(
      "replace",
      z
        .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
        .refine((r) => Object.keys(r).every((k) => /^[A-Za-z][A-Za-z0-9_]*$/.test(k)), {
          message: "keys must be identifiers such as `profiling`",
        })
        .optional(),
    ),
    /** Default response format when clients send no Accept header: `json`, `json+base64` or `json+binref`. */
    outputFormat: field(
      "replace",
      z
        .enum(["json", "json+base64", "json+binref"], {
          message: 'must be "json", "json+base64" or "json+binref"',
        })
        .optional(),
    ),
    /** Container user `uid[:gid]` (default: the host's uid:gid, as `tesseract serve` does). */
    user: field(
      "replace",
      z
        .string()
        .regex(/^[\w.-]+(?::[\w.-]+)?$/, 'must be "uid", "uid:gid" or a user name (fix: e.g. "1000:1000")')
        .optional(),
    ),
    /** Memory limit in Docker syntax, e.g. `512m` or `2g`. */
    memory: field(
      "replace",
      z
        .string()
        .regex(MEMORY, 'must be a number with an optional unit b, k, m or g (fix: e.g. "512m" or "2g")')
        .refine((v) => !MEMORY.test(v) || memoryBytes(v) >= 6 * 1024 ** 2, {
          message: 'must be at least 6m, Docker\'s minimum (fix: e.g. "512m")',
        })
        .optional(),
    ),
    /** GPUs: `"all"` or a list of device ids (`["0", "1"]`; an index may be a number), passed as Docker DeviceRequests. */
    gpus: field(
      "replace",
      z
        .union([
          z.literal("all"),
          z
            .array(
              z
                .union([z.string(), z.number()])
                .transform((v) => String(v))
                .refine((v) => /^(\d+|GPU-[0-9a-fA-F-]+)$/.test(v), {
                  message: 'GPU ids must be indexes ("0") or UUIDs ("GPU-...")',
                }),
            )
            .min(1, 'must list at least one GPU id, or be "all"'),
        ])
        .optional(),
    ),
    /** Uvicorn worker processes per container (`serve --num-workers`). */
    numWorkers: field("replace", z.number().int("must be a whole number").min(1, "must be at least 1").optional()),
    /**
     * Docker network to attach to. A missing network is created (and removed with the service); an
     * existing one (e.g. a `docker.Network`'s name) is only used. `host` publishes nothing: the
     * runtime binds the host port itself.
     */
    network: field(
      "replace",
      z
        .string()
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "is not a valid Docker network name")
        .refine((v) => v !== "none", {
          message: 'cannot be "none": the service must be reachable for its health check',
        })
        .optional(),
    ),
    /** DNS alias of the containers on `network`, for Tesseracts that call each other. */
    networkAlias: field(
      "replace",
      z
        .string()
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "is not a valid DNS alias")
        .optional(),
    ),
    /** Debug mode (default false): `TESSERACT_DEBUG=1` (tracebacks, `/test`) and debugpy's port 5678 published on `hostIp`. */
    debug: field("replace", z.boolean().default(false)),
    /** Seconds to wait for `GET /health` per container (default 30). */
    startupTimeout: field(
      "update",
      z
        .number()
        .positive("must be more than 0 seconds (fix: e.g. 120 for slow-starting Tesseracts)")
        .max(3600, "must be at most 3600 seconds")
        .default(30),
    ),
    /** Docker restart policy: `unless-stopped` (default), `always`, `on-failure[:N]` or `no`. Changes apply in place. */
    restartPolicy: field(
      "update",
      z
        .string()
        .regex(RESTART, 'must be "no", "always", "unless-stopped" or "on-failure[:N]"')
        .default("unless-stopped"),
    ),
    /** Extra labels on the containers (and on a network the service creates). */
    labels: field(
      "replace",
      z
        .record(z.string(), z.string())
        .refine((r) => Object.keys(r).every((k) => !RESERVED_LABELS.includes(k)), {
          message: `must not use the provider's own keys (${RESERVED_LABELS.join(", ")})`,
        })
        .optional(),
    ),
    // Optional without a default: existing state has no value, and `undefined` means false.
    /**
     * Do not wait for `GET /health` after starting a container (upstream's `skip_health_check`;
     * default false): `create` returns as soon as the containers run. Changes apply in place.
     * Refused with `kubernetes` (a rollout waits for its readiness probes).
     */
    skipHealthCheck: field("update", z.boolean().optional()),
    /**
     * GPU transport the runtime enables (upstream's `gpu_transport`, tesseract-core 1.15): `none`
     * (default) or `cuda_ipc` (GPU arrays passed by CUDA IPC handle to clients on the same host that
     * ask for it). Sets `TESSERACT_GPU_TRANSPORT` and the host IPC namespace (`IpcMode: host`; on
     * Kubernetes `hostIPC`); needs `numWorkers` 1.
     */
    gpuTransport: field("replace", gpuTransportSchema.optional()),
    /**
     * Typed container settings, the equivalents of upstream's `docker_args`: `shmSize`, `ulimits`,
     * `cpus`, `capAdd`, `capDrop`, `devices`, `tmpfs`, `extraHosts`, `logConfig`. Changes replace
     * the containers.
     */
    container: field("replace", containerOptionsSchema.optional()),
    /** Docker engine to serve on (default: `DOCKER_HOST` or the local socket). Key material is stored as a secret. */
    docker: field("update", dockerConnectionSchema.optional()),
    /**
     * Credentials the Docker engine pulls a digest reference with (sent as `X-Registry-Auth`, only
     * to `registry`). Stored as a secret. Changes apply in place. Not with `kubernetes` (use
     * `kubernetes.imagePullSecret`).
     */
    registryAuth: field("update", registryAuthSchema.optional()),
    /**
     * Serve on a Kubernetes cluster instead of a Docker engine: a Deployment (`replicas` pods,
     * rolling updates that keep every replica serving) and a Service. The image must be pullable by
     * the cluster: give a TesseractImage with `push` (its `repoDigest` is used) or a registry
     * reference. `port` is then the Service's port; Docker-only inputs (`docker`, `network`,
     * `networkAlias`, `hostIp`, `restartPolicy`, `images`) are rejected.
     */
    kubernetes: field("apart", kubernetesTargetSchema.optional()),
    /**
     * Serve as Slurm jobs instead (one job per replica, `slurm.replicas`), reached through the login
     * node over ssh: each job serves the Tesseract on its compute node and is health-checked through
     * a tunnel before `up` returns. `url`/`urls` are the in-cluster addresses (for callers on the
     * cluster); pass `endpoint` to the functions from the deploying machine (a tunnel per call).
     * Environment mode (default) serves the source in `slurm.srcDir` (no `image`); `podman` and
     * `apptainer` serve `image` by digest. Docker and Kubernetes inputs are refused. The private key
     * is stored as a secret. See docs/slurm.md.
     */
    slurm: field("apart", slurmTargetSchema.optional()),
    serviceName: field("replace", z.string().min(1)),
    stack: field("apart", z.string().optional()),
    project: field("apart", z.string().optional()),
  }),
);

/**
 * The inputs of a TesseractService, plain (the Args are these with every part an Input; `image`
 * and `network` also take a resource). Give exactly one of `image` or `images`.
 */
export type TesseractServiceInputFields = Omit<TesseractServiceSchemaInputs, TesseractServiceContextInput>;

/** Every input the schema takes, the context inputs too. */
export type TesseractServiceSchemaInputs = z.input<typeof serviceSchema>;

/** How to reach the Slurm login node over ssh (the `slurm.login` input). */
export type SlurmLoginFields = z.input<typeof slurmLoginSchema>;

/** The `slurm` input: the login node, what each replica's job asks for, and what runs in it (docs/slurm.md). */
export type SlurmTargetFields = z.input<typeof slurmTargetSchema>;

/** Registry credentials a Docker engine pulls with (the service's `registryAuth`). */
export type ServiceRegistryAuthFields = z.input<typeof registryAuthSchema>;

/** Registry credentials the cluster pulls with (a `kubernetes.io/dockerconfigjson` Secret). */
export type KubernetesPullSecretFields = z.input<typeof kubernetesPullSecretSchema>;

/** A toleration (core/v1 Toleration). */
export type KubernetesTolerationFields = z.input<typeof tolerationSchema>;

/** Resource requests apart from the limits (Kubernetes quantities). */
export type KubernetesRequestsFields = z.input<typeof requestsSchema>;

/** A PodDisruptionBudget: exactly one of the two, a pod count or `"N%"`. */
export type KubernetesDisruptionBudgetFields = z.input<typeof podDisruptionBudgetSchema>;

/** A HorizontalPodAutoscaler for the Deployment (the `kubernetes.autoscaling` input); `replicas` is then the initial count. */
export type KubernetesAutoscalingFields = z.input<typeof autoscalingSchema>;

/** A custom metric the autoscaler follows (a subset of autoscaling/v2 MetricSpec; needs a metrics adapter). */
export type KubernetesAutoscalingMetricFields = z.input<typeof metricSchema>;

/** The object an `Object` metric describes (autoscaling/v2 CrossVersionObjectReference). */
export type KubernetesMetricObjectFields = z.input<typeof metricObjectSchema>;

/** How fast the autoscaler scales: stabilization windows up (default 0 s) and down (default 300 s). */
export type KubernetesAutoscalingBehaviorFields = z.input<typeof autoscalingBehaviorSchema>;

/** Scaling rules of one direction (the stabilization window only). */
export type KubernetesScalingRulesFields = z.input<typeof scalingRulesSchema>;

/** The `kubernetes` input: the cluster, the objects' settings and the pods' placement (keep `kubeconfig` content a secret). */
export type KubernetesTargetFields = z.input<typeof kubernetesTargetSchema>;

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

/** Inputs whose change needs new containers on a Docker engine (marked `replace`; Docker cannot change them in place). */
export const CONTAINER_REPLACE_ON_CHANGES: readonly string[] = inputsOn(serviceSchema.shape, "replace");

/** Inputs a Docker engine's containers take in place (marked `update`): scaling, the restart policy, the health wait, TLS material, pull credentials. */
export const CONTAINER_UPDATE_IN_PLACE: readonly string[] = inputsOn(serviceSchema.shape, "update");
