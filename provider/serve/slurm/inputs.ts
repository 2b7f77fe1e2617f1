// Inputs of the Slurm serve target (`slurm: {...}` on a TesseractService): how to reach the
// cluster's login node, what each replica's job asks Slurm for, and what runs in it. Pure zod, no
// ssh or child process, so checking a service at preview never touches the cluster. Every rule
// names the field, the value (never a secret's) and the fix.
import { z } from "zod";
import { type CheckFailure, zodFailures } from "../../common/check";

/** Secret fields of the `slurm` input (values never echoed in failures, logs or plain state). */
export const SLURM_SECRET_PATHS = ["slurm.login.privateKey"] as const;

/** What runs in a replica's job. */
export const SLURM_MODES = ["environment", "podman", "apptainer"] as const;
/** A value of {@link SLURM_MODES}. */
export type SlurmMode = (typeof SLURM_MODES)[number];

/**
 * sbatch options the target sets itself (job name, output, resources, placement...): refused in
 * `sbatchOptions`, each with the input to use instead (or `null` when there is none).
 */
export const SBATCH_OWN_OPTIONS: Readonly<Record<string, string | null>> = {
  "job-name": null,
  output: null,
  error: null,
  input: null,
  chdir: "workDir",
  partition: "partition",
  account: "account",
  time: "walltime",
  "cpus-per-task": "cpusPerTask",
  mem: "memory",
  "mem-per-cpu": "memory",
  "mem-per-gpu": "memory",
  gres: "gpus",
  gpus: "gpus",
  "gpus-per-node": "gpus",
  "gpus-per-task": "gpus",
  nodelist: "nodes",
  constraint: "constraint",
  nodes: "replicas (one job per replica, one node each)",
  ntasks: "replicas (one task per job)",
  "ntasks-per-node": "replicas (one task per job)",
  array: "replicas",
  wrap: null,
  parsable: null,
  export: null,
  "export-file": null,
  wait: null,
  "test-only": null,
  "kill-on-invalid-dep": null,
};

/** Short forms of the options above (`-J`, `-o`...), refused as well. */
const SHORT_OWN = new Set(["J", "o", "e", "i", "D", "p", "A", "t", "c", "w", "C", "N", "n", "a", "W", "G"]);

const SAFE_VALUE = /^[A-Za-z0-9_.,:=/@+%-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const HOST = /^[A-Za-z0-9_]([A-Za-z0-9_.:-]*[A-Za-z0-9_])?$|^\[[0-9A-Fa-f:.]+\]$/;
const POSIX_USER = /^[a-z_][a-z0-9_.-]*\$?$/i;
const ABS_PATH = /^\/[A-Za-z0-9_.,:=/@+%-]*$/;

/**
 * Parses a Slurm time limit (`sbatch --time`): `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or
 * `D-HH:MM:SS`, into seconds; undefined when the text is none of them (or out of range: minutes
 * and seconds below 60 after the first field, hours below 24 after a day count, more than 0 s).
 */
export function walltimeSeconds(text: string): number | undefined {
  const days = /^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/.exec(text);
  let seconds: number;
  if (days) {
    const [d, h, m = "0", s = "0"] = days.slice(1);
    if (Number(h) > 23 || Number(m) > 59 || Number(s) > 59) return undefined;
    seconds = ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s);
  } else {
    const parts = /^(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
    if (!parts) return undefined;
    const [a, b, c] = parts.slice(1);
    if (c !== undefined) {
      if (Number(b) > 59 || Number(c) > 59) return undefined;
      seconds = (Number(a) * 60 + Number(b)) * 60 + Number(c);
    } else if (b !== undefined) {
      if (Number(b) > 59) return undefined;
      seconds = Number(a) * 60 + Number(b);
    } else seconds = Number(a) * 60;
  }
  return seconds > 0 ? seconds : undefined;
}

/** Why an `sbatchOptions` entry is refused, or undefined when it is fine. */
export function sbatchOptionProblem(option: string): string | undefined {
  const short = /^-([A-Za-z])(.*)$/.exec(option);
  if (short && !option.startsWith("--")) {
    return SHORT_OWN.has(short[1])
      ? `-${short[1]} is set by the target itself (fix: use the matching slurm input, e.g. walltime for -t)`
      : `write it as a long option (fix: e.g. "--qos=normal" rather than "-q normal")`;
  }
  const long = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(option);
  if (!long) return 'must be "--key=value" or "--flag" (fix: e.g. "--qos=normal" or "--exclusive")';
  const [, key, value] = long;
  if (key in SBATCH_OWN_OPTIONS) {
    const instead = SBATCH_OWN_OPTIONS[key];
    return instead
      ? `--${key} is set by the target itself (fix: use slurm.${instead.split(" ")[0]}${instead.includes(" ") ? ` ${instead.slice(instead.indexOf(" ") + 1)}` : ""})`
      : `--${key} is set by the target itself (fix: remove it)`;
  }
  if (value !== undefined && !SAFE_VALUE.test(value))
    return "the value may hold only letters, digits and _.,:=/@+%- (no spaces or quotes: it is written on an #SBATCH line; fix: e.g. --comment=my_service)";
  return undefined;
}

/** How to reach the cluster's login node over ssh (the system `ssh` binary does the work). */
export const slurmLoginSchema = z
  .strictObject({
    /** Login node host name or address (or a `Host` alias of `sshConfig`). */
    host: z
      .string()
      .regex(HOST, "must be a host name, an address or an ssh_config Host alias (fix: e.g. login.hpc.example.org)"),
    /** ssh port (default 22). */
    port: z.number().int("must be a whole number").min(1, "must be 1-65535").max(65535, "must be 1-65535").optional(),
    /** Remote user (default: the local user, or the ssh_config's). */
    user: z.string().regex(POSIX_USER, "must be a user name (fix: e.g. alice)").optional(),
    /** Private key content (keep it a secret; stored as one). */
    privateKey: z
      .string()
      .refine((k) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(k), {
        message:
          "must be the content of a private key file (-----BEGIN ... PRIVATE KEY-----) (fix: give the key file's content, or use identityFile for its path)",
      })
      .optional(),
    /** Path of a private key file instead (not both). */
    identityFile: z.string().min(1, "must be a key file path").optional(),
    /** known_hosts lines for the login node (`ssh-keyscan -p PORT HOST`); default: the user's known_hosts. */
    knownHosts: z.string().min(1, "must hold known_hosts lines (fix: e.g. the output of ssh-keyscan)").optional(),
    /** `strict` (default: the key must be known) or `accept-new`. */
    hostKeyChecking: z.enum(["strict", "accept-new"], { message: 'must be "strict" or "accept-new"' }).optional(),
    /** An ssh_config file for `ssh -F` (ProxyJump, aliases). */
    sshConfig: z.string().min(1, "must be an ssh_config file path").optional(),
    /** Seconds an ssh connection may take to open (default 20). */
    connectTimeout: z
      .number()
      .int("must be a whole number")
      .min(1, "must be 1-300 seconds")
      .max(300, "must be 1-300 seconds")
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.privateKey !== undefined && v.identityFile !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["identityFile"],
        message: "give either privateKey (the key's content) or identityFile (its path), not both (fix: remove one)",
      });
  });

/** The `slurm` input of a TesseractService. */
export const slurmTargetSchema = z
  .strictObject({
    /** How to reach the login node. */
    login: slurmLoginSchema,
    /** `--partition` (default: the cluster's default). */
    partition: z.string().regex(NAME, "must be a partition name (fix: see `sinfo -s`)").optional(),
    /** `--account`. */
    account: z.string().regex(NAME, "must be an account name (fix: see `sacctmgr show assoc user=$USER`)").optional(),
    /** `--time` of each job: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`. */
    walltime: z
      .string()
      .refine((t) => walltimeSeconds(t) !== undefined, {
        message:
          'must be a Slurm time limit: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS", more than 0, minutes and seconds below 60 (fix: e.g. "2:00:00" or "1-00")',
      })
      .optional(),
    /** `--cpus-per-task` (default 1). */
    cpusPerTask: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(1024, "must be at most 1024")
      .optional(),
    /** `--mem`, e.g. `4G`. */
    memory: z
      .string()
      .regex(
        /^[1-9]\d*[KMGT]?$/,
        'must be a Slurm memory size: a whole number with K, M, G or T (fix: e.g. "4G" or "500M")',
      )
      .optional(),
    /** GPUs per replica (`--gres=gpu:N`). */
    gpus: z.number().int("must be a whole number").min(0, "must be 0 or more").max(64, "must be at most 64").optional(),
    /** GPU type for `--gres=gpu:<type>:N`. */
    gpuType: z.string().regex(NAME, "must be a GRES type name (fix: e.g. a100; see `sinfo -o %G`)").optional(),
    /** Replicas: one job each (default 1). Changing only this scales in place. */
    replicas: z
      .number()
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(64, "must be at most 64")
      .optional(),
    /** `--nodelist` per replica: replica i runs on `nodes[i % length]`. */
    nodes: z
      .array(z.string().regex(NAME, "must be a node name (fix: see `sinfo -N`)"))
      .min(1, "must list at least one node, or be left out")
      .optional(),
    /** `--constraint`, a feature expression. */
    constraint: z
      .string()
      .regex(/^[A-Za-z0-9_.,&|!*()[\]-]+$/, 'must be a Slurm feature expression (fix: e.g. "avx2" or "a100|h100")')
      .optional(),
    /** Further sbatch options, each `--key=value` or `--flag`. */
    sbatchOptions: z
      .array(
        z.string().superRefine((o, ctx) => {
          const problem = sbatchOptionProblem(o);
          if (problem) ctx.addIssue({ code: "custom", message: problem });
        }),
      )
      .optional(),
    /** Absolute folder on the cluster's shared file system (default `$HOME/.pulumi-tesseract`). */
    workDir: z
      .string()
      .regex(
        ABS_PATH,
        "must be an absolute path on the cluster's shared file system, of letters, digits and _.,:=/@+%- (fix: e.g. /home/alice/tesseracts)",
      )
      .optional(),
    /** Environment mode: the Tesseract's source folder here (holds tesseract_api.py). */
    srcDir: z.string().min(1, "must be a folder path (fix: e.g. ./tesseracts/hello)").optional(),
    /** `environment` (default), `podman` or `apptainer`. */
    mode: z.enum(SLURM_MODES, { message: 'must be "environment", "podman" or "apptainer"' }).optional(),
    /** Environment mode: the Python on the login node (same path on the nodes; default `python3`). */
    python: z
      .string()
      .regex(
        /^[A-Za-z0-9_./+-]+$/,
        'must be a command or an absolute path (fix: e.g. "python3.11" or "/opt/python/3.11/bin/python3")',
      )
      .optional(),
    /** podman/apptainer global options before `run`. */
    runtimeOptions: z
      .array(
        z
          .string()
          .regex(
            /^--?[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9_.,:=/@+%-]*)?$/,
            'must be one option, "--key=value" or "--flag"',
          ),
      )
      .optional(),
    /** Shell lines run in the job before the server (e.g. `module load apptainer`). */
    setup: z.array(z.string().regex(/^[^\n\r]*$/, "must be one line (fix: one array entry per line)")).optional(),
    /** Seconds for each replica to be scheduled and healthy (default 600). */
    startTimeout: z
      .number()
      .min(1, "must be more than 0 seconds")
      .max(86400, "must be at most 86400 seconds")
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.gpuType !== undefined && !v.gpus)
      ctx.addIssue({
        code: "custom",
        path: ["gpuType"],
        message: "needs gpus (fix: set slurm.gpus to the count per replica)",
      });
    if (v.python !== undefined && (v.mode ?? "environment") !== "environment")
      ctx.addIssue({
        code: "custom",
        path: ["python"],
        message: `is used in environment mode only, not ${v.mode} (fix: remove it)`,
      });
    if (v.srcDir !== undefined && (v.mode ?? "environment") !== "environment")
      ctx.addIssue({
        code: "custom",
        path: ["srcDir"],
        message: `is the source of environment mode, not ${v.mode} (fix: remove it; ${v.mode} serves \`image\`)`,
      });
    if (v.runtimeOptions !== undefined && (v.mode ?? "environment") === "environment")
      ctx.addIssue({
        code: "custom",
        path: ["runtimeOptions"],
        message: 'are options of podman or apptainer (fix: set mode to "podman" or "apptainer", or remove them)',
      });
  });

/** The `slurm` input as given. */
export type SlurmTarget = z.input<typeof slurmTargetSchema>;
/** How to reach the login node. */
export type SlurmLogin = z.output<typeof slurmLoginSchema>;
/** The `slurm` input after validation. */
export type SlurmInputs = z.output<typeof slurmTargetSchema>;

/** Result of {@link checkSlurmTarget}. */
export type SlurmCheck = { ok: true; value: SlurmInputs } | { ok: false; failures: CheckFailure[] };

/**
 * Validates a `slurm` input; failures name `slurm.<field>`, the value (never the private key's) and
 * the fix, as `check` reports them.
 */
export function checkSlurmTarget(raw: unknown): SlurmCheck {
  const parsed = slurmTargetSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  // Paths below `slurm`: the secret list without its "slurm." prefix.
  const secrets = SLURM_SECRET_PATHS.map((p) => p.slice("slurm.".length));
  return { ok: false, failures: zodFailures(parsed.error, raw, "slurm", secrets) };
}
