/**
 * The runtime base image: the first steps of every pip/uv build stage (CA trust, Python, uv, the
 * /python-env venv with `tesseract-core[runtime]`) as an image of its own,
 * `pulumi-tesseract-runtime:<hash16>`, whose tag is the hash of everything that goes into it. N
 * Tesseracts with the same base image, installer, runtime version, CA certificates, build_env and
 * index settings start their build stage `FROM` it, so the ~60 runtime packages are installed once
 * per engine instead of once per image (provider/build/runtime-image.ts builds and holds it).
 */
import { createHash } from "node:crypto";
import type { TesseractConfig } from "../tesseract-config/schema";
import type { BuildContext, ContextEntry } from "./context";
import { CA_DIR, renderRuntimeDockerfile } from "./dockerfile";

/** Repository of runtime base images (the tag is the first 16 hex of the runtime hash). */
export const RUNTIME_REPOSITORY = "pulumi-tesseract-runtime";

/** Name of the runtime Dockerfile inside a Tesseract's build context (for `generateOnly` users). */
export const RUNTIME_DOCKERFILE = "runtime.Dockerfile";

/** What the runtime install depends on besides the config's base image, build_env and inherit flag. */
export interface RuntimeBaseOptions {
  runtimeVersion: string;
  installer: "uv" | "pip";
  /** Names and PEM text of the CA files, as in the Tesseract's context (`ca-certificates/<name>`). */
  caFiles: { name: string; pem: string }[];
  /** Index URLs (never with credentials: such builds do not use a runtime base image). */
  pipIndexUrl?: string;
  pipExtraIndexUrls?: string[];
  /** The build's `platform` option. */
  platform?: string;
}

/** A runtime base image to build (or find) before a Tesseract's build. */
export interface RuntimeBase {
  /** `pulumi-tesseract-runtime:<hash16>`. */
  image: string;
  /** sha256 over the Dockerfile, the CA files, the index URLs and the platform. */
  hash: string;
  dockerfile: string;
  /** Its build context: `Dockerfile` and `ca-certificates/`. */
  context: BuildContext;
  /** `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` build args (credential-free). */
  buildArgs: Record<string, string>;
  platform?: string;
}

/** The runtime base image of a pip/uv Tesseract (undefined for conda: its runtime follows the environment). */
export function runtimeBase(config: TesseractConfig, opts: RuntimeBaseOptions): RuntimeBase | undefined {
  if (config.build_config.requirements.provider === "conda") return undefined;
  const extra = opts.pipExtraIndexUrls ?? [];
  const dockerfile = renderRuntimeDockerfile(config, {
    runtimeVersion: opts.runtimeVersion,
    installer: opts.installer,
    caFiles: opts.caFiles.map((c) => c.name),
    pipIndexUrl: Boolean(opts.pipIndexUrl),
    pipExtraIndexUrls: extra.length > 0,
    requirementsFile: "",
    hasRequirements: false,
    hasLocalRequirements: false,
    needsGit: false,
    packageData: [],
  });
  const hash = createHash("sha256")
    .update(
      JSON.stringify({
        dockerfile,
        ca: opts.caFiles.map((c) => [c.name, c.pem]),
        index: opts.pipIndexUrl ?? "",
        extra,
        platform: opts.platform ?? "",
      }),
    )
    .digest("hex");
  const entries: ContextEntry[] = [{ name: "Dockerfile", type: "file", mode: 0o644, data: Buffer.from(dockerfile) }];
  if (opts.caFiles.length) {
    entries.push({ name: CA_DIR, type: "directory", mode: 0o755 });
    for (const c of opts.caFiles)
      entries.push({ name: `${CA_DIR}/${c.name}`, type: "file", mode: 0o644, data: Buffer.from(c.pem) });
  }
  const buildArgs: Record<string, string> = {};
  if (opts.pipIndexUrl) buildArgs.PIP_INDEX_URL = opts.pipIndexUrl;
  if (extra.length) buildArgs.PIP_EXTRA_INDEX_URL = extra.join(" ");
  return {
    image: `${RUNTIME_REPOSITORY}:${hash.slice(0, 16)}`,
    hash,
    dockerfile,
    context: { entries, dockerfile, hash, sourceFiles: [] },
    buildArgs,
    ...(opts.platform ? { platform: opts.platform } : {}),
  };
}
