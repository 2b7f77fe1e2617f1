import { createHash } from "node:crypto";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { contextTar, DEFAULT_RUNTIME_VERSION, generateBuildContext, writeContext } from "../build-context/context";
import { type CheckFailure, zodFailures } from "../common/check";
import { describeError, UserError } from "../common/errors";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { containsUnknown, UNKNOWN } from "../common/unknown";
import {
  DockerApiError,
  DockerBuildError,
  DockerClient,
  type DockerConnection,
  dockerConnectionSchema,
  namedEngine,
} from "../docker";
import {
  applyConfigOverrides,
  checkSourceFolder,
  checkTesseractApi,
  imageNameProblem,
  imageTags,
  readTesseractConfig,
  type TesseractConfig,
  TesseractSourceError,
  tagProblem,
} from "../tesseract-config";

/** Plain inputs of a TesseractImage, as the provider sees them. */
export interface TesseractImageInputs {
  srcDir: string;
  tag?: string;
  configOverride?: Record<string, unknown>;
  noCache?: boolean;
  buildArgs?: Record<string, string>;
  runtimeVersion?: string;
  pipIndexUrl?: string;
  pipExtraIndexUrls?: string[];
  caCertificates?: string;
  buildNetwork?: string;
  platform?: string;
  labels?: Record<string, string>;
  contextDir?: string;
  timeoutSeconds?: number;
  docker?: DockerConnection;
}

/** Outputs (state) of a TesseractImage. */
export interface TesseractImageOutputs {
  imageId: string;
  imageName: string;
  tags: string[];
  name: string;
  version: string;
  contextHash: string;
  endpoints: string[];
  /** The build stage's image (the dependency cache), removed on delete. */
  buildStageImageId?: string;
  /** Tag kept on the build stage's image so it is not a dangling `<none>` image, removed on delete. */
  cacheTag?: string;
  srcDir: string;
  docker?: DockerConnection;
}

export const LABEL_MANAGED = "pulumi-tesseract.managed";
export const LABEL_CONTEXT_HASH = "pulumi-tesseract.context-hash";
export const LABEL_BUILD = "pulumi-tesseract.build";

const RUNTIME_VERSION = /^\d+\.\d+\.\d+([a-z]+\d+|\.post\d+|\.dev\d+)*$/;

const inputsSchema = z.strictObject({
  srcDir: z.string().min(1, "must be the folder holding tesseract_api.py and tesseract_config.yaml"),
  tag: z.string().optional(),
  configOverride: z.record(z.string(), z.unknown()).optional(),
  noCache: z.boolean().optional(),
  // Keys checked by a refine: zod 4 replaces a record key schema's message with "Invalid key in record".
  buildArgs: z
    .record(z.string(), z.string())
    .refine((r) => Object.keys(r).every((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)), {
      message:
        "build arg names must be identifiers (fix: e.g. PIP_TIMEOUT; letters, digits and _, not starting with a digit)",
    })
    .optional(),
  runtimeVersion: z.string().regex(RUNTIME_VERSION, "must be a tesseract-core release such as 1.15.0").optional(),
  pipIndexUrl: z.url({ error: "must be a URL such as https://pypi.org/simple" }).optional(),
  pipExtraIndexUrls: z.array(z.url({ error: "must be a URL" })).optional(),
  caCertificates: z
    .string()
    .includes("-----BEGIN CERTIFICATE-----", { message: "must be PEM text (-----BEGIN CERTIFICATE-----...)" })
    .optional(),
  buildNetwork: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, "must be a Docker network mode such as host, bridge or none")
    .optional(),
  platform: z
    .string()
    .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, "must look like linux/amd64 or linux/arm64/v8")
    .optional(),
  labels: z.record(z.string().min(1), z.string()).optional(),
  contextDir: z.string().min(1).optional(),
  timeoutSeconds: z
    .number()
    .int()
    .positive()
    .max(24 * 3600)
    .optional(),
  docker: dockerConnectionSchema.optional(),
});

/** Everything derived from the inputs and the sources before building. */
export interface PreparedBuild {
  config: TesseractConfig;
  tags: string[];
  endpoints: string[];
  contextHash: string;
  context: ReturnType<typeof generateBuildContext>;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  srcDir: string;
}

/**
 * Reads, validates and renders everything for a build. Throws TesseractSourceError (with the
 * file, field and fix) or UserError; touches no Docker engine.
 */
export function prepareBuild(inputs: TesseractImageInputs): PreparedBuild {
  const srcDir = path.resolve(inputs.srcDir);
  const folderProblems = checkSourceFolder(srcDir);
  if (folderProblems.length) throw new TesseractSourceError("srcDir", folderProblems);
  const problems: string[] = [];
  let config: TesseractConfig | undefined;
  try {
    config = applyConfigOverrides(readTesseractConfig(srcDir), inputs.configOverride);
  } catch (err) {
    if (err instanceof TesseractSourceError && err.input === "configOverride") throw err;
    if (err instanceof TesseractSourceError) problems.push(...err.problems);
    else throw err;
  }
  const api = checkTesseractApi(srcDir);
  problems.push(...api.problems);
  if (problems.length || !config) throw new TesseractSourceError("srcDir", problems);

  const bc = config.build_config;
  const unsupported: string[] = [];
  if (bc.requirements.provider === "uv-pip" && bc.requirements.python_version != null) {
    unsupported.push(
      `build_config.requirements.python_version (${bc.requirements.python_version}) needs uv to download a CPython build; ` +
        "TesseractImage uses the base image's Python (fix: remove python_version, or use a base image with that Python)",
    );
  }
  if (bc.host_credentials.length) {
    unsupported.push(
      "build_config.host_credentials need BuildKit build secrets, which the classic builder lacks (fix: put credentials into pipIndexUrl, kept secret with pulumi.secret)",
    );
  }
  const nameProblem = imageNameProblem(config.name);
  if (nameProblem) unsupported.push(nameProblem);
  if (unsupported.length)
    throw new TesseractSourceError(
      "srcDir",
      unsupported.map((u) => `${path.join(srcDir, "tesseract_config.yaml")}: ${u}`),
    );
  if (inputs.tag !== undefined) {
    const p = tagProblem(inputs.tag);
    if (p) throw new UserError(`tag: ${p}`);
  } else {
    const p = tagProblem(config.version);
    if (p) throw new TesseractSourceError("srcDir", [`tesseract_config.yaml: version ${p}`]);
  }
  const tags = imageTags(config.name, config.version, inputs.tag);

  const context = generateBuildContext(srcDir, config, {
    runtimeVersion: inputs.runtimeVersion ?? DEFAULT_RUNTIME_VERSION,
    caCertificates: inputs.caCertificates,
    pipIndexUrl: Boolean(inputs.pipIndexUrl),
    pipExtraIndexUrls: Boolean(inputs.pipExtraIndexUrls?.length),
  });
  const buildArgs: Record<string, string> = { ...inputs.buildArgs };
  if (inputs.pipIndexUrl) buildArgs.PIP_INDEX_URL = inputs.pipIndexUrl;
  if (inputs.pipExtraIndexUrls?.length) buildArgs.PIP_EXTRA_INDEX_URL = inputs.pipExtraIndexUrls.join(" ");
  // The options that change the image (not noCache, network, timeouts or the engine address).
  const identity = {
    context: context.hash,
    tags,
    buildArgs: Object.entries(buildArgs).sort(),
    labels: Object.entries(inputs.labels ?? {}).sort(),
    platform: inputs.platform ?? "",
  };
  const contextHash = createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  const labels: Record<string, string> = {
    ...inputs.labels,
    [LABEL_MANAGED]: "true",
    [LABEL_CONTEXT_HASH]: contextHash,
    [LABEL_BUILD]: contextHash.slice(0, 16),
  };
  return { config, tags, endpoints: api.endpoints, contextHash, context, buildArgs, labels, srcDir };
}

/** Options of {@link buildTesseractImage}: the TesseractImage inputs without `srcDir`. */
export type BuildTesseractImageOptions = Omit<TesseractImageInputs, "srcDir"> & {
  /** Receives every build log line (default: Progress, i.e. pulumi.log or stderr). */
  onLine?: (line: string) => void;
  /** Abort the build. */
  signal?: AbortSignal;
};

export interface BuiltTesseractImage extends TesseractImageOutputs {
  /** Build log lines (the last 500). */
  log: string[];
}

const FROM_STEP = /^Step \d+\/\d+ : FROM /i;

/**
 * Builds a Tesseract image through the Docker Engine API (`POST /build`, classic builder or
 * BuildKit alike) from a Tesseract folder. Usable outside Pulumi, e.g. by tests and other resources.
 * On failure it removes the intermediate images this build created and throws a UserError naming
 * the failing step with the end of the log.
 */
export async function buildTesseractImage(
  srcDir: string,
  options: BuildTesseractImageOptions = {},
): Promise<BuiltTesseractImage> {
  const inputs: TesseractImageInputs = { ...options, srcDir };
  const prepared = prepareBuild(inputs);
  const progress = new Progress(`TesseractImage ${prepared.tags[0]}`, [
    inputs.pipIndexUrl,
    ...(inputs.pipExtraIndexUrls ?? []),
  ]);
  if (inputs.contextDir) writeContext(prepared.context, path.resolve(inputs.contextDir));
  const docker = DockerClient.for(inputs.docker);

  const baseImage = prepared.config.build_config.base_image;
  if (!(await docker.inspectImage(baseImage))) {
    progress.warn(`base image ${baseImage} is not present locally; the engine will try to pull it`);
  }

  const created: string[] = [];
  const log: string[] = [];
  let lastWasCache = false;
  let inFrom = false;
  let stageImage: string | undefined;
  let stage = 0;
  const onLine = (line: string) => {
    log.push(line);
    if (log.length > 500) log.shift();
    (options.onLine ?? ((l: string) => progress.info(l)))(line);
    if (/^Step \d+\/\d+ : /.test(line)) {
      if (FROM_STEP.test(line)) {
        stage++;
        inFrom = true;
      } else inFrom = false;
      lastWasCache = false;
      return;
    }
    if (/^\s*---> Using cache/.test(line)) {
      lastWasCache = true;
      return;
    }
    const m = /^\s*---> ([0-9a-f]{12})\s*$/.exec(line);
    if (m) {
      if (stage === 1) stageImage = m[1];
      if (!inFrom && !lastWasCache) created.push(m[1]);
      lastWasCache = false;
    }
  };

  const timeoutMs = (inputs.timeoutSeconds ?? 3600) * 1000;
  const signal = options.signal
    ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  progress.info(
    `building ${prepared.tags.join(", ")} (context ${prepared.context.entries.length} entries, hash ${prepared.contextHash.slice(0, 12)})`,
  );
  const started = Date.now();
  let imageId: string;
  try {
    imageId = await docker.build(
      contextTar(prepared.context),
      {
        tags: prepared.tags,
        buildArgs: Object.keys(prepared.buildArgs).length ? prepared.buildArgs : undefined,
        labels: prepared.labels,
        networkMode: inputs.buildNetwork,
        noCache: inputs.noCache,
        platform: inputs.platform,
        signal,
      },
      onLine,
    );
  } catch (err) {
    await removeCreatedImages(docker, created);
    if (err instanceof DockerBuildError) {
      const missingBase =
        /pull access denied|no such host|repository does not exist|manifest unknown|not found: manifest|failed to resolve|dial tcp|i\/o timeout/i.test(
          err.engineMessage,
        ) && FROM_STEP.test(err.failedStep ?? "");
      const hint = missingBase
        ? ` (fix: the base image ${baseImage} is not available locally and cannot be pulled; load or build it first, e.g. \`docker load\`, or set build_config.base_image)`
        : / pip install /.test(err.failedStep ?? "")
          ? " (fix: check the requirements, the package index (pipIndexUrl) and, behind a TLS proxy, caCertificates and buildNetwork)"
          : /tesseract-runtime check/.test(err.failedStep ?? "")
            ? " (fix: tesseract_api.py failed to import in the image; a missing requirement or a module not listed in package_data?)"
            : "";
      throw new UserError(
        `building ${prepared.tags[0]} from ${prepared.srcDir} failed${hint}\n${progress.redact(err.message)}`,
      );
    }
    if (signal.aborted)
      throw new UserError(`building ${prepared.tags[0]} did not finish within ${timeoutMs / 1000} s (timeoutSeconds)`);
    if (err instanceof DockerApiError)
      throw new UserError(`building ${prepared.tags[0]} failed: ${progress.redact(err.message)}`);
    throw err;
  }
  const image = await docker.inspectImage(imageId);
  // Tag the build stage (the dependency cache) so it is not left as a dangling <none> image.
  let cacheTag: string | undefined;
  if (stageImage) {
    const repo = `pulumi-tesseract-cache/${prepared.config.name}`;
    const t = prepared.contextHash.slice(0, 16);
    try {
      await docker.tagImage(stageImage, repo, t);
      cacheTag = `${repo}:${t}`;
    } catch {
      // the cache stays untagged; nothing depends on the tag
    }
  }
  progress.info(`built ${imageId.slice(7, 19)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    imageId: image?.Id ?? imageId,
    imageName: prepared.tags[0],
    tags: prepared.tags,
    name: prepared.config.name,
    version: prepared.config.version,
    contextHash: prepared.contextHash,
    endpoints: prepared.endpoints,
    buildStageImageId: stageImage,
    cacheTag,
    srcDir: prepared.srcDir,
    docker: inputs.docker,
    log,
  };
}

/** Removes the images a failed build created (newest first, without touching their parents). */
async function removeCreatedImages(docker: DockerClient, created: string[]): Promise<void> {
  for (const id of [...created].reverse()) {
    try {
      const info = await docker.inspectImage(id);
      if (!info || (info.RepoTags?.length ?? 0) > 0) continue;
      await docker.removeImage(id, { noprune: true });
    } catch {
      // an image that another build now uses keeps existing
    }
  }
}

/** Removes our tags from an image and the image itself when nothing else references it. */
export async function removeTesseractImage(
  outs: Pick<TesseractImageOutputs, "imageId" | "tags" | "docker" | "buildStageImageId" | "cacheTag">,
  keepTags: string[] = [],
): Promise<void> {
  const docker = DockerClient.for(outs.docker);
  for (const tag of outs.tags ?? []) {
    if (keepTags.includes(tag)) continue;
    const info = await docker.inspectImage(tag);
    // only a tag that still points at our image is ours to remove
    if (info && info.Id === outs.imageId) await docker.removeImage(tag);
  }
  const info = outs.imageId ? await docker.inspectImage(outs.imageId) : undefined;
  if (info && (info.RepoTags?.length ?? 0) === 0) {
    try {
      await docker.removeImage(outs.imageId);
    } catch (err) {
      // in use by a container: leave it (Docker refuses); the tags are gone
      if (!(err instanceof DockerApiError && err.statusCode === 409)) throw err;
    }
  }
  if (outs.cacheTag && !keepTags.includes(outs.cacheTag)) {
    // removing the last tag removes the image and its untagged layers; other tags keep it
    await docker.removeImage(outs.cacheTag).catch(() => undefined);
  }
  if (outs.buildStageImageId) {
    const stage = await docker.inspectImage(outs.buildStageImageId);
    if (stage && (stage.RepoTags?.length ?? 0) === 0)
      await docker.removeImage(outs.buildStageImageId).catch(() => undefined);
  }
}

// ---- dynamic provider methods --------------------------------------------------------------

function clean(inputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) if (k !== "__provider" && v !== undefined) out[k] = v;
  return out;
}

export async function check(
  _olds: TesseractImageInputs,
  news: TesseractImageInputs,
): Promise<pulumi.dynamic.CheckResult> {
  const inputs = clean(news as unknown as Record<string, unknown>);
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) if (!containsUnknown(v)) known[k] = v;
  // A required input that is unknown at preview is validated at `up`.
  const parsed = (
    Object.keys(known).length < Object.keys(inputs).length ? inputsSchema.partial() : inputsSchema
  ).safeParse(known);
  if (!parsed.success)
    return {
      inputs: news,
      failures: zodFailures(parsed.error, known, "", ["pipIndexUrl", "pipExtraIndexUrls", "docker.keyPem"]),
    };
  // Sources can only be checked once every input that shapes them is known.
  if (["srcDir", "configOverride", "tag", "caCertificates", "runtimeVersion"].some((k) => containsUnknown(inputs[k])))
    return { inputs: news };
  try {
    prepareBuild(parsed.data as TesseractImageInputs);
  } catch (err) {
    return { inputs: news, failures: failuresOf(err) };
  }
  return { inputs: news };
}

function failuresOf(err: unknown): CheckFailure[] {
  if (err instanceof TesseractSourceError) return err.problems.map((p) => ({ property: err.input, reason: p }));
  if (err instanceof UserError) {
    const property = /^(\w+):/.exec(err.message)?.[1] ?? "srcDir";
    return [{ property, reason: err.message }];
  }
  return [{ property: "srcDir", reason: describeError(err) }];
}

export async function diff(
  _id: string,
  olds: TesseractImageOutputs,
  news: TesseractImageInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces: string[] = [];
  // Another engine (host or context) means another image: replace.
  if (!containsUnknown(news.docker) && namedEngine(news.docker) !== namedEngine(olds.docker)) replaces.push("docker");
  if (containsUnknown(clean(news as unknown as Record<string, unknown>))) return { changes: true, replaces };
  let hash: string;
  try {
    hash = prepareBuild(news).contextHash;
  } catch {
    return { changes: true, replaces }; // update reports the problem
  }
  return { changes: hash !== olds.contextHash || replaces.length > 0, replaces };
}

function outputsOf(built: BuiltTesseractImage): TesseractImageOutputs {
  const { log: _log, ...outs } = built;
  return toPlainJson(outs);
}

export async function create(inputs: TesseractImageInputs): Promise<pulumi.dynamic.CreateResult> {
  const built = await buildTesseractImage(
    inputs.srcDir,
    clean(inputs as unknown as Record<string, unknown>) as unknown as TesseractImageInputs,
  );
  return { id: built.imageName, outs: outputsOf(built) };
}

export async function update(
  _id: string,
  olds: TesseractImageOutputs,
  news: TesseractImageInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const built = await buildTesseractImage(
    news.srcDir,
    clean(news as unknown as Record<string, unknown>) as unknown as TesseractImageInputs,
  );
  // Drop what the old build had and the new one does not (tags elsewhere, the old image).
  if (olds.imageId && olds.imageId !== built.imageId) {
    await removeTesseractImage(
      {
        ...olds,
        buildStageImageId: olds.buildStageImageId !== built.buildStageImageId ? olds.buildStageImageId : undefined,
      },
      built.tags,
    ).catch(() => undefined);
  } else if (olds.tags) {
    const docker = DockerClient.for(built.docker);
    if (olds.cacheTag && olds.cacheTag !== built.cacheTag)
      await docker.removeImage(olds.cacheTag).catch(() => undefined);
    for (const t of olds.tags.filter((t) => !built.tags.includes(t))) {
      const info = await docker.inspectImage(t);
      if (info?.Id === built.imageId) await docker.removeImage(t);
    }
  }
  return { outs: outputsOf(built) };
}

export async function read(id: string, props: TesseractImageOutputs): Promise<pulumi.dynamic.ReadResult> {
  const docker = DockerClient.for(props.docker);
  const image = props.imageId ? await docker.inspectImage(props.imageId) : undefined;
  // Removed out of band: an empty id tells the engine the resource is gone, so `up --refresh` rebuilds it.
  if (!image) return { id: "", props: {} };
  const tags = image.RepoTags ?? [];
  const allTagged = (props.tags ?? []).every((t) => tags.includes(t));
  // A tag moved or removed by hand: mark the state stale so the next diff rebuilds (from cache) and retags.
  return {
    id,
    props: toPlainJson({ ...props, contextHash: allTagged ? props.contextHash : `stale:${props.contextHash}` }),
  };
}

export async function del(_id: string, props: TesseractImageOutputs): Promise<void> {
  await removeTesseractImage(props);
}

export { UNKNOWN };
