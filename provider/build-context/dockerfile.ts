import type { TesseractConfig } from "../tesseract-config/schema";

/** Everything the Dockerfile depends on besides the config. */
export interface DockerfileOptions {
  /** tesseract-core version whose `[runtime]` is pip-installed into /python-env. */
  runtimeVersion: string;
  /** Requirements file name inside `__tesseract_source__/` (uv-pip) or the conda environment file. */
  requirementsFile: string;
  /** Whether the (rewritten) requirements file has any line to install. */
  hasRequirements: boolean;
  /**
   * The requirements file is a PEP 751 lock file (`pylock.toml`): uv installs it alone, as locked
   * (it cannot be combined with other requirements), then `uv pip check` fails the build when the
   * locked versions break the runtime's own requirements.
   */
  lockFile?: boolean;
  /** Whether local path requirements were staged into `local_requirements/`. */
  hasLocalRequirements: boolean;
  /** Whether some requirement needs git (`git+...`). */
  needsGit: boolean;
  /** `package_data` pairs with sources rewritten to paths inside the build context. */
  packageData: [string, string][];
  /** Names of the CA certificate files under `ca-certificates/` in the context (empty: none). */
  caFiles: string[];
  /** Declare `ARG PIP_INDEX_URL` / `ARG PIP_EXTRA_INDEX_URL` (values come as build args). */
  pipIndexUrl: boolean;
  pipExtraIndexUrls: boolean;
  /**
   * What installs the runtime and the requirements in the build stage: `uv` (taken from the package
   * index with `pip install uv`, then `uv pip install`, as upstream's image does) or `pip`.
   */
  installer?: "uv" | "pip";
  /**
   * The shared runtime base image (`pulumi-tesseract-runtime:<hash16>`, see `runtime.ts`) the build
   * stage starts from: Python, uv, the venv and the runtime are in it already. Absent: the build
   * stage installs them itself (conda, or an index URL with credentials).
   */
  runtimeImage?: string;
  /**
   * The build runs on BuildKit: the requirements install gets a pip/uv cache mount and, per
   * `build_config.host_credentials` entry, a secret mount turned into a netrc that lives only in a
   * tmpfs mount of that one `RUN`. Absent: the classic builder's Dockerfile, unchanged.
   */
  buildKit?: {
    credentials: { host: string; username: string; secretId: string }[];
    /** `injectSsh`: the install gets the SSH agent (`--mount=type=ssh`), the build stage git and openssh-client. */
    ssh?: boolean;
  };
}

export const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
export const CA_DIR = "ca-certificates";
export const API_PATH = "/tesseract/tesseract_api.py";

/** A value inside double quotes in ENV/LABEL: backslash, quote, `$` and newlines escaped. */
export function dq(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$").replace(/\n/g, "\\n")}"`;
}

/** A POSIX shell word for a name that reaches a RUN line: bare when safe, else single-quoted. */
export function shq(value: string): string {
  if (/^[A-Za-z0-9_.+][A-Za-z0-9_.+=-]*$/.test(value)) return value;
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** A JSON-array form argument (for COPY/ENTRYPOINT). */
function jsonArgs(...items: string[]): string {
  return JSON.stringify(items);
}

function aptInstall(packages: string, extraCondition = ""): string {
  return (
    "RUN apt-get update \\\n" +
    `    && apt-get install -y --no-install-recommends ${packages}${extraCondition} \\\n` +
    "    && rm -rf /var/lib/apt/lists/*"
  );
}

function caBlock(opts: DockerfileOptions, persistEnv: boolean): string[] {
  if (!opts.caFiles.length) return [];
  const lines = [
    "# Trust the CA certificates given to the build (e.g. a TLS-intercepting proxy)",
    `COPY ${CA_DIR}/ /usr/local/share/ca-certificates/pulumi-tesseract/`,
    "RUN if ! command -v update-ca-certificates >/dev/null; then \\\n" +
      "        apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*; \\\n" +
      "    fi \\\n" +
      "    && update-ca-certificates",
  ];
  const kind = persistEnv ? "ENV" : "ARG";
  lines.push(
    `${kind} PIP_CERT=${CA_BUNDLE} \\\n    SSL_CERT_FILE=${CA_BUNDLE} \\\n    REQUESTS_CA_BUNDLE=${CA_BUNDLE}`,
  );
  return lines;
}

/**
 * The environment every uv command in the build stage runs with: the system CA store
 * (`UV_NATIVE_TLS`, which holds any `caCertificates`), the pip index build args as uv's own, no
 * cache (nothing of it would reach the image; with `cacheMount`, BuildKit's cache mount instead,
 * copied from rather than linked) and never a downloaded interpreter (but for `python_version`).
 */
function uvEnv(opts: DockerfileOptions, use: { cacheMount?: boolean; pythonDownloads?: boolean } = {}): string {
  const env = [
    "UV_NATIVE_TLS=1",
    use.cacheMount ? "UV_LINK_MODE=copy" : "UV_NO_CACHE=1",
    `UV_PYTHON_DOWNLOADS=${use.pythonDownloads ? "automatic" : "never"}`,
  ];
  if (opts.pipIndexUrl) env.push('UV_INDEX_URL="$PIP_INDEX_URL"');
  if (opts.pipExtraIndexUrls) env.push('UV_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL"');
  return env.join(" ");
}

/** Where the BuildKit path writes the netrc: a tmpfs mount of the one RUN that installs, never a layer. */
export const NETRC_DIR = "/run/pulumi-tesseract-netrc";

/**
 * The `RUN` prefix of an install on BuildKit: a cache mount for the installer's downloads (shared
 * between builds, so a changed requirements file downloads only what is new), one secret mount per
 * host credential and a tmpfs holding the netrc written from them (pip, through requests, and uv
 * read `NETRC`), so no credential reaches a layer or the history (the RUN line holds only ids).
 */
function buildKitRun(opts: DockerfileOptions, command: string): string {
  const bk = opts.buildKit;
  if (!bk) return `RUN ${command}`;
  const cache = opts.installer === "uv" ? "/root/.cache/uv" : "/root/.cache/pip";
  const mounts = [`--mount=type=cache,target=${cache},id=pulumi-tesseract-${opts.installer ?? "pip"},sharing=locked`];
  let run = command;
  if (bk.ssh) {
    mounts.push("--mount=type=ssh");
    // git runs ssh for git+ssh:// requirements; no known_hosts in the build: a new host key is accepted
    run = `GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=accept-new" ${command}`;
  }
  if (!bk.credentials.length) return `RUN ${mounts.join(" \\\n    ")} \\\n    ${run}`;
  for (const id of [...new Set(bk.credentials.map((c) => c.secretId))])
    mounts.push(`--mount=type=secret,id=${id},required=true`);
  mounts.push(`--mount=type=tmpfs,target=${NETRC_DIR}`);
  const lines = bk.credentials.map(
    (c) =>
      `printf 'machine %s login %s password %s\\n' ${shq(c.host.replace(/:\d+$/, ""))} ${shq(c.username)} "$(cat /run/secrets/${c.secretId})"`,
  );
  return (
    `RUN ${mounts.join(" \\\n    ")} \\\n` +
    `    umask 077 && { ${lines.join("; ")}; } > ${NETRC_DIR}/netrc \\\n` +
    `    && NETRC=${NETRC_DIR}/netrc PIP_NO_INPUT=1 ${run}`
  );
}

/** `uv pip install` into /python-env. */
function uvInstall(opts: DockerfileOptions, cacheMount = false): string {
  return `${uvEnv(opts, { cacheMount })} /opt/uv/bin/uv pip install --compile-bytecode --python /python-env/bin/python`;
}

/**
 * uv from the package index with the image's own pip into a folder of its own (`--target`: no
 * venv, so no ensurepip run); a throwaway venv only when the base image's Python has no pip.
 * `PIP_BREAK_SYSTEM_PACKAGES` lets Debian's pip write there (older pips ignore the variable).
 */
const UV_FROM_INDEX =
  "RUN PY=python3; \\\n" +
  "    if ! python3 -m pip --version >/dev/null 2>&1; then python3 -m venv /tmp/uv-pip && PY=/tmp/uv-pip/bin/python; fi; \\\n" +
  "    PIP_BREAK_SYSTEM_PACKAGES=1 $PY -m pip install --no-cache-dir --disable-pip-version-check --target /opt/uv uv \\\n" +
  "    && rm -rf /tmp/uv-pip";

function indexArgs(opts: DockerfileOptions): string[] {
  const out: string[] = [];
  if (opts.pipIndexUrl) out.push("ARG PIP_INDEX_URL");
  if (opts.pipExtraIndexUrls) out.push("ARG PIP_EXTRA_INDEX_URL");
  return out;
}

/** `ENV` lines of `build_config.build_env` (and the inherit flag): the build stage's environment. */
function buildEnv(config: TesseractConfig): string[] {
  const bc = config.build_config;
  const out = Object.entries(bc.build_env).map(([k, v]) => `ENV ${k}=${dq(v)}`);
  if (bc.inherit_base_image_packages) out.push("ENV TESSERACT_INHERIT_BASE_IMAGE_PACKAGES=1");
  return out;
}

/** Python (with venv) when the base image lacks it, plus `extra` apt packages and git when needed. */
function pythonAndPackages(conda: boolean, extra: string, needsGit: boolean): string {
  const buildPkgs = `${needsGit ? "git " : ""}$PYTHON_PKGS${extra}`;
  return (
    'RUN PYTHON_PKGS=""; \\\n' +
    `    if ${conda ? "false" : '! python3 -c "import venv, ensurepip" 2>/dev/null'}; then PYTHON_PKGS="python3 python3-venv python3-pip"; fi; \\\n` +
    `    if [ -n "$PYTHON_PKGS${extra}${needsGit ? " git" : ""}" ]; then \\\n` +
    "        apt-get update \\\n" +
    `        && apt-get install -y --no-install-recommends ${buildPkgs} \\\n` +
    "        && rm -rf /var/lib/apt/lists/*; \\\n" +
    "    fi"
  );
}

/** What installs into /python-env: `uv pip install` or the venv's pip. */
function installCommand(opts: DockerfileOptions): string {
  return opts.installer === "uv" ? uvInstall(opts) : "/python-env/bin/python -m pip install --no-cache-dir";
}

/**
 * Where uv puts a CPython it downloads for `python_version` (build stage); the run stage copies the
 * folder (empty when the base image's Python was the one asked for), so /python-env's interpreter
 * exists there too.
 */
export const UV_PYTHON_DIR = "/opt/uv-python";

/** `build_config.requirements.python_version`, when set (uv-pip only). */
export function pythonVersionOf(config: TesseractConfig): string | undefined {
  const req = config.build_config.requirements;
  return req.provider === "uv-pip" && req.python_version != null ? req.python_version : undefined;
}

/**
 * The command that makes /python-env. With `python_version`, uv takes the base image's Python when
 * it is that version, else downloads a CPython build (the only step that may); pip can only use
 * the base image's. Either way a failure says exactly which Python was missing and why.
 */
function venvCommand(config: TesseractConfig, opts: DockerfileOptions): string {
  const systemSite = config.build_config.inherit_base_image_packages ? "--system-site-packages " : "";
  // prepareBuild lets only `3.N` / `3.N.M` through, so the version is safe inside the shell words below
  const version = pythonVersionOf(config);
  if (opts.installer === "uv") {
    // uv makes the venv itself (no ensurepip run) and seeds pip into it, for custom_build_steps
    if (!version) return `${uvEnv(opts)} /opt/uv/bin/uv venv --seed ${systemSite}--python python3 /python-env`;
    const env = uvEnv(opts, { pythonDownloads: true });
    return (
      `mkdir -p ${UV_PYTHON_DIR} \\\n    && { ${env} UV_PYTHON_INSTALL_DIR=${UV_PYTHON_DIR} ` +
      `/opt/uv/bin/uv venv --seed ${systemSite}--python ${version} /python-env \\\n` +
      `    || { echo "python_version ${version}: the base image has no Python ${version}, and uv could not download` +
      ` a CPython ${version} build (its download source, python-build-standalone on GitHub or UV_PYTHON_INSTALL_MIRROR,` +
      ` must be reachable from the build; fix: use a base image with Python ${version}, or remove python_version)" >&2;` +
      " exit 1; }; }"
    );
  }
  if (!version) return `python3 -m venv ${systemSite}/python-env`;
  return (
    `mkdir -p ${UV_PYTHON_DIR} \\\n    && { python3 -c "import platform, sys; v = platform.python_version();` +
    ` sys.exit(not (v == '${version}' or v.startswith('${version}.')))" \\\n` +
    `    || { echo "python_version ${version}: the base image's Python is $(python3 -V 2>&1), and the pip installer` +
    ` cannot provide another (fix: set installer to uv, which downloads CPython ${version} where it can reach one,` +
    ` or use a base image with Python ${version})" >&2; exit 1; }; } \\\n` +
    `    && python3 -m venv ${systemSite}/python-env`
  );
}

/** The requirements install: on BuildKit with the cache mount's cache (see {@link buildKitRun}), else without a cache. */
function requirementsInstall(opts: DockerfileOptions): string {
  if (!opts.buildKit) return installCommand(opts);
  return opts.installer === "uv" ? uvInstall(opts, true) : "/python-env/bin/python -m pip install";
}

/** uv (when it is the installer), then /python-env with the runtime, in its own layer. */
function venvAndRuntime(config: TesseractConfig, opts: DockerfileOptions, runtimeSpec: string): string[] {
  const uv = opts.installer === "uv";
  const venv = venvCommand(config, opts);
  const out: string[] = [];
  if (uv) {
    out.push("# uv from the package index (build stage only: it never reaches the image)");
    out.push(UV_FROM_INDEX);
  }
  out.push("# The runtime first, in its own layer: it changes only with runtimeVersion");
  out.push(`RUN ${venv} \\\n    && ${installCommand(opts)} "${runtimeSpec}"`);
  return out;
}

/**
 * The Dockerfile of the shared runtime base image: the first steps of the build stage, the same
 * for every Tesseract with the same base image, Python, installer, runtime version, CA
 * certificates, build_env and index settings (its hash is the image's tag, see `runtime.ts`).
 */
export function renderRuntimeDockerfile(config: TesseractConfig, opts: DockerfileOptions): string {
  const bc = config.build_config;
  const platform = bc.target_platform.trim() === "native" ? "" : `--platform=${bc.target_platform.trim()} `;
  const L: string[] = [
    "# Generated by pulumi-tesseract: the runtime base image shared by TesseractImage build stages",
    `FROM ${platform}${bc.base_image}`,
    "USER root",
    "ARG DEBIAN_FRONTEND=noninteractive",
    ...caBlock(opts, true),
    "# Python (with venv) if the base image lacks it",
    pythonAndPackages(false, "", false),
    "WORKDIR /tmp/build",
    ...indexArgs(opts),
    ...buildEnv(config),
    ...venvAndRuntime(config, opts, `tesseract-core[runtime]==${opts.runtimeVersion}`),
  ];
  return `${L.join("\n")}\n`;
}

/**
 * The build stage on top of the runtime base image: extra_packages (and git) first, as they may be
 * needed to build requirements; the CA trust, build_env, uv and the venv come from the base.
 */
function runtimeBasedBuildStage(config: TesseractConfig, opts: DockerfileOptions): string[] {
  const bc = config.build_config;
  const platform = bc.target_platform.trim() === "native" ? "" : `--platform=${bc.target_platform.trim()} `;
  const extra = bc.extra_packages.length ? ` ${bc.extra_packages.join(" ")}` : "";
  const ssh = opts.buildKit?.ssh === true;
  const pkgs = `${opts.needsGit || ssh ? "git" : ""}${ssh ? " openssh-client" : ""}${extra}`.trim();
  const L = [`FROM ${platform}${opts.runtimeImage} AS build_stage`, "USER root", "ARG DEBIAN_FRONTEND=noninteractive"];
  if (pkgs) {
    L.push("# extra_packages (and git for git+ requirements)");
    L.push(aptInstall(pkgs));
  }
  L.push("WORKDIR /tmp/build");
  L.push(...indexArgs(opts));
  return L;
}

/**
 * The two-stage Dockerfile, equivalent to tesseract-core's `Dockerfile.base` but for the classic
 * builder (no `RUN --mount`, no `$BUILDPLATFORM`, no `COPY --chmod`: modes come from the tar) and
 * ordered for caching: the runtime and the requirements are installed in the build stage, which
 * never sees `tesseract_api.py`; in the run stage `tesseract_api.py` is copied last, after
 * package_data and custom_build_steps, so editing it only re-runs the copy and the final check.
 */
export function renderDockerfile(config: TesseractConfig, opts: DockerfileOptions): string {
  const bc = config.build_config;
  const platform = bc.target_platform.trim() === "native" ? "" : `--platform=${bc.target_platform.trim()} `;
  const runtimeSpec = `tesseract-core[runtime]==${opts.runtimeVersion}`;
  const conda = bc.requirements.provider === "conda";
  const extra = bc.extra_packages.length ? ` ${bc.extra_packages.join(" ")}` : "";
  const L: string[] = [];
  const blank = () => L.push("");

  L.push("# Generated by pulumi-tesseract (TesseractImage); equivalent to tesseract-core's Dockerfile.base.");
  L.push("# Stage 1: the Python environment (/python-env) with the tesseract-core runtime and the requirements");
  const shared = Boolean(opts.runtimeImage) && !conda;
  if (shared) {
    L.push(`# (from the shared runtime base image ${opts.runtimeImage}: Python, the venv and the runtime)`);
    L.push(...runtimeBasedBuildStage(config, opts));
  } else {
    L.push(`FROM ${platform}${bc.base_image} AS build_stage`);
    L.push("USER root");
    L.push("ARG DEBIAN_FRONTEND=noninteractive");
    L.push(...caBlock(opts, true));
    blank();
    L.push("# Python (with venv) if the base image lacks it, plus extra_packages");
    const ssh = opts.buildKit?.ssh === true;
    L.push(pythonAndPackages(conda, `${ssh ? " openssh-client" : ""}${extra}`, opts.needsGit || ssh));
    blank();
    L.push("WORKDIR /tmp/build");
    L.push(...indexArgs(opts));
    L.push(...buildEnv(config));
  }
  if (conda) {
    L.push(`COPY ${jsonArgs(`__tesseract_source__/${opts.requirementsFile}`, `./${opts.requirementsFile}`)}`);
    if (opts.hasLocalRequirements) L.push("COPY local_requirements/ ./local_requirements/");
    const condaCreate =
      `conda env create --file ${opts.requirementsFile} -p /python-env --quiet \\\n` +
      `    && /python-env/bin/python -m pip install --no-cache-dir "${runtimeSpec}"`;
    L.push(opts.buildKit ? buildKitRun({ ...opts, installer: "pip" }, condaCreate) : `RUN ${condaCreate}`);
  } else {
    if (!shared) L.push(...venvAndRuntime(config, opts, runtimeSpec));
    if (opts.hasRequirements) {
      L.push("# Then the requirements, resolved together with the runtime so that conflicts fail the build");
      L.push(`COPY ${jsonArgs(`__tesseract_source__/${opts.requirementsFile}`, `./${opts.requirementsFile}`)}`);
      if (opts.hasLocalRequirements) L.push("COPY local_requirements/ ./local_requirements/");
      L.push(
        opts.lockFile
          ? buildKitRun(
              opts,
              `${requirementsInstall(opts)} -r ${shq(opts.requirementsFile)} \\
    && ${uvEnv(opts)} /opt/uv/bin/uv pip check --python /python-env/bin/python`,
            )
          : buildKitRun(opts, `${requirementsInstall(opts)} -r ${shq(opts.requirementsFile)} "${runtimeSpec}"`),
      );
    }
  }
  blank();

  L.push("# Stage 2: the image that runs the Tesseract");
  L.push(`FROM ${platform}${bc.base_image} AS run_stage`);
  L.push("USER root");
  L.push("ARG DEBIAN_FRONTEND=noninteractive");
  L.push(
    aptInstall(
      `libnss-wrapper${extra}`,
      conda
        ? ""
        : ' \\\n    && { [ -x "$(command -v python3)" ] || apt-get install -y --no-install-recommends python3; }',
    ),
  );
  L.push("WORKDIR /tesseract");
  L.push(
    "RUN chmod 777 /tesseract \\\n" +
      "    && mkdir -p /tesseract/input_data /tesseract/output_data \\\n" +
      "    && chmod 755 /tesseract/input_data && chmod 777 /tesseract/output_data \\\n" +
      "    && cp /etc/passwd /tmp/passwd && cp /etc/group /tmp/group && chmod 666 /tmp/passwd /tmp/group \\\n" +
      "    && mkdir -p -m 777 /home/tesseract-user",
  );
  L.push('VOLUME ["/tesseract/input_data", "/tesseract/output_data"]');
  if (pythonVersionOf(config)) L.push(`COPY --from=build_stage ${UV_PYTHON_DIR} ${UV_PYTHON_DIR}`);
  L.push("COPY --from=build_stage /python-env /python-env");
  L.push("COPY entrypoint.sh /tesseract/entrypoint.sh");
  L.push(
    'ENV PATH="/python-env/bin:$PATH" \\\n' +
      '    TESSERACT_INPUT_PATH="/tesseract/input_data" \\\n' +
      '    TESSERACT_OUTPUT_PATH="/tesseract/output_data" \\\n' +
      "    LD_PRELOAD=libnss_wrapper.so \\\n" +
      "    NSS_WRAPPER_PASSWD=/tmp/passwd \\\n" +
      "    NSS_WRAPPER_GROUP=/tmp/group \\\n" +
      "    PYTHONUNBUFFERED=1",
  );
  const envEntries = Object.entries(config.env);
  if (envEntries.length) {
    L.push("# env from tesseract_config.yaml");
    for (const [k, v] of envEntries) L.push(`ENV ${k}=${dq(v)}`);
  }
  if (opts.packageData.length) {
    L.push("# package_data (modes 777 come from the build context)");
    for (const [src, dst] of opts.packageData) L.push(`COPY ${jsonArgs(src, dst)}`);
  }
  const steps = bc.custom_build_steps ?? [];
  if (steps.length) {
    // Custom steps may download (RUN pip install ...): give them the CA and index settings as
    // build-time ARGs, which do not persist in the image's environment.
    L.push(...caBlock(opts, false));
    L.push(...indexArgs(opts));
    L.push("# custom_build_steps (before tesseract_api.py, so editing the API does not re-run them)");
    L.push(...steps);
    L.push("USER root");
  }
  blank();
  L.push("# Identity, then the API module last: editing tesseract_api.py re-runs only what follows");
  L.push(
    `ENV TESSERACT_NAME=${dq(config.name)} \\\n` +
      `    TESSERACT_VERSION=${dq(config.version)} \\\n` +
      `    TESSERACT_DESCRIPTION=${dq(config.description)} \\\n` +
      `    TESSERACT_API_PATH="${API_PATH}"`,
  );
  L.push(`LABEL ai.pasteurlabs.tesseract.metadata=${dq(JSON.stringify(config.metadata))}`);
  L.push(`COPY __tesseract_source__/tesseract_api.py ${API_PATH}`);
  L.push("USER 9999:9999");
  L.push("ENV HOME=/home/tesseract-user");
  if (!bc.skip_checks) L.push("RUN _TESSERACT_IS_BUILDING=1 /tesseract/entrypoint.sh tesseract-runtime check");
  L.push("USER root");
  L.push(
    "RUN find /tesseract /home/tesseract-user /tmp \\\n" +
      "        \\( -path /tesseract/entrypoint.sh -o -path /tesseract/tesseract_api.py \\\n" +
      "        -o -path /tesseract/input_data -o -path /tmp/passwd -o -path /tmp/group \\) -prune \\\n" +
      "        -o ! -type l ! -perm 777 -exec chmod 777 {} +",
  );
  L.push("USER 9999:9999");
  L.push('ENTRYPOINT ["/tesseract/entrypoint.sh", "tesseract-runtime"]');
  L.push('CMD ["--help"]');
  return `${L.join("\n")}\n`;
}

/** The entrypoint: registers the current uid/gid with libnss-wrapper, then runs the command. */
export const ENTRYPOINT_SH = `#!/bin/sh
# Written by pulumi-tesseract. Containers often run as the host user's uid, which has no entry in
# /etc/passwd; libnss-wrapper (LD_PRELOAD) reads the writable copies in /tmp instead, so add the
# current uid and gid there, then run the command.
uid="$(id -u)"
gid="$(id -g)"
if ! grep -q "^[^:]*:[^:]*:$uid:" /tmp/passwd 2>/dev/null; then
  echo "tesseract-user:x:$uid:$gid::/home/tesseract-user:/bin/sh" >> /tmp/passwd
fi
if ! grep -q "^[^:]*:[^:]*:$gid:" /tmp/group 2>/dev/null; then
  echo "tesseract-group:x:$gid:" >> /tmp/group
fi
exec "$@"
`;
