// The TesseractService serve target for `slurm`: one Slurm job per replica, health-checked
// through a tunnel via the login node before `create` returns. Diff rules: the replica count and
// the login's credentials change in place; anything in a job's script (mode, source, image, work
// folder, cluster, resources, placement, environment) replaces (new jobs first, then the old ones
// go). `read` records each job's state; ended jobs make the next diff show a change, and `update`
// resubmits them. Loaded by ../select.ts only for such services, and only given their states.
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_RUNTIME_VERSION } from "../../build-context/context";
import { Progress } from "../../common/log";
import { toPlainJson } from "../../common/plain";
import { UNKNOWN } from "../../common/unknown";
import type { ServeTarget } from "../serve-target";
import { isActive, viewJob } from "./cluster";
import { ensureEnvironment, environmentHash } from "./environment";
import type { SlurmInputs } from "./inputs";
import { type JobScriptSpec, jobName, type ServeSpec } from "./job-script";
import {
  prepareWorkDir,
  readReplicas,
  removeJobFiles,
  type SlurmReplica,
  startReplicas,
  stopReplicas,
} from "./replicas";
import { type SlurmServiceInputs, slurmJobEnv, slurmMode } from "./service-inputs";
import { SshSlurmCluster } from "./ssh-cluster";
import type { SlurmJobRecord, SlurmServed, SlurmServiceState } from "./state";
import { openSlurmTunnel, type Reach } from "./tunnel";

export type { SlurmServiceState } from "./state";

function progressFor(inputs: SlurmServiceInputs): Progress {
  return new Progress(`TesseractService ${inputs.serviceName}`, [inputs.slurm.login.privateKey]);
}

/** `pt.<stack>.<resource>`: the prefix of every job name of the service. */
function serviceIdOf(inputs: SlurmServiceInputs): string {
  return jobName(inputs.stack ?? "stack", inputs.serviceName, 0).replace(/\.0$/, "");
}

function replicaCount(slurm: SlurmInputs): number {
  return slurm.replicas ?? 1;
}

/** The inputs a state was made from: its outputs left out. */
export function inputsOfState(state: SlurmServiceState): SlurmServiceInputs {
  const {
    serviceId: _serviceId,
    engine: _engine,
    url: _url,
    urls: _urls,
    jobIds: _jobIds,
    jobs: _jobs,
    slurmServed: _served,
    ...inputs
  } = state;
  return inputs;
}

function outputsOf(
  inputs: SlurmServiceInputs,
  address: string,
  served: SlurmServed,
  jobs: SlurmJobRecord[],
): SlurmServiceState {
  const urls = jobs.map((j) => j.url);
  return toPlainJson({
    ...inputs,
    serviceId: serviceIdOf(inputs),
    engine: address,
    url: urls[0] ?? "",
    urls,
    jobIds: jobs.map((j) => j.jobId),
    jobs,
    slurmServed: served,
  });
}

const running = (r: SlurmReplica): SlurmJobRecord => ({
  ...r,
  status: "RUNNING",
  text: `RUNNING on ${r.node ?? r.host}`,
});

/** The job spec of replica `replica`. */
function specOf(inputs: SlurmServiceInputs, served: SlurmServed, replica: number): JobScriptSpec {
  const serve: ServeSpec =
    served.mode === "environment"
      ? { mode: "environment", envDir: served.envDir ?? "" }
      : { mode: served.mode as "podman" | "apptainer", image: served.image ?? "" };
  return {
    slurm: inputs.slurm,
    workDir: served.workDir,
    name: jobName(inputs.stack ?? "stack", inputs.serviceName, replica),
    replica,
    serve,
    env: slurmJobEnv(inputs),
  };
}

/** Runs `fn` with a connection to the cluster (its ssh master ended after) and a way to reach jobs. */
async function withCluster<R>(
  inputs: SlurmServiceInputs,
  fn: (cluster: SshSlurmCluster, reach: Reach) => Promise<R>,
): Promise<R> {
  const cluster = SshSlurmCluster.for(inputs.slurm.login);
  try {
    return await fn(cluster, (host, port) => openSlurmTunnel(cluster.ssh, host, port));
  } finally {
    await cluster.close();
  }
}

function startOptions(inputs: SlurmServiceInputs, progress: Progress) {
  return { timeoutMs: (inputs.slurm.startTimeout ?? 600) * 1000, onProgress: (l: string) => progress.info(l) };
}

async function create(inputs: SlurmServiceInputs): Promise<{ id: string; outs: SlurmServiceState }> {
  const progress = progressFor(inputs);
  return withCluster(inputs, async (cluster, reach) => {
    const workDir = await prepareWorkDir(cluster, inputs.slurm.workDir);
    const mode = slurmMode(inputs.slurm);
    const served: SlurmServed = { workDir, mode };
    if (mode === "environment") {
      progress.info(`environment of ${inputs.slurm.srcDir} on ${cluster.address}`);
      const env = await ensureEnvironment(cluster, {
        srcDir: inputs.slurm.srcDir ?? "",
        workDir,
        runtimeVersion: DEFAULT_RUNTIME_VERSION,
        python: inputs.slurm.python,
      });
      progress.summary(
        `environment ${env.hash.slice(0, 12)} ${env.reused ? "reused" : "built"} in ${env.seconds.toFixed(1)} s`,
      );
      served.envHash = env.hash;
      served.envDir = env.dir;
    } else served.image = inputs.image;
    const specs = Array.from({ length: replicaCount(inputs.slurm) }, (_, i) => specOf(inputs, served, i));
    const replicas = await startReplicas(cluster, reach, specs, startOptions(inputs, progress));
    progress.summary(`${replicas.length} Slurm job(s) healthy: ${replicas.map((r) => r.jobId).join(", ")}`);
    const outs = outputsOf(inputs, cluster.address, served, replicas.map(running));
    return { id: outs.serviceId, outs };
  });
}

/**
 * What replaces: where the jobs run (the login node's host, port and user, the work folder), what
 * they serve (mode, source hash, image, Python, runtime options) and everything else in their
 * scripts. Only the replica count, the start timeout and how ssh authenticates stay out.
 */
function replaceKey(inputs: SlurmServiceInputs, envHash: string | undefined): unknown {
  const { replicas: _replicas, startTimeout: _startTimeout, srcDir: _srcDir, login, ...rest } = inputs.slurm;
  const { slurm: _slurm, serviceName: _name, stack: _stack, project: _project, ...service } = inputs;
  return toPlainJson({
    login: { host: login.host, port: login.port ?? null, user: login.user ?? null },
    slurm: rest,
    service,
    envHash: envHash ?? null,
  });
}

/** The content hash of new inputs' environment (environment mode), or undefined. */
function envHashOf(inputs: SlurmServiceInputs): string | undefined {
  if (slurmMode(inputs.slurm) !== "environment" || !inputs.slurm.srcDir) return undefined;
  return environmentHash({
    srcDir: inputs.slurm.srcDir,
    runtimeVersion: DEFAULT_RUNTIME_VERSION,
    python: inputs.slurm.python ?? "python3",
  });
}

/**
 * True when new inputs hold a known `slurm`: an object with no preview unknown in it. The rest are
 * the inputs `check` returned (validated where known); other unknowns only make the comparisons
 * below see a change.
 */
function knowsSlurm(news: Record<string, unknown>): news is Record<string, unknown> & SlurmServiceInputs {
  const s = news.slurm;
  return typeof s === "object" && s !== null && !JSON.stringify(s).includes(UNKNOWN);
}

async function diff(olds: SlurmServiceState, news: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
  // Unknown until `up` (another cluster, maybe): new jobs.
  if (!knowsSlurm(news)) return { changes: true, replaces: ["slurm"], deleteBeforeReplace: false };
  const previous = inputsOfState(olds);
  const replaces: string[] = [];
  if (olds.serviceName !== news.serviceName) replaces.push("serviceName");
  let nextHash: string | undefined;
  try {
    nextHash = envHashOf(news);
  } catch {
    nextHash = "unreadable"; // the source went away: `up` says why
  }
  if (!isDeepStrictEqual(replaceKey(previous, olds.slurmServed.envHash), replaceKey(news, nextHash)))
    replaces.push("slurm");
  let changes = replaces.length > 0;
  const before: Record<string, unknown> = { ...previous };
  for (const key of Object.keys({ ...news, ...before })) {
    if (!isDeepStrictEqual(toPlainJson(before[key] ?? null), toPlainJson(news[key] ?? null))) changes = true;
  }
  // Jobs `read` saw ended (walltime, preemption, node failure, scancel): `up` resubmits them.
  if (olds.jobs.some((j) => !isActive({ id: j.jobId, state: j.status }))) changes = true;
  return { changes, replaces, deleteBeforeReplace: false };
}

/** Refresh: each job's state now (ended ones show as a change in the next diff). */
async function read(_id: string, state: SlurmServiceState): Promise<SlurmServiceState> {
  const inputs = inputsOfState(state);
  return withCluster(inputs, async (cluster) => {
    const seen = await readReplicas(cluster, state.jobs);
    const jobs = seen.map(({ replica, job }) => ({
      ...(replica as SlurmJobRecord),
      status: job.state,
      text: viewJob(job).text,
    }));
    return outputsOf(inputs, cluster.address, state.slurmServed, jobs);
  });
}

/**
 * In place: replicas beyond the new count are cancelled; ended jobs and new replicas are started
 * together (all healthy, or every new job cancelled and the error thrown); running and queued
 * jobs are kept.
 */
async function update(_id: string, olds: SlurmServiceState, inputs: SlurmServiceInputs): Promise<SlurmServiceState> {
  const progress = progressFor(inputs);
  const served = olds.slurmServed;
  const count = replicaCount(inputs.slurm);
  return withCluster(inputs, async (cluster, reach) => {
    const extra = olds.jobs.filter((j) => j.replica >= count);
    if (extra.length) {
      await stopReplicas(
        cluster,
        served.workDir,
        extra.map((j) => j.jobId),
      );
      progress.summary(`scaled down: cancelled job(s) ${extra.map((j) => j.jobId).join(", ")}`);
    }
    const kept = olds.jobs.filter((j) => j.replica < count);
    const seen = await readReplicas(cluster, kept);
    const ended = seen.filter((s) => !isActive(s.job));
    for (const s of ended)
      progress.summary(`replica ${s.replica.replica}: job ${s.replica.jobId} ${s.text}: resubmitting`);
    const have = new Set(kept.map((j) => j.replica));
    const wanted = [
      ...ended.map((s) => s.replica.replica),
      ...Array.from({ length: count }, (_, i) => i).filter((i) => !have.has(i)),
    ];
    const fresh = wanted.length
      ? await startReplicas(
          cluster,
          reach,
          wanted.map((i) => specOf(inputs, served, i)),
          startOptions(inputs, progress),
        )
      : [];
    if (ended.length)
      await removeJobFiles(
        cluster,
        served.workDir,
        ended.map((s) => s.replica.jobId),
        { keepOutput: false },
      ).catch(() => undefined);
    const byReplica = new Map<number, SlurmJobRecord>();
    for (const s of seen)
      if (isActive(s.job))
        byReplica.set(s.replica.replica, { ...(s.replica as SlurmJobRecord), status: s.job.state, text: s.text });
    for (const r of fresh) byReplica.set(r.replica, running(r));
    const jobs = [...byReplica.values()].sort((a, b) => a.replica - b.replica);
    return outputsOf(inputs, cluster.address, served, jobs);
  });
}

/** Cancels every job and waits until none is left, then removes their files and the ssh master. */
async function remove(_id: string, state: SlurmServiceState): Promise<void> {
  const inputs = inputsOfState(state);
  const progress = progressFor(inputs);
  await withCluster(inputs, async (cluster) => {
    await stopReplicas(cluster, state.slurmServed.workDir, state.jobIds, { timeoutMs: 120_000 });
    progress.summary(`cancelled Slurm job(s) ${state.jobIds.join(", ")}`);
  });
}

/** The Slurm serve target (inputs reach it validated, with `slurm` set). */
export const slurmServeTarget: ServeTarget<SlurmServiceInputs, SlurmServiceState> = {
  diff,
  create,
  read,
  update,
  remove,
};
