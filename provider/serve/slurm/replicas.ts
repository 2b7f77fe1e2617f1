// The replicas of a Slurm-served Tesseract: one job each. Start (submit, wait until the job runs,
// has written its endpoint and answers GET /health through a tunnel), read (what each job's state
// means now), stop (scancel and wait until gone, then remove the job's small files). A failure
// says the job's state and reason and the tail of its output, and leaves no job behind. This is
// what a ServeTarget adapter calls; it knows nothing of Pulumi state.
import { TesseractPulumiError } from "../../common/errors";
import { probeHealth } from "../health";
import { isActive, type SlurmCluster, type SlurmJobInfo, viewJob } from "./cluster";
import { endpointPath, endpointUrl, type JobScriptSpec, jobOutputPath, jobScript, parseEndpoint } from "./job-script";
import { shQuote } from "./ssh";
import type { Reach } from "./tunnel";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One replica as recorded (the adapter keeps these in state). */
export interface SlurmReplica {
  /** Replica index. */
  replica: number;
  /** Slurm job id. */
  jobId: string;
  /** Job name. */
  name: string;
  /** Node address and port the job serves on. */
  host: string;
  port: number;
  /** `http://<host>:<port>`: for callers on the cluster (others go through a tunnel). */
  url: string;
  /** Node name. */
  node?: string;
  /** Seconds from submit to healthy. */
  startSeconds: number;
}

/** A replica that did not come up (or ended): the job's state and its output's tail. */
export class SlurmReplicaError extends TesseractPulumiError {
  /** The job's state when it failed (`TIMEOUT`, `FAILED`, `PENDING`...). */
  readonly state: string;
  /** The last lines of the job's output. */
  readonly outputTail: string;
  constructor(message: string, state: string, outputTail: string, hint?: string) {
    super(message, { property: "slurm", hint });
    this.name = "SlurmReplicaError";
    this.state = state;
    this.outputTail = outputTail;
  }
}

/** Options of {@link startReplicas}. */
export interface StartOptions {
  /** Time for each replica to be scheduled and healthy (default 600 s). */
  timeoutMs?: number;
  /** Called with progress lines (state changes). */
  onProgress?: (line: string) => void;
}

async function failure(
  cluster: SlurmCluster,
  workDir: string,
  job: SlurmJobInfo,
  what: string,
  hint?: string,
): Promise<SlurmReplicaError> {
  const tail = (await cluster.tail(jobOutputPath(workDir, job.id), 30).catch(() => "")).trim();
  const view = viewJob(job);
  return new SlurmReplicaError(
    `Slurm job ${job.id} (${job.name ?? "replica"}) on ${cluster.address} ${what}: ${view.text}` +
      (tail
        ? `\nthe last lines of its output (${jobOutputPath(workDir, job.id)}):\n${tail}`
        : "\n(it wrote no output)"),
    job.state,
    tail,
    hint,
  );
}

/**
 * Waits until job `jobId` runs, has written its endpoint and answers GET /health through `reach`.
 * Throws a {@link SlurmReplicaError} when the job ends first or the time runs out (the job is
 * left to the caller, which cancels it).
 */
export async function waitHealthy(
  cluster: SlurmCluster,
  reach: Reach,
  workDir: string,
  jobId: string,
  options: StartOptions = {},
): Promise<{ host: string; port: number; node?: string }> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  let lastText = "";
  let job: SlurmJobInfo = { id: jobId, state: "PENDING" };
  let endpoint: { host: string; port: number } | undefined;
  let tunnel: Awaited<ReturnType<Reach>> | undefined;
  try {
    for (let poll = 0; Date.now() < deadline; poll++) {
      job = (await cluster.jobs([jobId])).get(jobId) ?? { id: jobId, state: "UNKNOWN" };
      const view = viewJob(job);
      if (view.text !== lastText) options.onProgress?.(`job ${jobId}: ${view.text}`);
      lastText = view.text;
      if (view.phase === "ended" || !isActive(job))
        throw await failure(cluster, workDir, job, "ended before it served", "see the job's output above");
      if (view.phase === "running") {
        endpoint ??= parseEndpoint(await cluster.readFile(endpointPath(workDir, jobId), 1024));
        if (endpoint) {
          tunnel ??= await reach(endpoint.host, endpoint.port);
          if (await probeHealth(tunnel.url, 2_000)) return { ...endpoint, node: job.node };
        }
      }
      await sleep(Math.min(2_000, 250 * (poll + 1)));
    }
    throw await failure(
      cluster,
      workDir,
      job,
      `did not answer GET /health within ${timeoutMs / 1000} s`,
      job.state === "PENDING"
        ? "the cluster has no free resources for it now: raise slurm.startTimeout, or ask for fewer (cpusPerTask, memory, gpus) or another partition"
        : `raise slurm.startTimeout if the Tesseract starts slowly${tunnel?.lastError() ? ` (the tunnel said: ${tunnel.lastError()})` : ""}`,
    );
  } finally {
    await tunnel?.close();
  }
}

/**
 * Starts every replica (all submitted at once, then waited for together). When one fails, every
 * job submitted here is cancelled (and waited for) before the error is thrown: nothing is left.
 */
export async function startReplicas(
  cluster: SlurmCluster,
  reach: Reach,
  specs: readonly JobScriptSpec[],
  options: StartOptions = {},
): Promise<SlurmReplica[]> {
  const submitted: { spec: JobScriptSpec; jobId: string; at: number }[] = [];
  try {
    for (const spec of specs) {
      const at = Date.now();
      submitted.push({ spec, jobId: await cluster.submit(jobScript(spec)), at });
    }
    return await Promise.all(
      submitted.map(async ({ spec, jobId, at }) => {
        const e = await waitHealthy(cluster, reach, spec.workDir, jobId, options);
        return {
          replica: spec.replica,
          jobId,
          name: spec.name,
          host: e.host,
          port: e.port,
          url: endpointUrl(e.host, e.port),
          node: e.node,
          startSeconds: (Date.now() - at) / 1000,
        };
      }),
    );
  } catch (err) {
    const ids = submitted.map((s) => s.jobId);
    await cluster.cancel(ids).catch(() => undefined);
    if (specs[0]) await removeJobFiles(cluster, specs[0].workDir, ids, { keepOutput: true }).catch(() => undefined);
    throw err;
  }
}

/** What each recorded replica's job is now (the ended ones are what `up` resubmits). */
export async function readReplicas(
  cluster: SlurmCluster,
  replicas: readonly SlurmReplica[],
): Promise<{ replica: SlurmReplica; job: SlurmJobInfo; running: boolean; text: string }[]> {
  const jobs = await cluster.jobs(replicas.map((r) => r.jobId));
  return replicas.map((replica) => {
    const job = jobs.get(replica.jobId) ?? { id: replica.jobId, state: "UNKNOWN" };
    const view = viewJob(job);
    return { replica, job, running: view.phase === "running", text: view.text };
  });
}

/** Result of {@link resubmitEnded}. */
export interface Resubmitted {
  /** Every replica, the ended ones replaced, in replica order. */
  replicas: SlurmReplica[];
  /** Which replicas were resubmitted, and what their old job had become (`TIMEOUT on node1: ...`). */
  replaced: { replica: number; oldJobId: string; was: string }[];
}

/**
 * What `up` does with a set whose jobs ended (walltime, preemption, node failure, scancel by
 * hand): each ended replica gets a new job (started as {@link startReplicas} does, its old job's
 * files removed); running and still-queued ones are kept. When a new job fails, the other new
 * jobs are cancelled too and the error is thrown.
 */
export async function resubmitEnded(
  cluster: SlurmCluster,
  reach: Reach,
  replicas: readonly SlurmReplica[],
  specFor: (replica: number) => JobScriptSpec,
  options: StartOptions = {},
): Promise<Resubmitted> {
  const states = await readReplicas(cluster, replicas);
  const ended = states.filter((s) => !isActive(s.job));
  if (ended.length === 0) return { replicas: [...replicas], replaced: [] };
  const fresh = await startReplicas(
    cluster,
    reach,
    ended.map((s) => specFor(s.replica.replica)),
    options,
  );
  const workDir = specFor(ended[0].replica.replica).workDir;
  await removeJobFiles(
    cluster,
    workDir,
    ended.map((s) => s.replica.jobId),
    { keepOutput: false },
  ).catch(() => undefined);
  const byReplica = new Map(replicas.map((r) => [r.replica, r]));
  for (const r of fresh) byReplica.set(r.replica, r);
  return {
    replicas: [...byReplica.values()].sort((a, b) => a.replica - b.replica),
    replaced: ended.map((s) => ({ replica: s.replica.replica, oldJobId: s.replica.jobId, was: s.text })),
  };
}

/** Cancels the replicas' jobs, waits until they are gone, and removes their files. */
export async function stopReplicas(
  cluster: SlurmCluster,
  workDir: string,
  jobIds: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<void> {
  await cluster.cancel(jobIds, { timeoutMs: options.timeoutMs });
  await removeJobFiles(cluster, workDir, jobIds, { keepOutput: false });
}

/** Removes the jobs' endpoint files and output folders (and their logs unless `keepOutput`). */
export async function removeJobFiles(
  cluster: SlurmCluster,
  workDir: string,
  jobIds: readonly string[],
  options: { keepOutput: boolean },
): Promise<void> {
  const ids = jobIds.filter((id) => /^\d+$/.test(id));
  if (!ids.length) return;
  const paths = ids.flatMap((id) => [
    endpointPath(workDir, id),
    `${workDir}/outputs/${id}`,
    ...(options.keepOutput ? [] : [jobOutputPath(workDir, id)]),
  ]);
  await cluster.run(`rm -rf ${paths.map(shQuote).join(" ")}`, { timeoutMs: 60_000 });
}

/** Default work folder under the login user's home. */
export const DEFAULT_WORK_DIR = "$HOME/.pulumi-tesseract";

/**
 * Resolves `slurm.workDir` (default `$HOME/.pulumi-tesseract` of the login user) to an absolute
 * path and makes its `jobs`, `outputs` and `envs` folders (sbatch cannot open an output file in a
 * missing folder: the job would fail without a word).
 */
export async function prepareWorkDir(cluster: SlurmCluster, workDir?: string): Promise<string> {
  const dir = workDir ? shQuote(workDir) : '"$HOME/.pulumi-tesseract"';
  const out = await cluster.run(`d=${dir}; mkdir -p "$d/jobs" "$d/outputs" "$d/envs" && cd "$d" && pwd -P`, {
    timeoutMs: 60_000,
  });
  const resolved = out.trim().split("\n").pop() ?? "";
  if (!resolved.startsWith("/"))
    throw new TesseractPulumiError(
      `cannot make the work folder ${workDir ?? DEFAULT_WORK_DIR} on ${cluster.address}: ${out.trim()}`,
      {
        property: "slurm.workDir",
        hint: "give a folder on the cluster's shared file system that the login user can write",
      },
    );
  return resolved;
}
