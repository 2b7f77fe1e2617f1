// The batch script of one replica: #SBATCH lines from the `slurm` input, then a shell body that
// picks a free port on the node, writes the node's address and that port to an endpoint file
// (read back by the target to form `url`), and serves the Tesseract in the chosen mode. Pure: the
// same inputs give the same text (tests compare it), no I/O here.
import { TesseractPulumiError } from "../../common/errors";
import type { SlurmInputs, SlurmMode } from "./inputs";
import { shQuote } from "./ssh";

/** What a replica's job serves. */
export type ServeSpec =
  /** The Tesseract's source in a Python environment built by environment.ts (`<env>/bin`, `<env>/src`). */
  | { mode: "environment"; envDir: string }
  /** A container image, by digest (or an archive on the shared file system for podman). */
  | { mode: "podman" | "apptainer"; image: string };

/** Everything one job script is made from. */
export interface JobScriptSpec {
  /** The validated `slurm` input. */
  slurm: SlurmInputs;
  /** The resolved work folder on the cluster (absolute). */
  workDir: string;
  /** Job name, from {@link jobName}. */
  name: string;
  /** Index of the replica (picks its node from `slurm.nodes`). */
  replica: number;
  /** What runs. */
  serve: ServeSpec;
  /** Environment variables for the runtime (`TESSERACT_*` settings of the service). */
  env?: Record<string, string>;
}

/** Prefix of every job name this package submits (listing and cleanup look for it). */
export const JOB_NAME_PREFIX = "pt";

const part = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 60) || "x";

/** The job name of a replica: `pt.<stack>.<resource>.<replica>`, characters outside [A-Za-z0-9_.-] replaced. */
export function jobName(stack: string, resource: string, replica: number): string {
  return `${JOB_NAME_PREFIX}.${part(stack)}.${part(resource)}.${replica}`;
}

/** Stack, resource and replica of a job name made by {@link jobName}; undefined for other names. */
export function parseJobName(name: string): { stack: string; resource: string; replica: number } | undefined {
  const m = /^pt\.([A-Za-z0-9_-][A-Za-z0-9_.-]*?)\.([A-Za-z0-9_.-]+)\.(\d+)$/.exec(name);
  return m ? { stack: m[1], resource: m[2], replica: Number(m[3]) } : undefined;
}

/** The job's stdout and stderr: `<workDir>/jobs/<id>.out`. */
export function jobOutputPath(workDir: string, jobId: string): string {
  return `${workDir}/jobs/${jobId}.out`;
}

/** The file the job writes `<address> <port>` to once it knows them: `<workDir>/jobs/<id>.endpoint`. */
export function endpointPath(workDir: string, jobId: string): string {
  return `${workDir}/jobs/${jobId}.endpoint`;
}

/** Parses an endpoint file (`<address> <port>`); undefined when incomplete or malformed. */
export function parseEndpoint(text: string | undefined): { host: string; port: number } | undefined {
  const m = /^([A-Za-z0-9_.:-]+) (\d{1,5})\n?$/.exec(text ?? "");
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1], port } : undefined;
}

/** The Tesseract's URL for a node address and port (IPv6 in brackets). */
export function endpointUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

const DIGEST_REF = /^[a-z0-9][a-z0-9._:/-]*@sha256:[0-9a-f]{64}$/;
/** A `docker save` archive on the cluster's shared file system (podman mode). */
export const ARCHIVE_REF = /^docker-archive:\/[A-Za-z0-9_.,:=/@+%-]+$/;
/** An Apptainer image file on the cluster's shared file system (apptainer mode). */
export const SIF_PATH = /^\/[A-Za-z0-9_.,:=/@+%-]+\.sif$/;

/**
 * The image reference the runtime is given, checked: podman takes `name@sha256:<digest>` (pulled
 * from its registry) or `docker-archive:/abs/path.tar` (a `docker save` file on the shared file
 * system, for nodes that reach no registry); apptainer takes `name@sha256:<digest>` (run as
 * `docker://…`) or an absolute `.sif` path.
 */
export function containerImageRef(mode: "podman" | "apptainer", image: string): string {
  const bare = image.replace(/^docker:\/\//, "");
  // Both runtimes take the docker:// transport (podman also pulls `name@sha256:` alone).
  if (DIGEST_REF.test(bare)) return `docker://${bare}`;
  if (mode === "podman" && ARCHIVE_REF.test(image)) return image;
  if (mode === "apptainer" && SIF_PATH.test(image)) return image;
  throw new TesseractPulumiError(
    `slurm.mode ${mode}: the image ${JSON.stringify(image)} is not a pushed image by digest` +
      (mode === "podman" ? " nor a docker-archive: file" : " nor a .sif file"),
    {
      property: "image",
      hint:
        mode === "podman"
          ? "serve a TesseractImage pushed to a registry the nodes reach (its repoDigest, name@sha256:...), or docker-archive:/shared/path/image.tar"
          : "serve a TesseractImage pushed to a registry the nodes reach (its repoDigest, name@sha256:...), or an absolute path to a .sif file",
    },
  );
}

/** The #SBATCH lines of a replica. */
export function sbatchLines(spec: JobScriptSpec): string[] {
  const s = spec.slurm;
  const lines = [
    `--job-name=${spec.name}`,
    `--output=${jobOutputPath(spec.workDir, "%j")}`,
    `--chdir=${spec.workDir}`,
    "--nodes=1",
    "--ntasks=1",
    `--cpus-per-task=${s.cpusPerTask ?? 1}`,
  ];
  if (s.partition) lines.push(`--partition=${s.partition}`);
  if (s.account) lines.push(`--account=${s.account}`);
  if (s.walltime) lines.push(`--time=${s.walltime}`);
  if (s.memory) lines.push(`--mem=${s.memory}`);
  if (s.gpus) lines.push(`--gres=gpu:${s.gpuType ? `${s.gpuType}:` : ""}${s.gpus}`);
  if (s.nodes?.length) lines.push(`--nodelist=${s.nodes[spec.replica % s.nodes.length]}`);
  if (s.constraint) lines.push(`--constraint=${s.constraint}`);
  lines.push(...(s.sbatchOptions ?? []));
  return lines.map((l) => `#SBATCH ${l}`);
}

/** Shell functions every job uses: a free port on the node, the node's address. */
const HELPERS = [
  "# A free TCP port on this node (Python's bind to port 0; else random ports with no listener).",
  "pt_port() {",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
  '  if [ -n "${PT_PYTHON:-}" ] || command -v python3 >/dev/null 2>&1; then',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
  '    "${PT_PYTHON:-python3}" -c \'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])\' && return',
  "  fi",
  "  local i p",
  "  for i in $(seq 1 50); do",
  "    p=$((49152 + RANDOM % 16384))",
  '    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }',
  "  done",
  "  return 1",
  "}",
  "# The address other hosts reach this node at: its NodeAddr, else its first address, else its name.",
  "pt_addr() {",
  '  local a=""',
  "  if command -v scontrol >/dev/null 2>&1; then",
  '    a="$(scontrol show node -o "$SLURMD_NODENAME" 2>/dev/null | sed -n \'s/.* NodeAddr=\\([^ ]*\\).*/\\1/p\')"',
  "  fi",
  '  [ -n "$a" ] || a="$(hostname -I 2>/dev/null | awk \'{print $1}\')"',
  '  [ -n "$a" ] || a="$(hostname -f)"',
  '  echo "$a"',
  "}",
];

/** The body that serves in the chosen mode (after `port`, `addr` and the output folder are known). */
function serveLines(spec: JobScriptSpec): string[] {
  const s = spec.slurm;
  const serveArgs = 'serve --host 0.0.0.0 --port "$port"';
  const serve = spec.serve;
  if (serve.mode === "environment") {
    const env = shQuote(serve.envDir);
    return [
      `export TESSERACT_API_PATH=${env}/src/tesseract_api.py`,
      'export TESSERACT_OUTPUT_PATH="$out"',
      `cd ${env}/src`,
      `exec ${env}/bin/tesseract-runtime ${serveArgs}`,
    ];
  }
  const image = shQuote(containerImageRef(serve.mode, serve.image));
  const opts = (s.runtimeOptions ?? []).map(shQuote).join(" ");
  const runtime = `${serve.mode}${opts ? ` ${opts}` : ""}`;
  const envNames = Object.keys(spec.env ?? {});
  if (serve.mode === "podman") {
    return [
      'name="pt-$SLURM_JOB_ID"',
      "# Rootless podman maps the user to the same uid inside (the output folder stays theirs).",
      'userns=""; [ "$(id -u)" = 0 ] || userns="--userns=keep-id"',
      `pt_stop() { ${runtime} rm -f -t 5 "$name" >/dev/null 2>&1 || true; }`,
      "# scancel: the container goes too (conmon outlives a killed podman client).",
      "trap 'pt_stop; exit 143' TERM INT",
      `${runtime} run --rm --name "$name" --network host $userns --user "$(id -u):$(id -g)" \\`,
      '  -v "$out:/tesseract/output_data" -e TESSERACT_OUTPUT_PATH=/tesseract/output_data \\',
      ...envNames.map((k) => `  -e ${k} \\`),
      ...(s.gpus ? ["  --device nvidia.com/gpu=all \\"] : []),
      `  ${image} ${serveArgs} &`,
      "rc=0",
      "wait $! || rc=$?",
      "pt_stop",
      'exit "$rc"',
    ];
  }
  return [
    `exec ${runtime} run --writable-tmpfs${s.gpus ? " --nv" : ""} \\`,
    '  --bind "$out:/tesseract/output_data" --env TESSERACT_OUTPUT_PATH=/tesseract/output_data \\',
    `  ${image} ${serveArgs}`,
  ];
}

/** The batch script of one replica. */
export function jobScript(spec: JobScriptSpec): string {
  const s = spec.slurm;
  const work = shQuote(spec.workDir);
  const pythonLine =
    spec.serve.mode === "environment" ? [`PT_PYTHON=${shQuote(spec.serve.envDir)}/bin/python`] : ['PT_PYTHON=""'];
  const lines = [
    "#!/bin/bash",
    `# pulumi-tesseract: one replica of a TesseractService (${spec.serve.mode} mode).`,
    ...sbatchLines(spec),
    "set -euo pipefail",
    ...(s.setup?.length ? ["# slurm.setup", "set +u", ...s.setup, "set -u"] : []),
    ...HELPERS,
    ...pythonLine,
    ...Object.entries(spec.env ?? {}).map(([k, v]) => `export ${k}=${shQuote(v)}`),
    'port="$(pt_port)"',
    'addr="$(pt_addr)"',
    `out=${work}/outputs/"$SLURM_JOB_ID"`,
    'mkdir -p "$out"',
    "# The target reads the endpoint back (written whole, then renamed: never half a line).",
    `endpoint=${work}/jobs/"$SLURM_JOB_ID".endpoint`,
    'printf \'%s %s\\n\' "$addr" "$port" >"$endpoint.tmp" && mv -f "$endpoint.tmp" "$endpoint"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
    'echo "pulumi-tesseract: job $SLURM_JOB_ID serves on http://$addr:$port (node ${SLURMD_NODENAME:-?})"',
    ...serveLines(spec),
    "",
  ];
  return lines.join("\n");
}

/** The modes that run a container image (and need `image`). */
export function isContainerMode(mode: SlurmMode): mode is "podman" | "apptainer" {
  return mode !== "environment";
}
