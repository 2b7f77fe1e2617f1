import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { contextTar, writeContext } from "../build-context/context";
import { connectToEngine, Progress } from "../common/log";
import { isFromStep } from "../docker/build-log";
import { type ContainerEngine, engineFor } from "../docker/engine";
import { DockerApiError, DockerBuildError } from "../docker/errors";
import { TesseractBuildError } from "./errors";
import { holderTagFor, holdImage, otherHolders } from "./holders";
import { type IndexProxies, startIndexProxies } from "./index-proxy";
import { buildKitOnlyProblems, type TesseractImageInputs, type TesseractImageOutputs } from "./inputs";
import { BuildLogTracker } from "./log";
import { prepareBuild } from "./prepare";
import { findReusableImage, tagAll } from "./reuse";
import {
  ensureRuntimeImage,
  holdRuntime,
  releaseRuntimeHold,
  removeRuntimeIfUnheld,
  runtimeHolderTagFor,
  undoHoldRuntime,
  useRuntime,
} from "./runtime-image";
import {
  dropBuildStage,
  type KeptBuildStage,
  keepBuildStage,
  lostCacheParent,
  removeCreatedImages,
} from "./stage-cache";

/** Options of {@link buildTesseractImage}: the TesseractImage inputs without `srcDir`. */
export type BuildTesseractImageOptions = Omit<TesseractImageInputs, "srcDir"> & {
  /** Receives every build log line (default: Progress, i.e. pulumi.log or stderr). */
  onLine?: (line: string) => void;
  /** Abort the build. */
  signal?: AbortSignal;
  /**
   * Receives progress (and, without `onLine`, build log) lines, secrets redacted. Default: the
   * Pulumi engine inside a stack; nothing outside one (a failure still carries the log tail).
   */
  onProgress?: (line: string) => void;
  /**
   * Write the build context and Dockerfile to `contextDir` (or a new temporary folder) and return
   * it without building, like upstream's `build_tesseract(generate_only=True)`.
   */
  generateOnly?: boolean;
};

/** What `buildTesseractImage` returns with `generateOnly`. */
export interface GeneratedTesseractContext {
  /** The folder holding the build context (`Dockerfile`, `__tesseract_source__/`, ...). */
  contextDir: string;
  /** The tags a build would give the image. */
  tags: string[];
  /** The context hash a build would label the image with. */
  contextHash: string;
}

export interface BuiltTesseractImage extends TesseractImageOutputs {
  /** Build log lines (the last 500). */
  log: string[];
}

const MISSING_BASE =
  /pull access denied|no such host|repository does not exist|manifest unknown|not found: manifest|failed to resolve|dial tcp|i\/o timeout/i;

/** What usually fixes a failed build step, judged by the step. */
function hintFor(err: DockerBuildError, baseImage: string): string | undefined {
  if (MISSING_BASE.test(err.engineMessage) && isFromStep(err.failedStep))
    return `the base image ${baseImage} is not available locally and cannot be pulled; load or build it first, e.g. \`docker load\`, or set build_config.base_image`;
  if (/--mount=type=secret/.test(err.failedStep ?? "") && / (pip|uv pip|conda env) /.test(err.failedStep ?? ""))
    return "check the requirements, the package index, and that secrets holds the right password or token for each build_config.host_credentials entry (its secret_id, host and username)";
  if (/ pip install /.test(err.failedStep ?? ""))
    return "check the requirements, the package index (pipIndexUrl) and, behind a TLS proxy, caCertificates and buildNetwork";
  if (/tesseract-runtime check/.test(err.failedStep ?? ""))
    return "tesseract_api.py failed to import in the image; a missing requirement or a module not listed in package_data?";
  return undefined;
}

/**
 * Builds a Tesseract image through the Docker Engine API (`POST /build`, classic builder or
 * BuildKit alike) from a Tesseract folder. Usable outside Pulumi, e.g. by tests and other resources.
 * On failure it removes the intermediate images this build created and throws a
 * TesseractBuildError naming the failing step with the end of the log.
 */
export async function buildTesseractImage(
  srcDir: string,
  options: BuildTesseractImageOptions & { generateOnly: true },
  engine?: ContainerEngine,
): Promise<GeneratedTesseractContext>;
export async function buildTesseractImage(
  srcDir: string,
  options?: BuildTesseractImageOptions & { generateOnly?: false },
  engine?: ContainerEngine,
): Promise<BuiltTesseractImage>;
export async function buildTesseractImage(
  srcDir: string,
  options: BuildTesseractImageOptions = {},
  engine: ContainerEngine = engineFor(options.docker),
): Promise<BuiltTesseractImage | GeneratedTesseractContext> {
  const [refused] = buildKitOnlyProblems(options);
  if (refused) throw new TesseractBuildError(refused.reason, { property: refused.property });
  const { onLine: _l, signal: _s, onProgress, generateOnly, ...rest } = options;
  const inputs: TesseractImageInputs = { ...rest, srcDir };
  const prepared = prepareBuild(inputs);
  const progress = new Progress(
    `TesseractImage ${prepared.tags[0]}`,
    [inputs.pipIndexUrl, ...(inputs.pipExtraIndexUrls ?? []), ...Object.values(inputs.secrets ?? {})],
    onProgress ?? (connectToEngine() ? undefined : () => undefined),
  );
  if (generateOnly) {
    const contextDir = path.resolve(
      inputs.contextDir ?? mkdtempSync(path.join(tmpdir(), `tesseract_build_${prepared.config.name}-`)),
    );
    writeContext(prepared.context, contextDir);
    progress.info(`wrote the build context to ${contextDir}`);
    return { contextDir, tags: prepared.tags, contextHash: prepared.contextHash };
  }
  if (inputs.contextDir) writeContext(prepared.context, path.resolve(inputs.contextDir));

  const holder = holderTagFor(prepared.config.name);
  // Inside a stack (a holder tag to keep it by), an image this package built with the same identity
  // is taken as it is; noCache asks for a build.
  const reusable =
    holder && !inputs.noCache ? await findReusableImage(engine, prepared.config.name, prepared.contextHash) : undefined;
  if (reusable) {
    await tagAll(engine, reusable.imageId, prepared.tags);
    const holderTag = await holdImage(engine, reusable.imageId, holder);
    progress.summary(
      `reused ${reusable.imageId.slice(7, 19)}, built earlier on this engine from the same sources and options (noCache: true builds again)`,
    );
    return {
      ...builtImage(inputs, prepared, reusable.imageId),
      ...(reusable.cacheTag ? { buildStageImageId: reusable.buildStageImageId, cacheTag: reusable.cacheTag } : {}),
      ...(holderTag ? { holderTag } : {}),
      log: [],
    };
  }

  if (prepared.builder === "buildkit") {
    const problem = await engine.buildKitProblem();
    if (problem) {
      const property =
        inputs.builder === "buildkit"
          ? "builder"
          : inputs.secrets
            ? "secrets"
            : inputs.injectSsh
              ? "injectSsh"
              : "srcDir";
      throw new TesseractBuildError(
        `building ${prepared.tags[0]} needs BuildKit (${inputs.builder === "buildkit" ? 'builder: "buildkit"' : "build_config.host_credentials / secrets / injectSsh"}), but ${problem} ` +
          '(fix: build on a Docker Engine (dockerd 18.09 or newer) through the docker input; or drop host_credentials and secrets and put the index credentials into pipIndexUrl, with builder: "auto")',
        { property, hint: "build on a Docker Engine, which has BuildKit" },
      );
    }
  }

  const sshAgentSocket = inputs.injectSsh ? process.env.SSH_AUTH_SOCK : undefined;
  if (inputs.injectSsh && !sshAgentSocket)
    throw new TesseractBuildError(
      "injectSsh: SSH_AUTH_SOCK is not set where the build runs, so there is no SSH agent to forward " +
        "(fix: start one and add the key before pulumi up: eval $(ssh-agent) && ssh-add <key>; or remove injectSsh)",
      { property: "injectSsh", hint: "start an ssh-agent holding the key" },
    );

  const baseImage = prepared.config.build_config.base_image;
  if (!(await engine.inspectImage(baseImage))) {
    progress.warn(`base image ${baseImage} is not present locally; the engine will try to pull it`);
  }

  let tracker = new BuildLogTracker();
  const onLine = (line: string) => {
    tracker.feed(line);
    (options.onLine ?? ((l: string) => progress.info(l)))(line);
  };
  const timeoutMs = (inputs.timeoutSeconds ?? 3600) * 1000;
  const signal = options.signal
    ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  progress.info(
    `building ${prepared.tags.join(", ")}${prepared.builder === "buildkit" ? " with BuildKit" : ""} (context ${prepared.context.entries.length} entries, hash ${prepared.contextHash.slice(0, 12)})`,
  );
  const started = Date.now();
  let imageId: string;
  let proxies: IndexProxies | undefined;
  // the shared runtime base image: found or built (once for this run), held while the build uses it
  const runtimeHolder = runtimeHolderTagFor(holder);
  let runtimeId: string | undefined;
  let runtimeBefore: string | undefined;
  let endUse = () => {};
  try {
    for (let attempt = 0; prepared.runtime && !runtimeId; attempt++) {
      const found = await ensureRuntimeImage(engine, prepared.runtime, {
        noCache: inputs.noCache,
        networkMode: inputs.buildNetwork,
        buildArgs: proxyArgs(inputs.buildArgs),
        signal,
        onLine: options.onLine ?? ((l: string) => progress.info(l)),
        progress,
      });
      endUse = useRuntime(engine, found);
      try {
        if (runtimeHolder) runtimeBefore = (await holdRuntime(engine, found, runtimeHolder)).previous;
        runtimeId = found;
      } catch (err) {
        endUse();
        // another process removed it (its last holder went) between finding and holding: once more
        if (attempt > 0 || !(err instanceof DockerApiError && err.statusCode === 404)) throw err;
      }
    }
    const buildArgs = { ...prepared.buildArgs };
    if (prepared.proxyIndexes) {
      // custom_build_steps see the index build args in the final stage: give them loopback URLs
      // without credentials (the proxy adds them), so the image history never holds them
      proxies = await startIndexProxies(
        [inputs.pipIndexUrl ?? "", ...(inputs.pipExtraIndexUrls ?? [])],
        inputs.caCertificates,
      );
      const p = proxies;
      if (inputs.pipIndexUrl) buildArgs.PIP_INDEX_URL = p.urlFor(inputs.pipIndexUrl);
      if (inputs.pipExtraIndexUrls?.length)
        buildArgs.PIP_EXTRA_INDEX_URL = inputs.pipExtraIndexUrls.map((u) => p.urlFor(u)).join(" ");
      progress.info("serving the credential-bearing package indexes through loopback proxies for this build");
    }
    const build = () =>
      engine.build(
        contextTar(prepared.context),
        {
          tags: prepared.tags,
          buildArgs: Object.keys(buildArgs).length ? buildArgs : undefined,
          labels: prepared.labels,
          networkMode: inputs.buildNetwork,
          noCache: inputs.noCache,
          platform: inputs.platform,
          signal,
          ...(prepared.builder === "buildkit"
            ? { buildKit: { secrets: { ...inputs.secrets }, ...(sshAgentSocket ? { sshAgentSocket } : {}) } }
            : {}),
        },
        onLine,
      );
    try {
      imageId = await build();
    } catch (err) {
      if (!lostCacheParent(err) || signal.aborted) throw err;
      // A layer this build took from the cache was removed while it ran (another build's cleanup
      // after its own failure, or an image removal): nothing is wrong with this build, so once more.
      await removeCreatedImages(engine, tracker.created);
      tracker = new BuildLogTracker();
      progress.warn("a cached layer this build used was removed meanwhile (another build's cleanup?); building again");
      imageId = await build();
    }
  } catch (err) {
    await removeCreatedImages(engine, tracker.created);
    endUse();
    if (runtimeId && runtimeHolder) await undoHoldRuntime(engine, runtimeId, runtimeHolder, runtimeBefore);
    else if (runtimeId) await removeRuntimeIfUnheld(engine, runtimeId);
    if (err instanceof DockerBuildError) {
      const hint = hintFor(err, baseImage);
      throw new TesseractBuildError(
        `building ${prepared.tags[0]} from ${prepared.srcDir} failed${hint ? ` (fix: ${hint})` : ""}\n${progress.redact(err.message)}`,
        { property: "srcDir", hint, cause: err },
      );
    }
    if (signal.aborted)
      throw new TesseractBuildError(
        `building ${prepared.tags[0]} did not finish within ${timeoutMs / 1000} s (timeoutSeconds)`,
        { property: "timeoutSeconds", hint: "raise timeoutSeconds", cause: err },
      );
    if (err instanceof DockerApiError)
      throw new TesseractBuildError(`building ${prepared.tags[0]} failed: ${progress.redact(err.message)}`, {
        cause: err,
      });
    throw err;
  } finally {
    await proxies?.close();
  }
  const image = await engine.inspectImage(imageId);
  // The build stage (the dependency cache) is either tagged, so it is no dangling <none> image and
  // delete can find it, or removed now and then not recorded, so delete has nothing of it to do.
  let stage: KeptBuildStage = {};
  if (inputs.keepBuildCache !== false) {
    stage = await keepBuildStage(engine, tracker, prepared.config.name, prepared.contextHash);
  } else {
    const left = await dropBuildStage(engine, tracker);
    if (left.length)
      progress.warn(
        `keepBuildCache: false, but the build stage images ${left.join(", ")} could not be removed (in use by another build?)`,
      );
  }
  const holderTag = await holdImage(engine, image?.Id ?? imageId, holder);
  endUse();
  // the runtime this resource held before (a rebuild on a new one), or, outside a stack, this one
  const release = runtimeHolder ? runtimeBefore : runtimeId;
  if (release) await removeRuntimeIfUnheld(engine, release).catch(() => undefined);
  progress.summary(`built ${imageId.slice(7, 19)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    ...builtImage(inputs, prepared, image?.Id ?? imageId),
    ...stage,
    ...(holderTag ? { holderTag } : {}),
    log: tracker.lines,
  };
}

/** The predefined proxy build args (they reach RUN steps without being recorded): the runtime build gets them. */
function proxyArgs(buildArgs: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(buildArgs ?? {}).filter(([k]) => /^(https?_proxy|ftp_proxy|no_proxy|all_proxy)$/i.test(k)),
  );
}

/** The outputs every build gives, reused or built (without the stage, holder and log). */
function builtImage(
  inputs: TesseractImageInputs,
  prepared: ReturnType<typeof prepareBuild>,
  imageId: string,
): Omit<BuiltTesseractImage, "log"> {
  return {
    imageId,
    imageName: prepared.tags[0],
    tags: prepared.tags,
    name: prepared.config.name,
    version: prepared.config.version,
    contextHash: prepared.contextHash,
    endpoints: prepared.endpoints,
    srcDir: prepared.srcDir,
    docker: inputs.docker,
  };
}

/** What {@link removeTesseractImage} needs to know of a built image. */
export type BuiltImageRecord = Pick<
  TesseractImageOutputs,
  "imageId" | "tags" | "docker" | "buildStageImageId" | "cacheTag" | "holderTag"
>;

/**
 * Removes our tags from an image and the image itself when nothing else references it. Only a
 * tag that still points at our image is ours to remove; an image in use by a container stays.
 * Our holder tag always goes; while another resource's holder tag is on the image (the same
 * build in another stack), the shared tags, the image, the cache tag and the build stage stay.
 */
export async function removeTesseractImage(
  outs: BuiltImageRecord,
  keepTags: string[] = [],
  engine: ContainerEngine = engineFor(outs.docker),
): Promise<void> {
  const runtimeHolder = runtimeHolderTagFor(outs.holderTag);
  try {
    await removeImageAndStage(outs, keepTags, engine);
  } finally {
    // the runtime base image this resource held: its tag, and the image when no one else holds it
    if (runtimeHolder && !keepTags.includes(runtimeHolder))
      await releaseRuntimeHold(engine, runtimeHolder).catch(() => undefined);
  }
}

async function removeImageAndStage(outs: BuiltImageRecord, keepTags: string[], engine: ContainerEngine): Promise<void> {
  if (outs.holderTag && !keepTags.includes(outs.holderTag)) {
    const held = await engine.inspectImage(outs.holderTag);
    if (held && held.Id === outs.imageId) await engine.removeImage(outs.holderTag);
  }
  if ((await otherHolders(engine, outs.imageId, outs.holderTag)).length) return;
  for (const tag of outs.tags ?? []) {
    if (keepTags.includes(tag)) continue;
    const info = await engine.inspectImage(tag);
    if (info && info.Id === outs.imageId) await engine.removeImage(tag).catch(ignoreInUse);
  }
  const info = outs.imageId ? await engine.inspectImage(outs.imageId) : undefined;
  if (info && (info.RepoTags?.length ?? 0) === 0) {
    await engine.removeImage(outs.imageId).catch(ignoreInUse);
  }
  if (outs.cacheTag && !keepTags.includes(outs.cacheTag)) {
    // removing the last tag removes the image and its untagged layers; other tags keep it
    await engine.removeImage(outs.cacheTag).catch(() => undefined);
  }
  if (outs.buildStageImageId) {
    const stage = await engine.inspectImage(outs.buildStageImageId);
    if (stage && (stage.RepoTags?.length ?? 0) === 0)
      await engine.removeImage(outs.buildStageImageId).catch(() => undefined);
  }
}

/**
 * A 409 from a removal: a container (of another stack, or run by hand) uses the image, and Docker
 * refuses to drop it or its last tag. The image stays for that container; the removal goes on.
 */
function ignoreInUse(err: unknown): false {
  if (err instanceof DockerApiError && err.statusCode === 409) return false;
  throw err;
}

/**
 * After a rebuild: drops what the old build had and the new one does not. A new image loses the
 * old image's other tags and the old image; the same image only loses tags no longer wanted.
 */
export async function releasePreviousBuild(
  olds: TesseractImageOutputs,
  built: TesseractImageOutputs,
  engine: ContainerEngine = engineFor(built.docker),
  oldEngine: ContainerEngine = engineFor(olds.docker),
): Promise<void> {
  if (olds.imageId && olds.imageId !== built.imageId) {
    await removeTesseractImage(
      {
        ...olds,
        buildStageImageId: olds.buildStageImageId !== built.buildStageImageId ? olds.buildStageImageId : undefined,
      },
      // the runtime holder tag is the resource's, already moved by the build: it stays
      [...built.tags, ...[runtimeHolderTagFor(built.holderTag)].filter((t): t is string => t !== undefined)],
      oldEngine,
    ).catch(() => undefined);
  } else if (olds.tags) {
    if (olds.cacheTag && olds.cacheTag !== built.cacheTag)
      await engine.removeImage(olds.cacheTag).catch(() => undefined);
    for (const t of olds.tags.filter((t) => !built.tags.includes(t))) {
      const info = await engine.inspectImage(t);
      if (info?.Id === built.imageId) await engine.removeImage(t);
    }
  }
}
