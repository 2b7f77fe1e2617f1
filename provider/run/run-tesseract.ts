/**
 * `runTesseract`: one command of a Tesseract image in a throwaway container, like tesseract-core's
 * `tesseract run` / `run_tesseract`: created, attached, started, waited for and removed through the
 * Engine API. The container is removed on every path (success, failure, error, timeout, abort).
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import { RUN_TESSERACT_SECRETS } from "../common/secret-fields";
import { InputSecrets, SECRET_MARKS_KEY } from "../common/secrets";
import { type DockerConnection, dockerConnectionSchema } from "../docker/connection";
import { engineFor } from "../docker/engine";
import { DockerApiError } from "../docker/errors";
import { FrameDemuxer } from "../docker/stream";
import type { ContainerSpec } from "../docker/types";
import { outputCall } from "../functions/common";
import { markedSecretPaths } from "../resources/secret-inputs";
import { isLocalEngine, memoryBytes } from "../serve/args";
import {
  type ContainerSettings,
  containerOptionsSchema,
  optionFailures,
  optionsHostConfig,
} from "../serve/container-options";
import { defaultUser, deviceRequests } from "../serve/spec";
import { CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, ensureOutputDir, isUrlPath, parseVolume } from "../serve/volumes";

/** The commands `tesseract run` accepts (`serve` is refused there too: use `TesseractService`). */
export const RUN_COMMANDS = [
  "apply",
  "jacobian",
  "jacobian-vector-product",
  "vector-jacobian-product",
  "abstract-eval",
  "health",
  "openapi-schema",
  "check",
  "check-gradients",
  "test",
] as const;

/** One of {@link RUN_COMMANDS}. */
export type RunCommand = (typeof RUN_COMMANDS)[number];

/** Arguments of `runTesseract`. */
export interface RunTesseractArgs {
  /** Image reference of a built Tesseract, e.g. a `TesseractImage`'s `imageRef` (never pulled). */
  image: string;
  /** The runtime command, e.g. `"apply"`, `"check-gradients"`, `"test"`. */
  command: RunCommand;
  /**
   * Arguments of the command: a JSON payload, or `@path` to a local file, which is mounted read-only
   * into the container and passed as `@/tesseract/payload<ext>` (as upstream); `@s3://…` and other
   * URLs are passed unchanged. Options such as `--input-paths` are passed as given.
   */
  args?: string[];
  /** Extra mounts, `"SOURCE:TARGET[:ro|rw]"` (default `ro`); a source with `/` or `.` is a host path. */
  volumes?: string[];
  /** GPUs to expose: `"all"` or device ids (`["0", "1"]`). */
  gpus?: "all" | string[];
  /** Environment variables of the container. */
  environment?: Record<string, string>;
  /** `uid[:gid]` to run as. Default: the calling process's uid:gid (as upstream). */
  user?: string;
  /** Host folder mounted read-only at `/tesseract/input_data` (`TESSERACT_INPUT_PATH`), or an fsspec URL. */
  inputPath?: string;
  /** Host folder (created if missing) mounted at `/tesseract/output_data` (`TESSERACT_OUTPUT_PATH`), or a URL. */
  outputPath?: string;
  /** `TESSERACT_OUTPUT_FORMAT`: `json` (default), `json+base64` or `json+binref`. */
  outputFormat?: "json" | "json+base64" | "json+binref";
  /** `TESSERACT_OUTPUT_FILE`: write the result to this file under `outputPath` instead of stdout. */
  outputFile?: string;
  /** Docker network to attach the container to (`host`, `bridge`, or an existing network). */
  network?: string;
  /** Memory limit, e.g. `"512m"`. */
  memory?: string;
  /**
   * Typed container settings, the equivalents of upstream's `docker_args` (`shmSize`, `ulimits`,
   * `cpus`, `capAdd`, `capDrop`, `devices`, `tmpfs`, `extraHosts`, `logConfig`), as on
   * `TesseractService`.
   */
  container?: ContainerSettings;
  /** Time limit in milliseconds; the container is removed and the call rejects when it passes. */
  timeoutMs?: number;
  /** Cancels the run (the container is removed). */
  signal?: AbortSignal;
  /** Extra labels on the container (it always carries `pulumi-tesseract.managed` and `pulumi-tesseract.run`). */
  labels?: Record<string, string>;
  /** The Docker engine to run on. Default: `DOCKER_HOST`, else the local socket. */
  docker?: DockerConnection;
}

/** Result of `runTesseract`: what the command wrote, and how it exited. */
export interface RunTesseractResult {
  /** The command's standard output (the result, unless `outputFile` is set). */
  readonly stdout: string;
  /** The command's standard error (logs, validation messages, tracebacks). */
  readonly stderr: string;
  /** The command's exit code (0 on success; 2 for invalid input, as the runtime reports it). */
  readonly exitCode: number;
}

/** `RunTesseractArgs` for `runTesseractOutput`: every field may be a `pulumi.Input`. */
export type RunTesseractOutputArgs = {
  [K in keyof Omit<RunTesseractArgs, "signal">]: pulumi.Input<RunTesseractArgs[K]>;
};

const label = z.record(z.string(), z.string());
const runArgsSchema = z.strictObject({
  image: z.string().min(1, "must name an image (fix: e.g. a TesseractImage's imageRef)"),
  command: z.enum(RUN_COMMANDS, {
    message: `must be one of ${RUN_COMMANDS.join(", ")} (serve is not a one-shot command: use TesseractService or TesseractClient.fromImage)`,
  }),
  args: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  gpus: z.union([z.literal("all"), z.array(z.string().regex(/^[\w-]+$/, "must be a device id")).min(1)]).optional(),
  environment: label.optional(),
  user: z
    .string()
    .regex(/^[\w.-]+(:[\w.-]+)?$/, 'must be "uid" or "uid:gid" (fix: e.g. "1000:1000")')
    .optional(),
  inputPath: z.string().min(1).optional(),
  outputPath: z.string().min(1).optional(),
  outputFormat: z.enum(["json", "json+base64", "json+binref"]).optional(),
  outputFile: z.string().min(1).optional(),
  network: z.string().min(1).optional(),
  memory: z
    .string()
    .regex(/^\d+(\.\d+)?[bkmgBKMG]?$/, 'must be a size like "512m" or "2g"')
    .optional(),
  container: containerOptionsSchema.optional(),
  timeoutMs: z.number().int().positive().optional(),
  signal: z.instanceof(AbortSignal).optional(),
  labels: label.optional(),
  docker: dockerConnectionSchema.optional(),
});

/** A bad `runTesseract` argument, naming the field, the value and the fix. */
export class RunTesseractArgumentError extends UserError {
  /** @param property The argument at fault, e.g. `args[0]` (also on the error as `property`). */
  constructor(property: string, message: string) {
    super(`runTesseract: ${property} ${message}`, { property });
    this.name = "RunTesseractArgumentError";
  }
}

/** The run exceeded `timeoutMs` (the container has been removed). */
export class RunTesseractTimeoutError extends UserError {
  constructor(image: string, command: string, timeoutMs: number) {
    super(`runTesseract: ${image} ${command} did not finish within ${timeoutMs} ms; the container was removed`);
    this.name = "RunTesseractTimeoutError";
  }
}

/** Where an `@file` argument is mounted: `/tesseract/payload<ext>`, numbered from the second on. */
function payloadTarget(index: number, source: string): string {
  return `/tesseract/payload${index === 0 ? "" : `_${index}`}${extname(source)}`;
}

/** The Engine API body of the run container, and the `args` as the container sees them. */
export function runContainerSpec(args: RunTesseractArgs, runId: string, cwd = process.cwd()): ContainerSpec {
  if (args.outputFormat === "json+binref" && !args.outputPath) {
    throw new RunTesseractArgumentError(
      "outputFormat",
      '"json+binref" writes array buffers to .bin files, which are lost without an output folder (fix: set outputPath)',
    );
  }
  const binds: string[] = [];
  const env: Record<string, string> = { ...args.environment };
  const cmd: string[] = [args.command];
  let files = 0;
  (args.args ?? []).forEach((arg, i) => {
    if (arg.startsWith("@") && !isUrlPath(arg.slice(1))) {
      const source = resolve(cwd, arg.slice(1));
      if (!existsSync(source) || !statSync(source).isFile()) {
        throw new RunTesseractArgumentError(
          `args[${i}]`,
          `names ${source}, which is not a file (fix: correct the path)`,
        );
      }
      const target = payloadTarget(files++, source);
      binds.push(`${source}:${target}:ro`);
      cmd.push(`@${target}`);
    } else cmd.push(arg);
  });
  (args.volumes ?? []).forEach((spec, i) => {
    const parsed = parseVolume(spec, cwd, true);
    if ("error" in parsed) throw new RunTesseractArgumentError(`volumes[${i}]`, `"${spec}" ${parsed.error}`);
    const m = parsed.ok;
    binds.push(`${m.source}:${m.target}:${m.mode}`);
  });
  if (args.inputPath) {
    if (isUrlPath(args.inputPath)) env.TESSERACT_INPUT_PATH = args.inputPath;
    else {
      const source = resolve(cwd, args.inputPath);
      if (!existsSync(source))
        throw new RunTesseractArgumentError(
          "inputPath",
          `${source} does not exist (fix: create it or correct the path)`,
        );
      binds.push(`${source}:${CONTAINER_INPUT_PATH}:ro`);
      env.TESSERACT_INPUT_PATH = CONTAINER_INPUT_PATH;
    }
  }
  if (args.outputPath) {
    if (isUrlPath(args.outputPath)) env.TESSERACT_OUTPUT_PATH = args.outputPath;
    else {
      const source = resolve(cwd, args.outputPath);
      ensureOutputDir(source);
      binds.push(`${source}:${CONTAINER_OUTPUT_PATH}:rw`);
      env.TESSERACT_OUTPUT_PATH = CONTAINER_OUTPUT_PATH;
    }
  }
  if (args.outputFormat) env.TESSERACT_OUTPUT_FORMAT = args.outputFormat;
  if (args.outputFile) env.TESSERACT_OUTPUT_FILE = args.outputFile;
  return {
    Image: args.image,
    Cmd: cmd,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    User: args.user ?? defaultUser(),
    Labels: { ...args.labels, [LABELS.managed]: "true", [LABELS.run]: runId },
    Tty: false,
    HostConfig: {
      Binds: binds.length ? binds : undefined,
      DeviceRequests: deviceRequests(args.gpus),
      Memory: args.memory ? memoryBytes(args.memory) : undefined,
      NetworkMode: args.network,
      ...optionsHostConfig(args.container),
    },
    AttachStdout: true,
    AttachStderr: true,
  };
}

/**
 * Throws a {@link RunTesseractArgumentError} for the first bad argument. The value is shown unless
 * it is (or holds) a secret: `environment`, `docker.keyPem`, or a path in `marked` (values the
 * program marked secret); known secret strings are scrubbed from the message.
 */
function checkArgs(args: RunTesseractArgs, marked: readonly string[] = []): void {
  const parsed = runArgsSchema.safeParse(args);
  if (parsed.success) {
    // devices that do not exist, more CPUs than this host has (when the engine is local)
    const [failure] = optionFailures({ container: args.container }, isLocalEngine(args.docker));
    if (failure) throw new RunTesseractArgumentError(failure.property, failure.reason.replace(/^[^:]+: /, ""));
    return;
  }
  const secrets = new InputSecrets({ ...args, [SECRET_MARKS_KEY]: marked }, RUN_TESSERACT_SECRETS);
  const issue = parsed.error.issues[0];
  const path = issue.path
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
  const value = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown>)?.[k as PropertyKey], args);
  const unknownKey =
    issue.code === "unrecognized_keys" ? ` (fix: remove ${issue.keys.join(", ")}, or correct the spelling)` : "";
  const shown = secrets.covers(issue.path) ? "(secret value not shown)" : (JSON.stringify(value) ?? "undefined");
  throw new RunTesseractArgumentError(path || "args", secrets.scrub(`${shown}: ${issue.message}${unknownKey}`));
}

/**
 * Runs one command of a Tesseract image in a new container and returns its output and exit code
 * (a non-zero exit is reported in `exitCode`, not thrown). Throws for bad arguments, a missing
 * image, an unreachable engine, and a timeout; the container never outlives the call.
 *
 * ```ts
 * const { stdout } = await runTesseract({ image: "vectoradd:1.0.0", command: "apply", args: ["@inputs.json"] });
 * ```
 */
export async function runTesseract(args: RunTesseractArgs): Promise<RunTesseractResult> {
  return runMarked(args, []);
}

/**
 * {@link runTesseract} with the paths of arguments the program marked secret (never shown in errors).
 * Used by `runTesseractOutput` and the provider plugin's invoke.
 */
export async function runMarked(args: RunTesseractArgs, marked: readonly string[]): Promise<RunTesseractResult> {
  checkArgs(args, marked);
  const runId = randomBytes(6).toString("hex");
  const spec = runContainerSpec(args, runId);
  const docker = engineFor(args.docker);
  const timeout = args.timeoutMs ? AbortSignal.timeout(args.timeoutMs) : undefined;
  const signal = timeout && args.signal ? AbortSignal.any([timeout, args.signal]) : (timeout ?? args.signal);
  signal?.throwIfAborted();
  let id: string | undefined;
  try {
    try {
      id = await docker.createContainer(`tesseract-run-${runId}`, spec);
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) {
        throw new RunTesseractArgumentError(
          "image",
          `"${args.image}" is not on the engine at ${docker.host} (${err.engineMessage}); images are never pulled (fix: build it with TesseractImage or buildTesseractImage, or correct the reference)`,
        );
      }
      throw err;
    }
    const socket = await docker.attachContainer(id, signal);
    const demux = new FrameDemuxer();
    const drained = new Promise<void>((done, fail) => {
      socket.on("data", (c: Buffer) => demux.push(c));
      socket.once("end", done);
      socket.once("close", done);
      socket.once("error", fail);
    });
    const aborted = new Promise<never>((_, fail) => {
      if (!signal) return;
      const onAbort = () => {
        socket.destroy();
        fail(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      drained.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => undefined);
    });
    aborted.catch(() => undefined);
    const containerId = id;
    const finished = (async () => {
      await docker.startContainer(containerId);
      const exitCode = await docker.waitContainer(containerId, signal);
      await drained;
      return exitCode;
    })();
    const exitCode = await Promise.race([finished, aborted]);
    return { stdout: demux.stdoutText(), stderr: demux.stderrText(), exitCode };
  } catch (err) {
    if (timeout?.aborted) throw new RunTesseractTimeoutError(args.image, args.command, args.timeoutMs as number);
    throw err;
  } finally {
    if (id) await docker.removeContainer(id);
  }
}

/**
 * `runTesseract` taking `pulumi.Input`s and returning an `Output`. During preview, and while any
 * argument is unknown, nothing runs and the result is unknown. Runs on every `pulumi up`; the
 * result is not recorded in state unless exported.
 */
export function runTesseractOutput(
  args: RunTesseractOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<RunTesseractResult> {
  // Secret markers are gone once the arguments are resolved: their paths travel alongside.
  const marked = markedSecretPaths(args);
  return outputCall<RunTesseractArgs & { [SECRET_MARKS_KEY]: string[] }, RunTesseractResult>(
    { ...args, [SECRET_MARKS_KEY]: marked },
    opts,
    ({ [SECRET_MARKS_KEY]: marks, ...a }) => runMarked(a, marks),
    // At preview nothing runs, but bad (known) arguments fail it already.
    ({ [SECRET_MARKS_KEY]: marks, ...a }) => checkArgs(a, marks),
  );
}
