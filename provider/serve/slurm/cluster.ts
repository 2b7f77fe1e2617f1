// The seam between the Slurm serve target and a cluster: submit a job script, read jobs' states,
// cancel and wait, read a job's output, run a command on the login node. `SshSlurmCluster`
// (ssh-cluster.ts) does it the way users do, with the Slurm commands over ssh; a slurmrestd
// implementation can be added behind the same interface. Also the parsing of `scontrol show job
// -o` / `sacct -P` lines and what a job's state means to a user. No I/O in this file.

/** A job as the cluster reports it. */
export interface SlurmJobInfo {
  /** Job id (as `sbatch --parsable` printed it). */
  id: string;
  /** Job name (`--job-name`). */
  name?: string;
  /**
   * Slurm's state (`PENDING`, `RUNNING`, `COMPLETING`, `COMPLETED`, `CANCELLED`, `TIMEOUT`,
   * `FAILED`, `NODE_FAIL`, `PREEMPTED`, `OUT_OF_MEMORY`, `BOOT_FAIL`, `DEADLINE`...), or `UNKNOWN`
   * when the cluster no longer knows the job (ended longer ago than it keeps records).
   */
  state: string;
  /** Why it pends or why it ended (`Resources`, `Priority`, `NonZeroExitCode`...); `None` dropped. */
  reason?: string;
  /** Node the job runs or ran on (`NodeList`/`BatchHost`). */
  node?: string;
  /** Exit code and signal, `code:signal` (e.g. `1:0`, `0:15`). */
  exitCode?: string;
  /** Path of the job's stdout on the cluster. */
  stdout?: string;
  /** Time limit as Slurm prints it. */
  timeLimit?: string;
  /** When the job started, as Slurm prints it (`2026-12-07T06:40:00`). */
  startTime?: string;
}

/** What a user sees of a job: its phase and one line saying why. */
export interface JobView {
  /** `pending` (queued, or starting), `running`, or `ended` (for any reason). */
  phase: "pending" | "running" | "ended";
  /** E.g. "RUNNING on node1", "PENDING (Resources)", "TIMEOUT: reached its walltime (00:01:00)". */
  text: string;
}

/** Options of {@link SlurmCluster.cancel}. */
export interface CancelOptions {
  /** How long to wait for the jobs to leave the queue (default 60 s); then it throws. */
  timeoutMs?: number;
}

/** Operations on a Slurm cluster the serve target needs. */
export interface SlurmCluster {
  /** Where the cluster is reached, for messages (e.g. `alice@login.hpc:22`). Never a secret. */
  readonly address: string;
  /** Runs a shell command line on the login node; resolves to its stdout. */
  run(command: string, options?: { input?: Buffer | string; timeoutMs?: number; holdStdin?: boolean }): Promise<string>;
  /** Submits a batch script (`sbatch --parsable` reading it from stdin); resolves to the job id. */
  submit(script: string): Promise<string>;
  /** The jobs' current state; a job the cluster no longer knows has state `UNKNOWN`. */
  jobs(ids: readonly string[]): Promise<Map<string, SlurmJobInfo>>;
  /**
   * Cancels the jobs (`scancel`) and waits until none is queued, running or completing any more
   * (bounded by `timeoutMs`). Jobs already ended or unknown are fine.
   */
  cancel(ids: readonly string[], options?: CancelOptions): Promise<void>;
  /** A file's content on the cluster (at most `maxBytes`, default 64 KiB), or undefined when absent. */
  readFile(path: string, maxBytes?: number): Promise<string | undefined>;
  /** The last `lines` lines of a file on the cluster (empty when absent). */
  tail(path: string, lines?: number): Promise<string>;
  /** Ends the connection (processes, temp files). */
  close(): Promise<void>;
}

/** States after which a job no longer runs. */
const ENDED = new Set([
  "COMPLETED",
  "CANCELLED",
  "TIMEOUT",
  "FAILED",
  "NODE_FAIL",
  "PREEMPTED",
  "OUT_OF_MEMORY",
  "BOOT_FAIL",
  "DEADLINE",
  "REVOKED",
  "SPECIAL_EXIT",
  "UNKNOWN",
]);
/** States of a job that is queued or being set up. */
const PENDING = new Set([
  "PENDING",
  "CONFIGURING",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESIZING",
  "SUSPENDED",
  "STOPPED",
  "SIGNALING",
  "STAGE_OUT",
]);

/** True when the job still holds (or waits for) resources: not ended. */
export function isActive(job: SlurmJobInfo): boolean {
  return !ENDED.has(job.state);
}

/** What a job's state means, in one line a user can act on. */
export function viewJob(job: SlurmJobInfo): JobView {
  const why = job.reason ? ` (${job.reason})` : "";
  const on = job.node ? ` on ${job.node}` : "";
  const exit = job.exitCode ? job.exitCode.split(":") : [];
  switch (job.state) {
    case "RUNNING":
      return { phase: "running", text: `RUNNING${on}` };
    case "COMPLETING":
      return { phase: "ended", text: `COMPLETING${on}: the job is ending` };
    case "PENDING":
      return { phase: "pending", text: `PENDING${why}` };
    case "TIMEOUT":
      return {
        phase: "ended",
        text: `TIMEOUT: the job reached its walltime${job.timeLimit ? ` (${job.timeLimit})` : ""}${on} (fix: raise slurm.walltime)`,
      };
    case "CANCELLED":
      return { phase: "ended", text: `CANCELLED${on}${why}: scancel, by hand or by an administrator` };
    case "NODE_FAIL":
      return { phase: "ended", text: `NODE_FAIL: the node${job.node ? ` ${job.node}` : ""} failed${why}` };
    case "PREEMPTED":
      return { phase: "ended", text: `PREEMPTED${on}: a job of higher priority took its resources${why}` };
    case "OUT_OF_MEMORY":
      return {
        phase: "ended",
        text: `OUT_OF_MEMORY${on}: the job used more than its memory (fix: raise slurm.memory)`,
      };
    case "FAILED":
      return {
        phase: "ended",
        text: `FAILED${on}${exit.length ? ` with exit code ${exit[0]}${exit[1] && exit[1] !== "0" ? ` (signal ${exit[1]})` : ""}` : ""}${why}`,
      };
    case "COMPLETED":
      return { phase: "ended", text: `COMPLETED${on}: the server exited by itself (exit code ${exit[0] ?? "0"})` };
    case "UNKNOWN":
      return {
        phase: "ended",
        text: "UNKNOWN: the cluster no longer knows the job (it ended longer ago than it keeps records)",
      };
    default:
      if (PENDING.has(job.state)) return { phase: "pending", text: `${job.state}${why}` };
      return { phase: ENDED.has(job.state) ? "ended" : "pending", text: `${job.state}${on}${why}` };
  }
}

/**
 * Parses one `scontrol show job -o` line (`Key=Value` pairs separated by spaces; a value may hold
 * spaces, so a pair starts only where a new `Key=` does).
 */
export function parseScontrolJob(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const starts: { key: string; at: number; valueAt: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) {
    starts.push({ key: m[1], at: m.index, valueAt: m.index + m[0].length });
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].at : line.length;
    if (!(s.key in out)) out[s.key] = line.slice(s.valueAt, end).trim();
  });
  return out;
}

const NONE = new Set(["", "None", "(null)", "N/A"]);
const some = (v: string | undefined) => (v === undefined || NONE.has(v) ? undefined : v);

/** A {@link SlurmJobInfo} from `scontrol show job -o` fields. */
export function jobFromScontrol(fields: Record<string, string>): SlurmJobInfo {
  return {
    id: fields.JobId,
    name: some(fields.JobName),
    // "CANCELLED by 0" in some versions' sacct; scontrol prints the bare state.
    state: (fields.JobState ?? "UNKNOWN").split(/\s/)[0],
    reason: some(fields.Reason),
    node: some(fields.NodeList) ?? some(fields.BatchHost),
    exitCode: some(fields.ExitCode),
    stdout: some(fields.StdOut),
    timeLimit: some(fields.TimeLimit),
    startTime: some(fields.StartTime),
  };
}

/** Fields `sacct` is asked for, in order (`-P` separates them with `|`). */
export const SACCT_FIELDS = [
  "JobIDRaw",
  "JobName",
  "State",
  "Reason",
  "NodeList",
  "ExitCode",
  "Timelimit",
  "Start",
] as const;

/** Parses `sacct -X -n -P -o <SACCT_FIELDS>` lines into jobs by id. */
export function parseSacct(text: string): Map<string, SlurmJobInfo> {
  const jobs = new Map<string, SlurmJobInfo>();
  for (const line of text.split("\n")) {
    const f = line.split("|");
    if (f.length < SACCT_FIELDS.length || !/^\d+$/.test(f[0])) continue;
    jobs.set(f[0], {
      id: f[0],
      name: some(f[1]),
      state: f[2].split(/\s/)[0] || "UNKNOWN",
      reason: some(f[3]),
      node: some(f[4]) === "None assigned" ? undefined : some(f[4]),
      exitCode: some(f[5]),
      timeLimit: some(f[6]),
      startTime: some(f[7]),
    });
  }
  return jobs;
}
