import { createHash } from "node:crypto";
import * as path from "node:path";
import { caFiles, DEFAULT_RUNTIME_VERSION, generateBuildContext } from "../build-context/context";
import { pythonVersionOf } from "../build-context/dockerfile";
import { type RuntimeBase, runtimeBase } from "../build-context/runtime";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import {
  applyConfigOverrides,
  checkSourceFolder,
  checkTesseractApi,
  dockerfileFieldProblems,
  imageNameProblem,
  imageTags,
  readTesseractConfig,
  type TesseractConfig,
  TesseractSourceError,
  tagProblem,
} from "../tesseract-config";
import { hasCredentials } from "./index-proxy";
import type { TesseractImageInputs } from "./inputs";

/** Everything derived from the inputs and the sources before building. */

/** The image labels a build sets itself; the rest of an image's labels were its `labels` input. */
export const BUILD_LABEL_KEYS: ReadonlySet<string> = new Set([
  LABELS.managed,
  LABELS.contextHash,
  LABELS.build,
  LABELS.endpoints,
]);

export interface PreparedBuild {
  config: TesseractConfig;
  tags: string[];
  endpoints: string[];
  contextHash: string;
  context: ReturnType<typeof generateBuildContext>;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  srcDir: string;
  /**
   * Whether the build serves the credential-bearing index URLs through loopback proxies
   * (`index-proxy.ts`): set when `custom_build_steps` would otherwise see them in the final stage.
   */
  proxyIndexes: boolean;
  /** The builder the build uses ({@link chooseBuilder}). */
  builder: "buildkit" | "classic";
  /**
   * The shared runtime base image the build stage starts from (build/runtime-image.ts). Absent for
   * conda, and when an index URL carries credentials: those builds install the runtime themselves,
   * as before, so no shared image ever holds a credential.
   */
  runtime?: RuntimeBase;
}

/** Predefined proxy build args: the classic builder keeps them out of the history unless declared. */
/** The CPython versions `python_version` may name (3.N or 3.N.M): they reach RUN lines, so nothing else. */
const PYTHON_VERSION = /^3\.\d{1,2}(\.\d{1,3})?$/;

const PROXY_ARGS = /^(https?_proxy|ftp_proxy|no_proxy|all_proxy)$/i;

/**
 * Why a build would write a credential into the final image (empty when it would not). The final stage
 * declares `ARG PIP_INDEX_URL` / `ARG PIP_EXTRA_INDEX_URL` only for `custom_build_steps`; then
 * credentials must go through the loopback proxy, which the build reaches only on the host network.
 * A step that declares `ARG <name>` of a credential-bearing build arg records it too.
 */
export function finalImageSecretProblems(
  inputs: Pick<TesseractImageInputs, "pipIndexUrl" | "pipExtraIndexUrls" | "buildNetwork" | "buildArgs">,
  steps: readonly string[],
): { property: string; reason: string }[] {
  if (!steps.length) return [];
  const out: { property: string; reason: string }[] = [];
  const secretIndex = [inputs.pipIndexUrl, ...(inputs.pipExtraIndexUrls ?? [])].some(hasCredentials);
  if (secretIndex && inputs.buildNetwork !== "host") {
    out.push({
      property: "buildNetwork",
      reason:
        "pipIndexUrl / pipExtraIndexUrls carry credentials and tesseract_config.yaml has custom_build_steps, which run " +
        "in the final image's stage: the classic builder would record the index URL in the pushed image's history. " +
        'The provider instead serves the index to the build through a loopback proxy that adds the credentials, which the build reaches only with buildNetwork: "host" ' +
        '(fix: set buildNetwork: "host"; or install those packages from the requirements file instead of custom_build_steps; or use an index URL without credentials)',
    });
  }
  const declared = new Set<string>();
  for (const step of steps) for (const m of step.matchAll(/^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)/gim)) declared.add(m[1]);
  for (const [name, value] of Object.entries(inputs.buildArgs ?? {})) {
    if (!declared.has(name) || !hasCredentials(value)) continue;
    out.push({
      property: `buildArgs.${name}`,
      reason:
        `buildArgs.${name} carries credentials and a custom_build_steps line declares \`ARG ${name}\`: the classic builder records declared build args in the image history ` +
        `(fix: remove the ARG line${PROXY_ARGS.test(name) ? `; ${name} is a predefined proxy arg, visible to RUN without it and kept out of the history` : ""}, or pass the value without credentials)`,
    });
  }
  return out;
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
  const pythonVersion = pythonVersionOf(config);
  if (pythonVersion !== undefined && !PYTHON_VERSION.test(pythonVersion)) {
    unsupported.push(
      `build_config.requirements.python_version ${JSON.stringify(pythonVersion)} is not a CPython version (fix: e.g. "3.12" or "3.12.7")`,
    );
  }
  const nameProblem = imageNameProblem(config.name);
  if (nameProblem) unsupported.push(nameProblem);
  unsupported.push(...dockerfileFieldProblems(config));
  if (unsupported.length)
    throw new TesseractSourceError(
      "srcDir",
      unsupported.map((u) => `${path.join(srcDir, "tesseract_config.yaml")}: ${u}`),
    );
  if (inputs.tag !== undefined) {
    const p = tagProblem(inputs.tag);
    if (p) throw new UserError(`tag: ${p}`, { property: "tag" });
  } else {
    const p = tagProblem(config.version);
    if (p) throw new TesseractSourceError("srcDir", [`tesseract_config.yaml: version ${p}`]);
  }
  const tags = [...new Set([...imageTags(config.name, config.version, inputs.tag), ...(inputs.extraTags ?? [])])];
  const steps = bc.custom_build_steps ?? [];
  const [secretProblem] = finalImageSecretProblems(inputs, steps);
  if (secretProblem) throw new UserError(secretProblem.reason, { property: secretProblem.property });

  const builder = chooseBuilder(inputs, config);

  const runtimeVersion = inputs.runtimeVersion ?? DEFAULT_RUNTIME_VERSION;
  const indexUrls = [inputs.pipIndexUrl, ...(inputs.pipExtraIndexUrls ?? [])];
  const runtime = indexUrls.some(hasCredentials)
    ? undefined
    : runtimeBase(config, {
        runtimeVersion,
        installer: inputs.installer ?? "pip",
        caFiles: caFiles(inputs.caCertificates),
        pipIndexUrl: inputs.pipIndexUrl,
        pipExtraIndexUrls: inputs.pipExtraIndexUrls,
        platform: inputs.platform,
      });
  const context = generateBuildContext(srcDir, config, {
    runtimeVersion,
    ...(runtime ? { runtime: { image: runtime.image, dockerfile: runtime.dockerfile } } : {}),
    caCertificates: inputs.caCertificates,
    pipIndexUrl: Boolean(inputs.pipIndexUrl),
    pipExtraIndexUrls: Boolean(inputs.pipExtraIndexUrls?.length),
    installer: inputs.installer,
    followLinksOutside: inputs.followLinksOutside,
    ...(builder === "buildkit"
      ? {
          buildKit: {
            credentials: bc.host_credentials.map((c) => ({
              host: c.host,
              username: c.username,
              secretId: c.secret_id,
            })),
            ssh: inputs.injectSsh === true,
          },
        }
      : {}),
  });
  const buildArgs: Record<string, string> = { ...inputs.buildArgs };
  if (inputs.pipIndexUrl) buildArgs.PIP_INDEX_URL = inputs.pipIndexUrl;
  if (inputs.pipExtraIndexUrls?.length) buildArgs.PIP_EXTRA_INDEX_URL = inputs.pipExtraIndexUrls.join(" ");
  // The options that change the image (not noCache, keepBuildCache, network, timeouts or the engine address).
  const identity = {
    context: context.hash,
    tags,
    buildArgs: Object.entries(buildArgs).sort(),
    labels: Object.entries(inputs.labels ?? {}).sort(),
    platform: inputs.platform ?? "",
    // BuildKit builds another image than the classic builder; the secrets count by id only, so a
    // new value (a rotated token) does not rebuild. Absent on the classic path: its hashes stay.
    ...(builder === "buildkit" ? { builder, secretIds: Object.keys(inputs.secrets ?? {}).sort() } : {}),
  };
  const contextHash = createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  // Every key here but the user's must be in BUILD_LABEL_KEYS (an import tells them apart by it).
  const labels: Record<string, string> = {
    ...inputs.labels,
    [LABELS.managed]: "true",
    [LABELS.contextHash]: contextHash,
    [LABELS.build]: contextHash.slice(0, 16),
    // read by getTesseractImages (the endpoints already count in the context hash, via the source)
    [LABELS.endpoints]: api.endpoints.join(","),
  };
  const proxyIndexes =
    steps.length > 0 && [inputs.pipIndexUrl, ...(inputs.pipExtraIndexUrls ?? [])].some(hasCredentials);
  return {
    config,
    tags,
    endpoints: api.endpoints,
    contextHash,
    context,
    buildArgs,
    labels,
    srcDir,
    proxyIndexes,
    builder,
    ...(runtime ? { runtime } : {}),
  };
}

/**
 * Which builder a build uses: `builder: "auto"` (the default) takes BuildKit only when the build
 * needs it (`build_config.host_credentials`, `secrets`, `injectSsh`), so every other build keeps the classic
 * builder's build stage image (`keepBuildCache`). Throws UserError naming the input and the fix
 * when the build needs BuildKit and `builder` is `"classic"`, or a credential names a secret id
 * that `secrets` lacks (the id is named, never a value).
 */
export function chooseBuilder(
  inputs: Pick<TesseractImageInputs, "builder" | "secrets" | "injectSsh">,
  config: TesseractConfig,
): "buildkit" | "classic" {
  const needs: string[] = [];
  const creds = config.build_config.host_credentials;
  if (creds.length) needs.push("build_config.host_credentials (secret mounts)");
  if (inputs.secrets && Object.keys(inputs.secrets).length) needs.push("secrets");
  if (inputs.injectSsh) needs.push("injectSsh (an SSH mount)");
  if (needs.length && inputs.builder === "classic")
    throw new UserError(
      `builder: "classic" cannot build this image: ${needs.join(" and ")} need BuildKit ` +
        '(fix: set builder: "auto" or "buildkit"; or remove them and put the index credentials into pipIndexUrl, kept secret with pulumi.secret)',
      { property: "builder" },
    );
  const given = new Set(Object.keys(inputs.secrets ?? {}));
  const missing = [...new Set(creds.map((c) => c.secret_id).filter((id) => !given.has(id)))];
  if (missing.length)
    throw new UserError(
      `secrets: build_config.host_credentials name the secret id${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which secrets does not hold ` +
        `(fix: add ${missing.map((id) => `${id}: <the password or token for ${creds.find((c) => c.secret_id === id)?.host}>`).join(", ")} to secrets, kept secret with pulumi.secret)`,
      { property: "secrets" },
    );
  return needs.length || inputs.builder === "buildkit" ? "buildkit" : "classic";
}
