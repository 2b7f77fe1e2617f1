/**
 * `TesseractClient.fromImage`: a throwaway server for a program. One container of the image serves
 * on a free loopback port (Docker picks it, so there is no race with other processes), the call
 * resolves once `GET /health` answers, and `close()` (or `await using`) removes the container with
 * its anonymous volumes. Unlike tesseract-core's `Tesseract.from_image`, debug is off unless asked.
 */
import { randomBytes } from "node:crypto";
import { isIPv4 } from "node:net";
import { resolve } from "node:path";
import type { z } from "zod";
import { type CheckFailure, zodFailures } from "../common/check";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import type { DockerConnection } from "../docker/connection";
import { type ContainerEngine, engineFor } from "../docker/engine";
import { DockerApiError } from "../docker/errors";
import type { ContainerSpec } from "../docker/types";
import { isLocalEngine, memoryBytes } from "../serve/args";
import {
  type ContainerSettings,
  containerOptionsSchema,
  type GpuTransport,
  gpuTransportEnv,
  gpuTransportSchema,
  optionFailures,
  optionsHostConfig,
} from "../serve/container-options";
import { waitHealthy } from "../serve/health";
import { CONTAINER_API_PORT, CONTAINER_DEBUG_PORT } from "../serve/ports";
import { defaultUser, deviceRequests } from "../serve/spec";
import { CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, ensureOutputDir, isUrlPath, parseVolume } from "../serve/volumes";
import { TesseractClient, type TesseractClientOptions } from "./client";

/** Options of `TesseractClient.fromImage`: how to serve the image, and the client's own options. */
export interface FromImageOptions extends TesseractClientOptions {
  /** The Docker engine to serve on. Default: `DOCKER_HOST`, else the local socket. */
  docker?: DockerConnection;
  /** Address the port is published on. Default `127.0.0.1` (use `0.0.0.0` for a remote engine). */
  hostIp?: string;
  /** Host folder mounted read-only at `/tesseract/input_data` (`TESSERACT_INPUT_PATH`). */
  inputPath?: string;
  /** Host folder (created if missing) mounted at `/tesseract/output_data` (`TESSERACT_OUTPUT_PATH`). */
  outputPath?: string;
  /** Extra mounts, `"SOURCE:TARGET[:ro|rw]"` (default `ro`). */
  volumes?: string[];
  /** Environment variables of the container. */
  environment?: Record<string, string>;
  /** `uid[:gid]` to run as. Default: the calling process's uid:gid (as upstream). */
  user?: string;
  /** GPUs to expose: `"all"` or device ids. */
  gpus?: "all" | string[];
  /** Docker network to attach the container to. */
  network?: string;
  /** Memory limit, e.g. `"512m"`. */
  memory?: string;
  /** Uvicorn workers (`--num-workers`). Default 1. */
  numWorkers?: number;
  /**
   * Debug mode (`TESSERACT_DEBUG=1`: tracebacks in 500 answers, `POST /test`, a debugpy port).
   * Default `false`, unlike upstream's `from_image`, which always turns it on.
   */
  debug?: boolean;
  /** How long to wait for `GET /health`, in ms. Default 30,000 (upstream's fixed wait). */
  startupTimeoutMs?: number;
  /** Resolve as soon as the container runs, without waiting for `GET /health` (upstream's `skip_health_check`). */
  skipHealthCheck?: boolean;
  /**
   * GPU transport the runtime enables (upstream's `gpu_transport`): `none` (default) or `cuda_ipc`
   * (sets `TESSERACT_GPU_TRANSPORT` and the host IPC namespace; one worker only). This client asks
   * for host copies; the transport serves other clients on this host that request it.
   */
  gpuTransport?: GpuTransport;
  /** Typed container settings, the equivalents of upstream's `docker_args` (as on `TesseractService`). */
  container?: ContainerSettings;
  /** Extra labels on the container. */
  labels?: Record<string, string>;
}

/** A `TesseractClient` whose server is a container this process started; `close()` removes it. */
export class ServedTesseractClient extends TesseractClient {
  /** Set once the container is gone. */
  private removed: Promise<void> | undefined;

  constructor(
    url: string,
    options: TesseractClientOptions,
    private readonly docker: ContainerEngine,
    /** The container's ID. */
    readonly containerId: string,
    /** The container's name (`tesseract-serve-<random>`). */
    readonly containerName: string,
    /** The host folder mounted as the Tesseract's output path, when one was given. */
    readonly outputPath: string | undefined,
  ) {
    super(url, options);
  }

  /** The container's stdout and stderr so far (server logs; the Tesseract's own logs go to `run_*` folders). */
  serverLogs(tail = 1000): Promise<string> {
    return this.docker.containerLogs(this.containerId, tail);
  }

  /** Closes the connection pool and removes the container (with its anonymous volumes). Idempotent. */
  override async close(): Promise<void> {
    await super.close();
    this.removed ??= this.docker.removeContainer(this.containerId).then(() => undefined);
    await this.removed;
  }
}

/** The Engine API body of the serving container (port published on `hostIp`, Docker picks the host port). */
export function serveContainerSpec(image: string, o: FromImageOptions, id: string, cwd = process.cwd()): ContainerSpec {
  checkServeOptions(o);
  const env: Record<string, string> = { ...o.environment };
  const binds: string[] = [];
  for (const [i, spec] of (o.volumes ?? []).entries()) {
    const parsed = parseVolume(spec, cwd, true);
    if ("error" in parsed) throw new UserError(`fromImage: volumes[${i}] "${spec}" ${parsed.error}`);
    binds.push(`${parsed.ok.source}:${parsed.ok.target}:${parsed.ok.mode}`);
  }
  if (o.inputPath) {
    if (isUrlPath(o.inputPath)) env.TESSERACT_INPUT_PATH = o.inputPath;
    else {
      binds.push(`${resolve(cwd, o.inputPath)}:${CONTAINER_INPUT_PATH}:ro`);
      env.TESSERACT_INPUT_PATH = CONTAINER_INPUT_PATH;
    }
  }
  if (o.outputPath) {
    if (isUrlPath(o.outputPath)) env.TESSERACT_OUTPUT_PATH = o.outputPath;
    else {
      ensureOutputDir(resolve(cwd, o.outputPath));
      binds.push(`${resolve(cwd, o.outputPath)}:${CONTAINER_OUTPUT_PATH}:rw`);
      env.TESSERACT_OUTPUT_PATH = CONTAINER_OUTPUT_PATH;
    }
  }
  const hostIp = o.hostIp ?? "127.0.0.1";
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {
    [`${CONTAINER_API_PORT}/tcp`]: [{ HostIp: hostIp, HostPort: "" }],
  };
  if (o.debug) {
    env.TESSERACT_DEBUG = "1";
    for (const prefix of ["TESSERACT", "TESSERACT_RUNTIME"]) {
      env[`${prefix}_DEBUGPY_PORT`] = String(CONTAINER_DEBUG_PORT);
      env[`${prefix}_DEBUGPY_HOST`] = "0.0.0.0";
    }
    ports[`${CONTAINER_DEBUG_PORT}/tcp`] = [{ HostIp: hostIp, HostPort: "" }];
  }
  Object.assign(env, gpuTransportEnv(o.gpuTransport));
  const cmd = ["serve", "--host", "0.0.0.0", "--port", String(CONTAINER_API_PORT)];
  if (o.numWorkers !== undefined) cmd.push("--num-workers", String(o.numWorkers));
  return {
    Image: image,
    Cmd: cmd,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    User: o.user ?? defaultUser(),
    Labels: { ...o.labels, [LABELS.managed]: "true", [LABELS.fromImage]: id },
    ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
    HostConfig: {
      Init: true,
      PortBindings: ports,
      Binds: binds.length ? binds : undefined,
      DeviceRequests: deviceRequests(o.gpus),
      Memory: o.memory ? memoryBytes(o.memory) : undefined,
      NetworkMode: o.network,
      ...optionsHostConfig(o.container, o.gpuTransport),
    },
  };
}

/**
 * The rules TesseractService applies to the same settings (provider/serve/args.ts): `hostIp` is an
 * IPv4 address, and debug mode is refused on the host network, where the runtime would bind its
 * debugpy port on every interface of the host instead of one published port.
 */
function checkServeOptions(o: FromImageOptions): void {
  const failures = [
    ...(o.gpuTransport !== undefined ? parsed(gpuTransportSchema, o.gpuTransport, "gpuTransport") : []),
    ...(o.container !== undefined ? parsed(containerOptionsSchema, o.container, "container") : []),
  ];
  if (!failures.length) failures.push(...optionFailures(o, isLocalEngine(o.docker)));
  if (failures.length) throw new UserError(`fromImage: ${failures[0].reason}`, { property: failures[0].property });
  if (o.hostIp !== undefined && !isIPv4(o.hostIp)) {
    throw new UserError(
      `fromImage: hostIp ${JSON.stringify(o.hostIp)} must be an IPv4 address (fix: 127.0.0.1, or 0.0.0.0 for all interfaces)`,
      { property: "hostIp" },
    );
  }
  if (o.network === "host" && o.debug) {
    throw new UserError(
      'fromImage: debug is not supported with network "host" (debugpy would listen on every interface of the host; fix: use a user network, or leave debug off)',
      { property: "debug" },
    );
  }
}

/** Check failures of one option against its schema, named `<prefix>.<path>`. */
function parsed(schema: z.ZodType, value: unknown, prefix: string): CheckFailure[] {
  const res = schema.safeParse(value);
  return res.success ? [] : zodFailures(res.error, value, prefix);
}

/** Host name that reaches a port published by `docker` on `hostIp`. */
function reachableHost(docker: ContainerEngine, hostIp: string): string {
  if (hostIp !== "0.0.0.0") return hostIp;
  const tcp = /^tcp:\/\/([^:/]+)/.exec(docker.host);
  return tcp ? tcp[1] : "127.0.0.1";
}

/** See `TesseractClient.fromImage`. */
export async function fromImage(image: string, options: FromImageOptions = {}): Promise<ServedTesseractClient> {
  if (!image) throw new UserError("fromImage: image must name a built Tesseract image");
  const docker = engineFor(options.docker);
  const id = randomBytes(6).toString("hex");
  const name = `tesseract-serve-${id}`;
  const spec = serveContainerSpec(image, options, id);
  let containerId: string;
  try {
    containerId = await docker.createContainer(name, spec);
  } catch (err) {
    if (err instanceof DockerApiError && err.statusCode === 404) {
      throw new UserError(
        `fromImage: image "${image}" is not on the engine at ${docker.host} (${err.engineMessage}); images are never pulled (fix: build it with TesseractImage or buildTesseractImage)`,
      );
    }
    throw err;
  }
  try {
    await docker.startContainer(containerId);
    const info = await docker.inspectContainer(containerId);
    const port = info?.NetworkSettings.Ports?.[`${CONTAINER_API_PORT}/tcp`]?.[0]?.HostPort;
    if (!port)
      throw new UserError(`fromImage: ${image} started, but Docker published no port for ${CONTAINER_API_PORT}/tcp`);
    const url = `http://${reachableHost(docker, options.hostIp ?? "127.0.0.1")}:${port}`;
    const timeoutMs = options.startupTimeoutMs ?? 30_000;
    const health = options.skipHealthCheck
      ? ({ ok: true, seconds: 0 } as const)
      : await waitHealthy(docker, containerId, url, timeoutMs / 1000);
    if (!health.ok) {
      const logs = await docker.containerLogs(containerId, 30).catch(() => "");
      throw new UserError(
        `fromImage: ${image} ${health.detail}${logs.trim() ? `\n--- last container log lines ---\n${logs.trimEnd()}` : ""}`,
      );
    }
    const {
      docker: _d,
      hostIp: _h,
      startupTimeoutMs: _s,
      skipHealthCheck: _k,
      gpuTransport: _g,
      container: _c,
      ...clientOptions
    } = options;
    const outputPath = options.outputPath && !isUrlPath(options.outputPath) ? resolve(options.outputPath) : undefined;
    // a local output folder is readable here: arrays come back through its .bin files (json+binref)
    return new ServedTesseractClient(url, { ...clientOptions, outputPath }, docker, containerId, name, outputPath);
  } catch (err) {
    await docker.removeContainer(containerId).catch(() => undefined);
    throw err;
  }
}
