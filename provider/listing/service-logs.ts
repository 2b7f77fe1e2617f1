/**
 * The server logs of a `TesseractService`: what `serverLogs()` is to a `TesseractClient.fromImage`
 * server, for services a stack started. Each container's (Docker) or pod's (Kubernetes) stdout
 * and stderr, the last `tail` lines; the Tesseract's own per-call logs go to its `run_*` folders.
 */
import * as pulumi from "@pulumi/pulumi";
import { UserError } from "../common/errors";
import type { DockerConnection } from "../docker/connection";
import { engineFor } from "../docker/engine";
import type { KubernetesEndpoint } from "../serve/kubernetes/forward";
import type { SlurmEndpoint } from "../serve/slurm/tunnel";

/** Arguments of `getTesseractServiceLogs`: pass the service's outputs. */
export interface TesseractServiceLogsArgs {
  /** The service's `containerIds` (Docker target). */
  containerIds?: string[];
  /** The service's `jobIds` (Slurm target, with its `endpoint`): each job's output file is read on the login node. */
  jobIds?: string[];
  /** Slurm target: the service's `slurm.workDir` when it is not the default `$HOME/.pulumi-tesseract`. */
  slurmWorkDir?: string;
  /**
   * The service's `endpoint`. On a Kubernetes target it names the Service, whose pods (ready or
   * not: a crashing pod's log is the one you want) are read through the API server; a plain URL
   * (Docker target) adds nothing to `containerIds`. On a Slurm target it says how to reach the
   * login node, where the output of each of `jobIds` is read.
   */
  endpoint?: string | KubernetesEndpoint | SlurmEndpoint;
  /** The engine the containers run on (the service's `docker` input). Default: `DOCKER_HOST`, else the local socket. */
  docker?: DockerConnection;
  /** Lines from the end of each log. Default 1000. */
  tail?: number;
}

/** One container's or pod's log. */
export interface TesseractServiceLog {
  /** Container ID (Docker) or pod name (Kubernetes). */
  readonly name: string;
  /** Its stdout and stderr, the last `tail` lines. */
  readonly logs: string;
}

const DEFAULT_TAIL = 1000;

async function dockerLogs(ids: string[], docker: DockerConnection | undefined, tail: number) {
  const client = engineFor(docker);
  return Promise.all(ids.map(async (id) => ({ name: id, logs: await client.containerLogs(id, tail) })));
}

async function kubernetesLogs(endpoint: KubernetesEndpoint, tail: number): Promise<TesseractServiceLog[]> {
  // loaded here: the Kubernetes client comes in only for services that target a cluster
  const { apisFor, call, connect, statusOf } =
    require("../serve/kubernetes/connection") as typeof import("../serve/kubernetes/connection");
  const conn = connect({ kubeconfig: endpoint.kubeconfig, context: endpoint.context, namespace: endpoint.namespace });
  const { core } = apisFor(conn);
  const svc = await call(conn, () => core.readNamespacedService({ name: endpoint.service, namespace: conn.namespace }));
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  if (!selector) throw new UserError(`Kubernetes Service ${conn.namespace}/${endpoint.service} selects no pods`);
  const pods = await call(conn, () => core.listNamespacedPod({ namespace: conn.namespace, labelSelector: selector }));
  const names = pods.items.map((p) => p.metadata?.name).filter((n): n is string => !!n);
  return Promise.all(
    names.sort().map(async (name) => ({
      name,
      logs: await call(conn, () =>
        core.readNamespacedPodLog({ name, namespace: conn.namespace, tailLines: tail }).catch((err: unknown) => {
          // a pod still pulling its image has no log yet: say so instead of failing the others
          if (statusOf(err) === 400) return "";
          throw err;
        }),
      ),
    })),
  );
}

async function slurmLogs(args: TesseractServiceLogsArgs, endpoint: SlurmEndpoint, tail: number) {
  const { SshSlurmCluster } = require("../serve/slurm/ssh-cluster") as typeof import("../serve/slurm/ssh-cluster");
  const ids = (args.jobIds ?? []).filter((id) => /^\d+$/.test(id));
  if (!ids.length)
    throw new UserError(
      "getTesseractServiceLogs on Slurm needs the service's jobIds (fix: pass { endpoint: service.endpoint, jobIds: service.jobIds })",
    );
  const cluster = SshSlurmCluster.for(endpoint.login);
  try {
    const workDir = args.slurmWorkDir ?? "$HOME/.pulumi-tesseract";
    const dir = args.slurmWorkDir ? `'${workDir.replace(/'/g, "")}'` : '"$HOME/.pulumi-tesseract"';
    return await Promise.all(
      ids.map(async (id) => ({
        name: id,
        logs: await cluster.run(`tail -n ${tail} ${dir}/jobs/${id}.out 2>/dev/null || true`, { timeoutMs: 60_000 }),
      })),
    );
  } finally {
    await cluster.close();
  }
}

/** The server logs of a `TesseractService`'s containers, pods or Slurm jobs, in order. */
export async function getTesseractServiceLogs(args: TesseractServiceLogsArgs): Promise<TesseractServiceLog[]> {
  const tail = args.tail ?? DEFAULT_TAIL;
  if (!Number.isInteger(tail) || tail < 1) throw new UserError(`tail must be a positive integer, got ${args.tail}`);
  // an endpoint that is not a URL is a Kubernetes or Slurm one (as the call functions tell them apart)
  if (args.endpoint !== undefined && typeof args.endpoint !== "string")
    return args.endpoint.kind === "slurm" ? slurmLogs(args, args.endpoint, tail) : kubernetesLogs(args.endpoint, tail);
  if (!args.containerIds?.length)
    throw new UserError(
      "getTesseractServiceLogs needs the service's containerIds (Docker) or its endpoint (Kubernetes) " +
        "(fix: pass { containerIds: service.containerIds } or { endpoint: service.endpoint })",
    );
  return dockerLogs(args.containerIds, args.docker, tail);
}

/**
 * `getTesseractServiceLogs` taking `pulumi.Input`s, e.g. `{ containerIds: service.containerIds }`.
 * Read-only; during a preview of a new service its outputs are unknown and so is this.
 */
export function getTesseractServiceLogsOutput(args: {
  /** The service's `containerIds` output (undefined on Kubernetes: give `endpoint`). */
  containerIds?: pulumi.Input<string[] | undefined>;
  endpoint?: pulumi.Input<string | KubernetesEndpoint | SlurmEndpoint>;
  /** The service's `jobIds` output (Slurm target). */
  jobIds?: pulumi.Input<string[] | undefined>;
  /** Slurm target: the service's `slurm.workDir`, when set. */
  slurmWorkDir?: pulumi.Input<string | undefined>;
  docker?: pulumi.Input<DockerConnection>;
  tail?: pulumi.Input<number>;
}): pulumi.Output<TesseractServiceLog[]> {
  return pulumi.output(args).apply((a) => getTesseractServiceLogs(a as TesseractServiceLogsArgs));
}
