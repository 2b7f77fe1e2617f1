// The TesseractService inputs as the Slurm target takes them (`slurm` set): which of the service's
// other inputs apply to Slurm jobs and which are refused (Docker or Kubernetes settings, or ones
// the `slurm` input has its own field for), the source folder of environment mode, the image of
// the container modes, and the environment variables a job gets. Pure apart from looking at the
// source folder on the deploying machine, so it runs at preview.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { CheckFailure } from "../../common/check";
import type { ServiceInputs } from "../args";
import type { SlurmInputs } from "./inputs";
import { containerImageRef } from "./job-script";

/** Inputs of a service served as Slurm jobs: `slurm` set (it is what tells the targets apart). */
export type SlurmServiceInputs = ServiceInputs & { slurm: SlurmInputs; kubernetes?: undefined };

/**
 * Service inputs refused with `slurm`, each with what to use instead: settings of a Docker engine or
 * Kubernetes cluster, or ones `slurm` has its own field for.
 */
export const SLURM_REFUSED_INPUTS: Readonly<Record<string, string>> = {
  kubernetes: "give one target: `slurm` or `kubernetes`, not both",
  docker:
    "`docker` is a Docker engine's connection; a Slurm service runs on the cluster `slurm.login` reaches (fix: remove one)",
  images: "one Tesseract per Slurm service (fix: one TesseractService per image)",
  replicas: "use slurm.replicas (one job per replica)",
  port: "a job picks a free port on its node (fix: remove it)",
  hostIp: "a job serves on its node's address (fix: remove it)",
  volumes: "jobs use the cluster's shared file system (fix: remove it; read and write under slurm.workDir)",
  inputPath: "not supported with `slurm` (fix: remove it)",
  outputPath: "a job writes to <slurm.workDir>/outputs/<job id> (fix: remove it)",
  network: "a Docker setting (fix: remove it)",
  networkAlias: "a Docker setting (fix: remove it)",
  restartPolicy: "an ended job is resubmitted by `pulumi up` after `pulumi refresh` (fix: remove it)",
  registryAuth: "a Docker engine's pull credentials; nodes pull with their own (fix: remove it)",
  container: "Docker container settings (fix: remove it; use slurm.sbatchOptions or slurm.runtimeOptions)",
  memory: "use slurm.memory (--mem)",
  gpus: "use slurm.gpus (--gres=gpu:N)",
  user: "a job runs as the login user (fix: remove it)",
  numWorkers: "not supported with `slurm` (fix: remove it)",
  debug: "not supported with `slurm` (fix: remove it)",
  gpuTransport: "not supported with `slurm` (fix: remove it)",
  skipHealthCheck: "a replica is ready when it answers GET /health (fix: remove it)",
  startupTimeout: "use slurm.startTimeout (scheduling and start)",
  labels: "a Docker setting (fix: remove it)",
};

/**
 * Defaults the service's schema fills in (`check`'s output is validated again at `up`): such a
 * value is refused only when it differs from the default.
 */
const SCHEMA_DEFAULTS: Readonly<Record<string, unknown>> = {
  replicas: 1,
  hostIp: "127.0.0.1",
  restartPolicy: "unless-stopped",
  debug: false,
  startupTimeout: 30,
};

/** The mode a `slurm` input asks for (default `environment`). */
export function slurmMode(slurm: Pick<SlurmInputs, "mode">): NonNullable<SlurmInputs["mode"]> {
  return slurm.mode ?? "environment";
}

/**
 * True when raw inputs serve from source (`slurm` set, mode `environment` or unset): `image` is
 * then not needed (nor taken).
 */
export function servesFromSource(raw: Record<string, unknown>): boolean {
  const s = raw.slurm;
  if (typeof s !== "object" || s === null) return false;
  const mode = (s as { mode?: unknown }).mode;
  return mode === undefined || mode === "environment";
}

/**
 * Failures of a service's inputs with `slurm`: refused inputs (named, with the fix), the source
 * folder of environment mode (it must hold tesseract_api.py here, on the deploying machine), the
 * image reference of the container modes.
 */
export function slurmServiceFailures(raw: Record<string, unknown>, slurm: SlurmInputs, cwd: string): CheckFailure[] {
  const failures: CheckFailure[] = [];
  for (const [key, why] of Object.entries(SLURM_REFUSED_INPUTS)) {
    if (raw[key] !== undefined && raw[key] !== SCHEMA_DEFAULTS[key])
      failures.push({ property: key, reason: `${key}: not with \`slurm\`: ${why}` });
  }
  const mode = slurmMode(slurm);
  if (mode === "environment") {
    if (raw.image !== undefined)
      failures.push({
        property: "image",
        reason:
          'image: environment mode serves the Tesseract from its source, not an image (fix: remove `image` and set slurm.srcDir, or set slurm.mode to "podman" or "apptainer")',
      });
    if (slurm.srcDir === undefined)
      failures.push({
        property: "slurm.srcDir",
        reason:
          'slurm.srcDir: environment mode needs the Tesseract\'s source folder, the one holding tesseract_api.py (fix: e.g. srcDir: "./tesseracts/hello")',
      });
    else {
      const dir = path.resolve(cwd, slurm.srcDir);
      if (!existsSync(path.join(dir, "tesseract_api.py")) || !statSync(dir).isDirectory())
        failures.push({
          property: "slurm.srcDir",
          reason: `slurm.srcDir: ${JSON.stringify(dir)} is not a folder holding tesseract_api.py (fix: the Tesseract's source folder)`,
        });
    }
  } else if (typeof raw.image === "string") {
    try {
      containerImageRef(mode, raw.image);
    } catch (err) {
      failures.push({ property: "image", reason: `image: ${(err as Error).message}` });
    }
  }
  return failures;
}

/** The `slurm` input with `srcDir` made absolute (against the program's folder). */
export function resolveSlurm(slurm: SlurmInputs, cwd: string): SlurmInputs {
  return slurm.srcDir === undefined ? slurm : { ...slurm, srcDir: path.resolve(cwd, slurm.srcDir) };
}

/** The runtime's environment variables of a job: `environment`, `runtimeConfig`, `outputFormat`. */
export function slurmJobEnv(
  inputs: Pick<ServiceInputs, "environment" | "runtimeConfig" | "outputFormat">,
): Record<string, string> {
  const env: Record<string, string> = { ...inputs.environment };
  for (const [k, v] of Object.entries(inputs.runtimeConfig ?? {}))
    env[`TESSERACT_${k.toUpperCase()}`] = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
  if (inputs.outputFormat) env.TESSERACT_OUTPUT_FORMAT = inputs.outputFormat;
  return env;
}
