import { z } from "zod";
import { type CheckFailure, zodFailures } from "../common/check";
import { LABELS } from "../common/labels";
import { TESSERACT_SERVICE_SECRETS } from "../common/secret-fields";
import { InputSecrets } from "../common/secrets";
import { type DockerConnection, dockerConnectionSchema, resolveHost } from "../docker/connection";
import { containerOptionsSchema, gpuTransportSchema, optionFailures } from "./container-options";
import { kubernetesOptionFailures } from "./kubernetes/container-options";
import { kubernetesFailures, kubernetesTargetSchema } from "./kubernetes/inputs";
import { parsePort, portCount } from "./ports";
import { registryAuthSchema } from "./pull";
import { MEMORY, memoryBytes } from "./sizes";
import { slurmTargetSchema } from "./slurm/inputs";
import { ARCHIVE_REF, SIF_PATH } from "./slurm/job-script";
import { resolveSlurm, servesFromSource, slurmServiceFailures } from "./slurm/service-inputs";
import { absolutePath, CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, isUrlPath, parseVolume } from "./volumes";

/** Label keys the provider sets itself; user labels may not override them. */
export const RESERVED_LABELS: string[] = [
  LABELS.managed,
  LABELS.service,
  LABELS.serviceId,
  LABELS.stack,
  LABELS.project,
  LABELS.replica,
  LABELS.image,
];

const NAME_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REF = new RegExp(
  `^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9-]+)*(?::\\d+)?|localhost(?::\\d+)?)/)?` +
    `${NAME_COMPONENT}(?:/${NAME_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);
const IMAGE_ID = /^(sha256:)?[a-f0-9]{12,64}$/;

/** True for a Docker image reference (`name[:tag][@digest]`) or an image ID (`sha256:...`). */
export function isImageRef(value: string): boolean {
  return IMAGE_ID.test(value) || IMAGE_REF.test(value);
}

/**
 * Files a Slurm container mode serves from the cluster's shared file system (job-script.ts
 * `containerImageRef` says which mode takes which): a `docker save` archive for podman, a `.sif`
 * for apptainer. No engine target can serve them.
 */
/** True for an image only Slurm serves: `docker-archive:/path.tar` or `/path/image.sif`. */
export function isClusterFileImage(value: string): boolean {
  return ARCHIVE_REF.test(value) || SIF_PATH.test(value);
}

const imageRef = z
  .string()
  .min(1, "must not be empty")
  .refine((v) => isImageRef(v) || isClusterFileImage(v), {
    message:
      "is not a valid Docker image reference (fix: lowercase `name[:tag]`, e.g. `helloworld:latest`, or an image ID `sha256:...`)",
  });

export { MEMORY, memoryBytes };

const RESTART = /^(no|always|unless-stopped|on-failure(?::\d+)?)$/;

/** Schema of the known parts of the inputs; cross-field rules are in {@link validateInputs}. */
export const serviceSchema = z.strictObject({
  image: imageRef.optional(),
  images: z.array(imageRef).min(1, "must list at least one image").optional(),
  replicas: z
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1 (fix: delete the resource to stop serving)")
    .max(100, "must be at most 100")
    .default(1),
  port: z
    .union([z.string(), z.number()])
    .transform((v) => String(v).trim())
    .optional(),
  hostIp: z.ipv4("must be an IPv4 address (fix: 127.0.0.1, or 0.0.0.0 for all interfaces)").default("127.0.0.1"),
  volumes: z.array(z.string()).optional(),
  inputPath: z.string().min(1, "must not be empty").optional(),
  outputPath: z.string().min(1, "must not be empty").optional(),
  // Each bad name is reported at its own path, so no failure points at the whole (maybe secret) map.
  environment: z
    .record(z.string(), z.string())
    .superRefine((r, ctx) => {
      for (const k of Object.keys(r))
        if (!/^[^=\s]+$/.test(k))
          ctx.addIssue({
            code: "custom",
            path: [k],
            message: "variable names must not be empty or contain `=` or spaces (fix: e.g. API_TOKEN)",
          });
    })
    .optional(),
  runtimeConfig: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .refine((r) => Object.keys(r).every((k) => /^[A-Za-z][A-Za-z0-9_]*$/.test(k)), {
      message: "keys must be identifiers such as `profiling`",
    })
    .optional(),
  outputFormat: z
    .enum(["json", "json+base64", "json+binref"], {
      message: 'must be "json", "json+base64" or "json+binref"',
    })
    .optional(),
  user: z
    .string()
    .regex(/^[\w.-]+(?::[\w.-]+)?$/, 'must be "uid", "uid:gid" or a user name (fix: e.g. "1000:1000")')
    .optional(),
  memory: z
    .string()
    .regex(MEMORY, 'must be a number with an optional unit b, k, m or g (fix: e.g. "512m" or "2g")')
    .refine((v) => !MEMORY.test(v) || memoryBytes(v) >= 6 * 1024 ** 2, {
      message: 'must be at least 6m, Docker\'s minimum (fix: e.g. "512m")',
    })
    .optional(),
  gpus: z
    .union([
      z.literal("all"),
      z
        .array(
          z
            .union([z.string(), z.number()])
            .transform((v) => String(v))
            .refine((v) => /^(\d+|GPU-[0-9a-fA-F-]+)$/.test(v), {
              message: 'GPU ids must be indexes ("0") or UUIDs ("GPU-...")',
            }),
        )
        .min(1, 'must list at least one GPU id, or be "all"'),
    ])
    .optional(),
  numWorkers: z.number().int("must be a whole number").min(1, "must be at least 1").optional(),
  network: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "is not a valid Docker network name")
    .refine((v) => v !== "none", {
      message: 'cannot be "none": the service must be reachable for its health check',
    })
    .optional(),
  networkAlias: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "is not a valid DNS alias")
    .optional(),
  debug: z.boolean().default(false),
  startupTimeout: z
    .number()
    .positive("must be more than 0 seconds (fix: e.g. 120 for slow-starting Tesseracts)")
    .max(3600, "must be at most 3600 seconds")
    .default(30),
  restartPolicy: z
    .string()
    .regex(RESTART, 'must be "no", "always", "unless-stopped" or "on-failure[:N]"')
    .default("unless-stopped"),
  labels: z
    .record(z.string(), z.string())
    .refine((r) => Object.keys(r).every((k) => !RESERVED_LABELS.includes(k)), {
      message: `must not use the provider's own keys (${RESERVED_LABELS.join(", ")})`,
    })
    .optional(),
  // Optional without a default: existing state has no value, and `undefined` means false.
  skipHealthCheck: z.boolean().optional(),
  gpuTransport: gpuTransportSchema.optional(),
  container: containerOptionsSchema.optional(),
  docker: dockerConnectionSchema.optional(),
  registryAuth: registryAuthSchema.optional(),
  kubernetes: kubernetesTargetSchema.optional(),
  slurm: slurmTargetSchema.optional(),
  serviceName: z.string().min(1),
  stack: z.string().optional(),
  project: z.string().optional(),
});

/**
 * Plain (resolved) inputs of a TesseractService, as the provider sees them after `check`: inferred
 * from the schema (defaults filled). `serviceName`, `stack` and `project` are set by the resource
 * class, not by the program.
 */
export type ServiceInputs = z.output<typeof serviceSchema>;

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
