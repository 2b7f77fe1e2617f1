import type { z } from "zod";
import { type CheckFailure, zodFailures } from "../common/check";
import { TESSERACT_SERVICE_SECRETS } from "../common/secret-fields";
import { InputSecrets } from "../common/secrets";
import { type DockerConnection, resolveHost } from "../docker/connection";
import { serviceSchema } from "../resources/definitions/tesseract-service";
import { optionFailures } from "./container-options";
import { isClusterFileImage, isImageRef, RESERVED_LABELS } from "./input-rules";
import { kubernetesOptionFailures } from "./kubernetes/container-options";
import { kubernetesFailures } from "./kubernetes/inputs";
import { parsePort, portCount } from "./ports";
import { MEMORY, memoryBytes } from "./sizes";
import { resolveSlurm, servesFromSource, slurmServiceFailures } from "./slurm/service-inputs";
import { absolutePath, CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, isUrlPath, parseVolume } from "./volumes";

/**
 * Plain (resolved) inputs of a TesseractService, as the provider sees them after `check`: inferred
 * from the schema (defaults filled). `serviceName`, `stack` and `project` are set by the resource
 * class, not by the program.
 */
export type ServiceInputs = z.output<typeof serviceSchema>;

export { isClusterFileImage, isImageRef, MEMORY, memoryBytes, RESERVED_LABELS, serviceSchema };

/** True when the engine runs on this host, so host paths and port probes mean the same thing there. */
export function isLocalEngine(docker: DockerConnection | undefined): boolean {
  const host = resolveHost(docker);
  return host.startsWith("unix://") || /^tcp:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):/.test(host);
}

export interface ValidateResult {
  inputs?: ServiceInputs;
  failures: CheckFailure[];
}

/**
 * Validates raw inputs (preview unknowns already removed; `unknownKeys` are the top-level keys that
 * were unknown) and returns normalized inputs: defaults filled, host paths absolute, port a string.
 * Failures name the field, the value and the fix, never a secret's value: `secrets` are the
 * service's secret fields and the values the program marked secret (default: the fields of `raw`).
 */
export function validateInputs(
  raw: Record<string, unknown>,
  unknownKeys: ReadonlySet<string>,
  cwd: string,
  secrets: InputSecrets = new InputSecrets(raw, TESSERACT_SERVICE_SECRETS),
): ValidateResult {
  const result = validateUnguarded(raw, unknownKeys, cwd, secrets);
  return { ...result, failures: secrets.guard(result.failures) };
}

function validateUnguarded(
  raw: Record<string, unknown>,
  unknownKeys: ReadonlySet<string>,
  cwd: string,
  secrets: InputSecrets,
): ValidateResult {
  const failures: CheckFailure[] = [];
  const parsed = serviceSchema.safeParse(raw);
  if (!parsed.success) failures.push(...zodFailures(parsed.error, raw, "", secrets));

  const hasImage = raw.image !== undefined || unknownKeys.has("image");
  const hasImages = raw.images !== undefined || unknownKeys.has("images");
  // Environment mode on Slurm serves from source: `image` is refused there (slurmServiceFailures).
  if (hasImage === hasImages && !servesFromSource(raw)) {
    failures.push({
      property: hasImage ? "images" : "image",
      reason: hasImage
        ? "image, images: give exactly one of `image` (one Tesseract image) or `images` (several), not both"
        : "image: required; give `image` (a name such as `helloworld:latest` or a TesseractImage output) or `images`",
    });
  }
  if (!parsed.success) return { failures };
  const v = parsed.data;
  if (!v.slurm)
    for (const [i, image] of (v.images ?? (v.image !== undefined ? [v.image] : [])).entries())
      if (isClusterFileImage(image))
        failures.push({
          property: v.images ? `images[${i}]` : "image",
          reason: `${v.images ? `images[${i}]` : "image"}: ${JSON.stringify(image)} is a file only a Slurm container mode serves (fix: an image name, ID or registry/repo@sha256 digest here; docker-archive: with slurm.mode "podman", a .sif with "apptainer")`,
        });
  // Paths of a Kubernetes service are on the cluster's nodes: nothing to look at here.
  const local = v.kubernetes || v.slurm ? false : isLocalEngine(v.docker);
  // Slurm first: it refuses `kubernetes` (and every Docker setting) by name.
  if (v.slurm) failures.push(...slurmServiceFailures(raw, v.slurm, cwd));
  else if (v.kubernetes) failures.push(...kubernetesFailures(raw, v), ...kubernetesOptionFailures(v));
  failures.push(...optionFailures(v, local));

  // port: syntax, range, and room for every container
  let portSpec: ReturnType<typeof parsePort> | undefined;
  if (v.port !== undefined) {
    portSpec = parsePort(v.port);
    if ("error" in portSpec) {
      failures.push({ property: "port", reason: `port: ${portSpec.error} (got ${JSON.stringify(raw.port)})` });
    }
  }
  const imageCount = v.images?.length ?? 1;
  const containers = v.replicas * imageCount;
  if (portSpec && !("error" in portSpec) && portCount(portSpec) < containers && !unknownKeys.has("replicas")) {
    failures.push({
      property: "port",
      reason:
        `port: ${JSON.stringify(v.port)} offers ${portCount(portSpec)} host port(s) but the service runs ${containers} ` +
        `container(s) (fix: give a range with at least ${containers} ports, e.g. "8000-${8000 + containers - 1}", or omit \`port\`)`,
    });
  }

  // volumes: syntax, mode, source exists (on this host), duplicates
  const volumes: string[] = [];
  const sources = new Map<string, number>();
  const targets = new Map<string, number>();
  const reservedTargets = new Set<string>();
  if (v.inputPath && !isUrlPath(v.inputPath)) reservedTargets.add(CONTAINER_INPUT_PATH);
  if (v.outputPath && !isUrlPath(v.outputPath)) reservedTargets.add(CONTAINER_OUTPUT_PATH);
  (v.volumes ?? []).forEach((spec, i) => {
    const prop = `volumes[${i}]`;
    const res = parseVolume(spec, cwd, local);
    if ("error" in res) {
      failures.push({ property: prop, reason: `${prop}: ${JSON.stringify(spec)} ${res.error}` });
      return;
    }
    const m = res.ok;
    const dupSource = sources.get(m.source);
    if (dupSource !== undefined) {
      failures.push({
        property: prop,
        reason: `${prop}: source ${m.source} is already mounted by volumes[${dupSource}] (fix: mount each source once)`,
      });
    }
    const dupTarget = targets.get(m.target);
    if (dupTarget !== undefined || reservedTargets.has(m.target)) {
      failures.push({
        property: prop,
        reason:
          `${prop}: target ${m.target} is already used by ` +
          `${dupTarget !== undefined ? `volumes[${dupTarget}]` : "inputPath/outputPath"} (fix: pick another container path)`,
      });
    }
    sources.set(m.source, i);
    targets.set(m.target, i);
    volumes.push(`${m.source}:${m.target}:${m.mode}`);
  });

  let inputPath = v.inputPath;
  if (inputPath !== undefined) {
    inputPath = absolutePath(inputPath, cwd);
    if (local && !isUrlPath(inputPath)) {
      const res = parseVolume(`${inputPath}:${CONTAINER_INPUT_PATH}:ro`, cwd, true);
      if ("error" in res)
        failures.push({
          property: "inputPath",
          reason: `inputPath: ${inputPath} does not exist (fix: create it, or correct the path)`,
        });
    }
  }
  const outputPath = v.outputPath !== undefined ? absolutePath(v.outputPath, cwd) : undefined;

  if (v.networkAlias !== undefined && (v.network === undefined || v.network === "bridge" || v.network === "host")) {
    if (!unknownKeys.has("network")) {
      failures.push({
        property: "networkAlias",
        reason:
          'networkAlias: needs a user-defined `network` (Docker only resolves aliases there; fix: set `network`, e.g. "tesseracts")',
      });
    }
  }
  if (v.network === "host" && v.debug) {
    failures.push({
      property: "debug",
      reason:
        'debug: not supported with network "host" (the debugpy port cannot be published; fix: use a user network)',
    });
  }

  if (failures.length) return { failures };
  const inputs: ServiceInputs = {
    ...v,
    port: v.port,
    volumes: v.volumes ? volumes : undefined,
    inputPath,
    outputPath,
    gpus: v.gpus as ServiceInputs["gpus"],
    ...(v.slurm ? { slurm: resolveSlurm(v.slurm, cwd) } : {}),
  };
  return { inputs, failures };
}

/** The images a service serves, in order (`images`, or `[image]`). */
export function imagesOf(inputs: Pick<ServiceInputs, "image" | "images">): string[] {
  return inputs.images ?? [inputs.image!];
}
