// SlurmCluster over ssh to a login node: the commands a user would type (sbatch, scontrol,
// sacct, scancel), each one remote run through one shared ssh connection (ssh.ts). Job states
// come from `scontrol show job -o` (every Slurm has it; it knows jobs until MinJobAge after they
// end), then from `sacct` for older ones where accounting runs. `squeue --json` needs the openapi
// plugins, which a site may lack, so the text formats are used.
import { TesseractPulumiError } from "../../common/errors";
import {
  type CancelOptions,
  isActive,
  jobFromScontrol,
  parseSacct,
  parseScontrolJob,
  SACCT_FIELDS,
  type SlurmCluster,
  type SlurmJobInfo,
  viewJob,
} from "./cluster";
import type { SlurmLogin } from "./inputs";
import { type RunOptions, SlurmCommandError, SshLogin, shQuote } from "./ssh";

const JOB_ID = /^\d+(_\d+)?$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cluster reached with Slurm's commands over ssh. */
export class SshSlurmCluster implements SlurmCluster {
  readonly address: string;

  constructor(readonly ssh: SshLogin) {
    this.address = ssh.address;
  }

  /** A cluster for the `slurm.login` input. */
  static for(login: SlurmLogin): SshSlurmCluster {
    return new SshSlurmCluster(new SshLogin(login));
  }

  run(command: string, options?: RunOptions): Promise<string> {
    return this.ssh.run(command, options);
  }

  async submit(script: string): Promise<string> {
    let out: string;
    try {
      out = await this.ssh.run("sbatch --parsable", { input: script, timeoutMs: 60_000 });
    } catch (err) {
      if (err instanceof SlurmCommandError && err.exitCode !== undefined && err.exitCode !== 255) {
        throw new TesseractPulumiError(`sbatch on ${this.address} refused the job: ${err.stderr || err.message}`, {
          property: "slurm",
          hint: "check slurm.partition, account, walltime, memory, gpus and sbatchOptions against the cluster (`sinfo -s`, `sacctmgr show assoc user=$USER`)",
          cause: err,
        });
      }
      throw err;
    }
    // `--parsable` prints `id` or `id;cluster`.
    const id = out.trim().split("\n").pop()?.split(";")[0] ?? "";
    if (!JOB_ID.test(id))
      throw new TesseractPulumiError(
        `sbatch on ${this.address} printed no job id: ${JSON.stringify(out.trim().slice(0, 200))}`,
      );
    return id;
  }

  async jobs(ids: readonly string[]): Promise<Map<string, SlurmJobInfo>> {
    const wanted = ids.filter((id) => JOB_ID.test(id));
    const jobs = new Map<string, SlurmJobInfo>();
    if (wanted.length === 0) return jobs;
    // One line per job; a job the controller forgot prints nothing (the error goes to /dev/null).
    const out = await this.ssh.run(
      `for j in ${wanted.join(" ")}; do scontrol show job -o "$j" 2>/dev/null || true; done`,
      { timeoutMs: 60_000 },
    );
    for (const line of out.split("\n")) {
      if (!line.startsWith("JobId=")) continue;
      const job = jobFromScontrol(parseScontrolJob(line));
      if (wanted.includes(job.id)) jobs.set(job.id, job);
    }
    const missing = wanted.filter((id) => !jobs.has(id));
    if (missing.length) {
      // Accounting keeps older jobs; where it is disabled (or absent) sacct fails: those stay UNKNOWN.
      const acct = await this.ssh
        .run(`sacct -X -n -P -j ${missing.join(",")} -o ${SACCT_FIELDS.join(",")} 2>/dev/null || true`, {
          timeoutMs: 60_000,
        })
        .catch(() => "");
      const found = parseSacct(acct);
      for (const id of missing) jobs.set(id, found.get(id) ?? { id, state: "UNKNOWN" });
    }
    return jobs;
  }

  async cancel(ids: readonly string[], options: CancelOptions = {}): Promise<void> {
    const wanted = ids.filter((id) => JOB_ID.test(id));
    if (wanted.length === 0) return;
    const timeoutMs = options.timeoutMs ?? 60_000;
    // scancel of an ended or unknown job only warns; its exit status is not a reason to stop.
    await this.ssh.run(`scancel ${wanted.join(" ")} 2>&1 || true`, { timeoutMs: 60_000 });
    const deadline = Date.now() + timeoutMs;
    let left: SlurmJobInfo[] = [];
    for (let poll = 0; Date.now() < deadline && poll < 600; poll++) {
      left = [...(await this.jobs(wanted)).values()].filter(isActive);
      if (left.length === 0) return;
      await sleep(Math.min(1_000, 250 * (poll + 1)));
    }
    throw new TesseractPulumiError(
      `the Slurm jobs ${left.map((j) => `${j.id} (${viewJob(j).text})`).join(", ")} on ${this.address} did not end within ${timeoutMs / 1000} s of scancel`,
      {
        hint: `check them with \`scontrol show job <id>\`; \`scancel --signal=KILL ${left.map((j) => j.id).join(" ")}\` ends them by force`,
      },
    );
  }

  async readFile(path: string, maxBytes = 65_536): Promise<string | undefined> {
    const out = await this.ssh.run(
      `if [ -f ${shQuote(path)} ]; then echo y; head -c ${maxBytes} ${shQuote(path)}; else echo n; fi`,
      {
        timeoutMs: 60_000,
      },
    );
    return out.startsWith("y\n") ? out.slice(2) : undefined;
  }

  async tail(path: string, lines = 40): Promise<string> {
    return this.ssh.run(`tail -n ${Math.max(1, Math.floor(lines))} ${shQuote(path)} 2>/dev/null || true`, {
      timeoutMs: 60_000,
    });
  }

  close(): Promise<void> {
    return this.ssh.close();
  }
}
