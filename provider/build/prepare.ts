import { createHash } from "node:crypto";
import * as path from "node:path";
import { DEFAULT_RUNTIME_VERSION, generateBuildContext } from "../build-context/context";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
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
    if (p) throw new UserError(`tag: ${p}`, { property: "tag" });
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
    installer: inputs.installer,
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
  return { config, tags, endpoints: api.endpoints, contextHash, context, buildArgs, labels, srcDir };
}
