/**
 * An in-memory SlurmCluster for unit tests (the real one is the test cluster of scripts/slurm.sh):
 * jobs with states the test sets, files the test (or `onSubmit`) writes, and a record of every
 * command. `cancel` marks active jobs CANCELLED at once.
 */
import { isActive, type SlurmCluster, type SlurmJobInfo } from "../../provider/serve/slurm/cluster";

/** A submitted job, with its script. */
export interface FakeJob extends SlurmJobInfo {
  script: string;
}

export class FakeSlurmCluster implements SlurmCluster {
  readonly address = "alice@login.fake:22";
  readonly jobsById = new Map<string, FakeJob>();
  readonly files = new Map<string, string>();
  readonly commands: string[] = [];
  /** Ids scancel was asked for, in order. */
  readonly cancelled: string[] = [];
  private nextId = 100;
  closed = false;
  /** Called after each submit (e.g. to mark the job RUNNING and write its endpoint file). */
  onSubmit?: (job: FakeJob) => void;
  /** Answers `run` (default: empty output). */
  onRun?: (command: string) => string;

  async run(command: string): Promise<string> {
    this.commands.push(command);
    return this.onRun?.(command) ?? "";
  }

  async submit(script: string): Promise<string> {
    const id = String(this.nextId++);
    const name = /^#SBATCH --job-name=(\S+)$/m.exec(script)?.[1];
    const job: FakeJob = { id, name, state: "PENDING", reason: "Priority", script };
    this.jobsById.set(id, job);
    this.onSubmit?.(job);
    return id;
  }

  /** Sets a job's state (and reason, node, exit code...). */
  set(id: string, fields: Partial<SlurmJobInfo>): void {
    const job = this.jobsById.get(id);
    if (!job) throw new Error(`no fake job ${id}`);
    Object.assign(job, fields);
  }

  async jobs(ids: readonly string[]): Promise<Map<string, SlurmJobInfo>> {
    const out = new Map<string, SlurmJobInfo>();
    for (const id of ids) {
      const job = this.jobsById.get(id);
      out.set(id, job ? { ...job } : { id, state: "UNKNOWN" });
    }
    return out;
  }

  async cancel(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.cancelled.push(id);
      const job = this.jobsById.get(id);
      if (job && isActive(job)) Object.assign(job, { state: "CANCELLED", reason: undefined });
    }
  }

  async readFile(path: string): Promise<string | undefined> {
    return this.files.get(path);
  }

  async tail(path: string, lines = 40): Promise<string> {
    return (this.files.get(path) ?? "").split("\n").slice(-lines).join("\n");
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Jobs not ended. */
  active(): FakeJob[] {
    return [...this.jobsById.values()].filter(isActive);
  }
}
