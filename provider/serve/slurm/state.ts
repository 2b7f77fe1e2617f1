// The state of the Slurm serve target (`slurmServeTarget`): shapes only, so that the lifecycle and
// the output-key checks can name them without loading the ssh code.
import type { SlurmReplica } from "./replicas";
import type { SlurmServiceInputs } from "./service-inputs";

/** One replica's job as recorded, with what `read` last saw of it. */
export interface SlurmJobRecord extends SlurmReplica {
  /** Slurm's state when last seen (`RUNNING`, `PENDING`, `CANCELLED`, `TIMEOUT`, `UNKNOWN`...). */
  status: string;
  /** What that state means, one line (`CANCELLED on node1: scancel, by hand or by an administrator`). */
  text: string;
}

/** Where the jobs' files and what they serve live on the cluster. */
export interface SlurmServed {
  /** The resolved work folder (absolute). */
  workDir: string;
  /** `environment`, `podman` or `apptainer`. */
  mode: string;
  /** Environment mode: the content hash of the source, runtime and Python, and the environment's folder. */
  envHash?: string;
  envDir?: string;
  /** Container modes: the image reference the jobs run. */
  image?: string;
}

/** State of a TesseractService served as Slurm jobs: its resolved inputs plus the jobs. */
export interface SlurmServiceState extends SlurmServiceInputs {
  /** `pt.<stack>.<resource>`: the prefix of the jobs' names. */
  serviceId: string;
  /** The login node, `user@host:port` (never a secret). */
  engine: string;
  /** In-cluster URL of the first replica (`http://<node address>:<port>`), for callers on the cluster. */
  url: string;
  /** In-cluster URL of every replica, in replica order. */
  urls: string[];
  /** Slurm job id of every replica, in replica order. */
  jobIds: string[];
  /** Every replica's job: node, address, port, and the state `read` last saw. */
  jobs: SlurmJobRecord[];
  /** Work folder, mode, environment or image. */
  slurmServed: SlurmServed;
}
