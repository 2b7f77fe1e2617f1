import * as pulumi from "@pulumi/pulumi";
import { toPlainJson } from "../common/plain";
import type { DockerConnection } from "../docker/connection";
import type { ServiceInputs } from "../serve/args";
import type { KubernetesEndpoint } from "../serve/kubernetes/forward";
import { SERVICE_OUTPUT_KEYS, type StoredServiceState } from "../serve/serve-target";
import type { SlurmJobRecord } from "../serve/slurm/state";
import type { SlurmEndpoint } from "../serve/slurm/tunnel";
import type { ArgsOf, ArgsWithResources, OutputFieldsOf } from "./definitions/define";
import {
  type KubernetesAutoscalingFields,
  type KubernetesDisruptionBudgetFields,
  type KubernetesPullSecretFields,
  type KubernetesRequestsFields,
  type KubernetesTargetFields,
  type KubernetesTolerationFields,
  type ServiceRegistryAuthFields,
  type SlurmLoginFields,
  type SlurmTargetFields,
  serviceContextInputs,
  TESSERACT_SERVICE_SECRETS,
  type TesseractServiceContainer,
  type TesseractServiceInputFields,
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

/** How to reach a Docker engine (shared with TesseractImage); every part may be an Output. */
export type DockerConnectionInput = ArgsOf<DockerConnection>;

/**
 * Inputs of a {@link TesseractService}: its definition's inputs ({@link TesseractServiceInputFields}),
 * every part an Input; `image` also takes a TesseractImage or an `@pulumi/docker` image, `network` a
 * `docker.Network`. Give exactly one of `image` or `images`.
 */
export interface TesseractServiceArgs
  extends ArgsWithResources<
    TesseractServiceInputFields,
    { image: TesseractImage | DockerImageLike | DockerRemoteImageLike; network: DockerNetworkLike }
  > {}

/** How to reach the Slurm login node over ssh (the `slurm.login` input); every field may be an Output. */
export type SlurmLoginInput = ArgsOf<SlurmLoginFields>;
/** The `slurm` input ({@link SlurmTargetFields}) with every part an Input. */
export type SlurmTargetInput = ArgsOf<SlurmTargetFields>;
/** Registry credentials a Docker engine pulls with (the service's `registryAuth`), every field an Input. */
export type RegistryAuthInput = ArgsOf<ServiceRegistryAuthFields>;
/** Registry credentials the cluster pulls with ({@link KubernetesPullSecretFields}), every field an Input. */
export type KubernetesPullSecretInput = ArgsOf<KubernetesPullSecretFields>;
/** A toleration (core/v1 Toleration) with every field an Input. */
export type KubernetesTolerationInput = ArgsOf<KubernetesTolerationFields>;
/** Resource requests apart from the limits ({@link KubernetesRequestsFields}), every field an Input. */
export type KubernetesRequestsInput = ArgsOf<KubernetesRequestsFields>;
/** A PodDisruptionBudget ({@link KubernetesDisruptionBudgetFields}), every field an Input. */
export type KubernetesDisruptionBudgetInput = ArgsOf<KubernetesDisruptionBudgetFields>;
/** A HorizontalPodAutoscaler ({@link KubernetesAutoscalingFields}), every part an Input. */
export type KubernetesAutoscalingInput = ArgsOf<KubernetesAutoscalingFields>;
/** The `kubernetes` input ({@link KubernetesTargetFields}) with every part an Input (keep `kubeconfig` content a secret). */
export type KubernetesTargetInput = ArgsOf<KubernetesTargetFields>;

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
    // `slurm` given as an Output that comes out empty: not a Slurm service after all.
    this.endpoint = args.slurm
      ? pulumi
          .all([pulumi.output(args.slurm), this.jobs])
          .apply(
            ([s, jobs]): pulumi.Output<string | KubernetesEndpoint | SlurmEndpoint> =>
              s ? slurmEndpoint(s, jobs ?? []) : kubernetesOrUrl,
          )
      : kubernetesOrUrl;
  }
}

/** The endpoint of a Slurm-served service: its first running replica (a secret when it holds the key). */
function slurmEndpoint(slurm: SlurmTargetFields, jobs: SlurmJobRecord[]): pulumi.Output<SlurmEndpoint> {
  const job = jobs.find((j) => j.status === "RUNNING") ?? jobs[0];
  const endpoint = {
    kind: "slurm",
    // The login as given, fields left out dropped (plain JSON, as the endpoint is an output).
    login: toPlainJson(slurm.login),
    host: job?.host ?? "",
    port: job?.port ?? 0,
  } satisfies SlurmEndpoint;
  return slurm.login.privateKey ? pulumi.secret(endpoint) : pulumi.output(endpoint);
}

// The output fields come from the definition (declaration merging: a class's instance type takes
// the members of an interface of the same name), so they are never written twice.
export interface TesseractService extends OutputFieldsOf<TesseractServiceOutputFields> {}
