// Typed container settings that replace upstream's free-form `docker_args` (`tesseract serve
// --runtime-args`, `run_tesseract(docker_args=...)`), and upstream's `gpu_transport`. One schema
// for TesseractService, `TesseractClient.fromImage` and `runTesseract`, and one mapping onto the
// Engine API's HostConfig. Free-form `docker run` arguments are not offered: each setting is
// validated at preview and shows in the diff.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";
import type { CheckFailure } from "../common/check";
import { MEMORY, memoryBytes } from "./sizes";

/** Linux capability names (without `CAP_`), as `docker run --cap-add` and Kubernetes take them. */
export const CAPABILITIES = [
  "AUDIT_CONTROL",
  "AUDIT_READ",
  "AUDIT_WRITE",
  "BLOCK_SUSPEND",
  "BPF",
  "CHECKPOINT_RESTORE",
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "IPC_LOCK",
  "IPC_OWNER",
  "KILL",
  "LEASE",
  "LINUX_IMMUTABLE",
  "MAC_ADMIN",
  "MAC_OVERRIDE",
  "MKNOD",
  "NET_ADMIN",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_RAW",
  "PERFMON",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_CHROOT",
  "SYS_MODULE",
  "SYS_NICE",
  "SYS_PACCT",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "SYSLOG",
  "WAKE_ALARM",
];

/** `ulimit` names Docker accepts (`--ulimit NAME=SOFT[:HARD]`). */
export const ULIMIT_NAMES = [
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
];

/** Log drivers built into Docker; plugins (`org/name[:tag]`) are accepted too. */
export const LOG_DRIVERS = [
  "json-file",
  "local",
  "journald",
  "syslog",
  "gelf",
  "fluentd",
  "awslogs",
  "splunk",
  "etwlogs",
  "gcplogs",
  "none",
];

/** Capability name without `CAP_`, upper case: what both engines are sent. */
export function capabilityName(value: string): string {
  return value.toUpperCase().replace(/^CAP_/, "");
}

const capability = z.string().refine((v) => v.toUpperCase() === "ALL" || CAPABILITIES.includes(capabilityName(v)), {
  message:
    'is not a Linux capability (fix: a name such as "NET_ADMIN" or "SYS_PTRACE", with or without CAP_, or "ALL")',
});

const SIZE_HINT = 'a size with an optional unit b, k, m or g (fix: e.g. "64m" or "1g")';

const ulimitValue = z.number().int("must be a whole number").min(-1, "must be -1 (unlimited) or more");
const ulimit = z.union(
  [
    ulimitValue,
    z
      .strictObject({ soft: ulimitValue, hard: ulimitValue })
      .refine((u) => u.hard === -1 || (u.soft !== -1 && u.soft <= u.hard), {
        message: "soft must not exceed hard (fix: e.g. {soft: 1024, hard: 4096})",
      }),
  ],
  { message: "must be a whole number (-1 for unlimited) or {soft, hard} (fix: e.g. 4096)" },
);

/** A parsed `devices` entry. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

const PERMS = /^(?!.*(.).*\1)[rwm]{1,3}$/;

/** `host[:container[:perms]]` (also `host:perms`, as the docker CLI) → the Engine API's device mapping. */
export function parseDevice(spec: string): DeviceMapping | { error: string } {
  const parts = spec.split(":");
  if (parts.length > 3) return { error: "has too many `:` (fix: HOST[:CONTAINER[:PERMS]], e.g. /dev/fuse)" };
  const [host, second, third] = parts;
  let container = host;
  let perms = "rwm";
  if (second !== undefined && third === undefined && PERMS.test(second)) perms = second;
  else if (second !== undefined) {
    container = second;
    if (third !== undefined) perms = third;
  }
  if (!host.startsWith("/")) return { error: "host path must be absolute (fix: e.g. /dev/fuse)" };
  if (!container.startsWith("/")) return { error: "container path must be absolute (fix: e.g. /dev/fuse)" };
  if (!PERMS.test(perms)) return { error: 'permissions must be letters of "rwm", each once (fix: e.g. "rw")' };
  return { PathOnHost: host, PathInContainer: container, CgroupPermissions: perms };
}

const TMPFS_FLAGS = new Set([
  "rw",
  "ro",
  "exec",
  "noexec",
  "suid",
  "nosuid",
  "dev",
  "nodev",
  "atime",
  "noatime",
  "diratime",
  "nodiratime",
  "relatime",
  "norelatime",
  "strictatime",
  "nostrictatime",
]);
const TMPFS_KEYED: Record<string, RegExp> = {
  size: /^\d+(\.\d+)?[kmg%]?$/i,
  mode: /^[0-7]{3,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  nr_inodes: /^\d+[kmg]?$/i,
  nr_blocks: /^\d+[kmg]?$/i,
};

/** `path[:opts]` → `[path, opts]`, or why not. */
export function parseTmpfs(spec: string): [string, string] | { error: string } {
  const i = spec.indexOf(":");
  const path = i < 0 ? spec : spec.slice(0, i);
  const opts = i < 0 ? "" : spec.slice(i + 1);
  if (!path.startsWith("/") || path === "/")
    return { error: 'path must be an absolute container path other than / (fix: e.g. "/scratch:size=64m")' };
  for (const opt of opts ? opts.split(",") : []) {
    const [key, value] = opt.split("=", 2);
    const ok = value === undefined ? TMPFS_FLAGS.has(key) : TMPFS_KEYED[key]?.test(value);
    if (!ok)
      return {
        error: `option ${JSON.stringify(opt)} is not a tmpfs mount option (fix: e.g. size=64m, mode=1777, uid=1000, noexec, ro)`,
      };
  }
  return [path, opts];
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:ip` (the IP may be IPv6 or `host-gateway`) → `[host, ip]`, or why not. */
export function parseExtraHost(spec: string): [string, string] | { error: string } {
  const i = spec.indexOf(":");
  if (i < 0)
    return { error: 'must be "HOST:IP" (fix: e.g. "db.internal:10.0.0.5" or "host.docker.internal:host-gateway")' };
  const host = spec.slice(0, i);
  const ip = spec.slice(i + 1).replace(/^\[(.*)\]$/, "$1");
  if (!HOSTNAME.test(host)) return { error: `host name ${JSON.stringify(host)} is not a valid host name` };
  if (ip !== "host-gateway" && isIP(ip) === 0)
    return { error: `${JSON.stringify(ip)} is not an IPv4/IPv6 address or "host-gateway"` };
  return [host, ip];
}

function specList<T>(parse: (s: string) => T | { error: string }, hint: string) {
  return z.array(z.string()).superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((spec, i) => {
      const res = parse(spec);
      if (res && typeof res === "object" && "error" in res) {
        ctx.addIssue({ code: "custom", path: [i], message: `${JSON.stringify(spec)} ${res.error}` });
        return;
      }
      const key = Array.isArray(res) ? String(res[0]) : (res as DeviceMapping).PathInContainer;
      const dup = seen.get(key);
      if (dup !== undefined)
        ctx.addIssue({ code: "custom", path: [i], message: `${key} is already given by [${dup}] (fix: ${hint})` });
      seen.set(key, i);
    });
  });
}

/** Log driver of a container (`--log-driver`, `--log-opt`). */
export const containerLogConfigSchema = z.strictObject({
  /** Driver: `json-file` (Docker's default), `local`, `journald`, `syslog`, `gelf`, `fluentd`, `awslogs`, `splunk`, `gcplogs`, `none`, or a plugin. `getTesseractServiceLogs` needs `json-file`, `local` or `journald`. */
  type: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_.-]*(\/[a-z0-9][a-z0-9_.-]*)*(:[\w][\w.-]*)?$/,
      `is not a log driver name (fix: one of ${LOG_DRIVERS.join(", ")}, or a plugin such as org/driver:tag)`,
    ),
  /** Driver options, e.g. `{"max-size": "10m", "max-file": "3"}`. */
  config: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "option names are letters, digits, _ . -"), z.string())
    .optional(),
});

/**
 * Typed container settings (upstream passes these as raw `docker_args`). Each maps onto one Engine
 * API HostConfig field; on Kubernetes, see `kubernetes/container-options.ts` for what maps and what
 * is refused.
 */

export const containerOptionsSchema = z.strictObject({
  /** Size of `/dev/shm` (`--shm-size`), e.g. `"1g"` (Docker's default is 64m). */
  shmSize: z
    .string()
    .regex(MEMORY, `must be ${SIZE_HINT}`)
    .refine((v) => !MEMORY.test(v) || memoryBytes(v) > 0, { message: "must be more than 0" })
    .optional(),
  /** Resource limits (`--ulimit`): name → limit, or `{soft, hard}`; -1 is unlimited. E.g. `{nofile: {soft: 1024, hard: 4096}}`. */
  ulimits: z
    .record(z.string(), ulimit)
    .superRefine((r, ctx) => {
      for (const k of Object.keys(r))
        if (!ULIMIT_NAMES.includes(k))
          ctx.addIssue({
            code: "custom",
            path: [k],
            message: `is not a ulimit name (fix: one of ${ULIMIT_NAMES.join(", ")})`,
          });
    })
    .optional(),
  /** CPUs the container may use (`--cpus`), e.g. `0.5` or `2`. */
  cpus: z.number().min(0.01, "must be at least 0.01 (fix: e.g. 0.5 or 2)").max(1024, "must be at most 1024").optional(),
  /** Linux capabilities to add (`--cap-add`), e.g. `["SYS_PTRACE"]`. */
  capAdd: z.array(capability).optional(),
  /** Linux capabilities to drop (`--cap-drop`), e.g. `["NET_RAW"]` or `["ALL"]`. */
  capDrop: z.array(capability).optional(),
  /** Host devices (`--device`): `HOST[:CONTAINER[:PERMS]]`, e.g. `"/dev/fuse"` or `"/dev/sdb:/dev/xvdb:r"`. */
  devices: specList(parseDevice, "map each container path once").optional(),
  /** tmpfs mounts (`--tmpfs`): `PATH[:OPTIONS]`, e.g. `"/scratch:size=64m,mode=1777"`. */
  tmpfs: specList(parseTmpfs, "mount each path once").optional(),
  /** Extra `/etc/hosts` entries (`--add-host`): `HOST:IP`, e.g. `"db.internal:10.0.0.5"` or `"host.docker.internal:host-gateway"`. */
  extraHosts: specList(parseExtraHost, "give each host name once").optional(),
  /** Log driver and its options (`--log-driver`, `--log-opt`). */
  logConfig: containerLogConfigSchema.optional(),
});

/** Plain container options after `check`. */
export type ContainerOptions = z.output<typeof containerOptionsSchema>;

/** Log driver of a container (`--log-driver`, `--log-opt`). */
export type ContainerLogConfig = z.input<typeof containerLogConfigSchema>;

/**
 * Typed container settings: the equivalents of the `docker run` arguments upstream passes through
 * `docker_args`. Docker maps each onto the container's HostConfig; on Kubernetes `cpus`,
 * `capAdd`/`capDrop`, `extraHosts`, `shmSize` and `tmpfs` map onto the pod spec, and `devices`,
 * `ulimits` and `logConfig` are refused.
 */
export type ContainerSettings = z.input<typeof containerOptionsSchema>;

/** Upstream's `gpu_transport`: `none` (default) or `cuda_ipc` (GPU arrays passed by CUDA IPC handle). */
export const gpuTransportSchema = z.enum(["none", "cuda_ipc"], {
  message: 'must be "none" or "cuda_ipc" (the GPU transports of tesseract-core 1.15)',
});

/** The GPU transports a service can enable. */
export type GpuTransport = z.output<typeof gpuTransportSchema>;

/** The HostConfig fields the container options and the GPU transport set. */
export interface OptionsHostConfig {
  ShmSize?: number;
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  NanoCpus?: number;
  CapAdd?: string[];
  CapDrop?: string[];
  Devices?: DeviceMapping[];
  Tmpfs?: Record<string, string>;
  ExtraHosts?: string[];
  LogConfig?: { Type: string; Config: Record<string, string> };
  IpcMode?: string;
}

/** Engine API HostConfig fields for the container options (and `IpcMode: host` for `cuda_ipc`). */
export function optionsHostConfig(o: ContainerOptions | undefined, gpuTransport?: GpuTransport): OptionsHostConfig {
  const hc: OptionsHostConfig = {};
  if (gpuTransport === "cuda_ipc") hc.IpcMode = "host"; // CUDA IPC handles only open in the producer's IPC namespace
  if (!o) return hc;
  if (o.shmSize !== undefined) hc.ShmSize = memoryBytes(o.shmSize);
  if (o.ulimits)
    hc.Ulimits = Object.entries(o.ulimits).map(([Name, v]) =>
      typeof v === "number" ? { Name, Soft: v, Hard: v } : { Name, Soft: v.soft, Hard: v.hard },
    );
  if (o.cpus !== undefined) hc.NanoCpus = Math.round(o.cpus * 1e9);
  if (o.capAdd) hc.CapAdd = o.capAdd.map(capabilityName);
  if (o.capDrop) hc.CapDrop = o.capDrop.map(capabilityName);
  if (o.devices) hc.Devices = o.devices.map((d) => parseDevice(d) as DeviceMapping);
  if (o.tmpfs) hc.Tmpfs = Object.fromEntries(o.tmpfs.map((t) => parseTmpfs(t) as [string, string]));
  if (o.extraHosts) hc.ExtraHosts = o.extraHosts.map((h) => (parseExtraHost(h) as [string, string]).join(":"));
  if (o.logConfig) hc.LogConfig = { Type: o.logConfig.type, Config: o.logConfig.config ?? {} };
  return hc;
}

/** The runtime setting that enables a GPU transport (`TESSERACT_GPU_TRANSPORT`); none for `none`. */
export function gpuTransportEnv(gpuTransport: GpuTransport | undefined): Record<string, string> {
  return gpuTransport && gpuTransport !== "none" ? { TESSERACT_GPU_TRANSPORT: gpuTransport } : {};
}

/** The inputs the cross-field rules look at. */
export interface OptionRuleInputs {
  container?: ContainerOptions;
  gpuTransport?: GpuTransport;
  numWorkers?: number;
}

/**
 * Rules across fields, and checks of the host when the engine is local: `cuda_ipc` with more than
 * one worker (refused by upstream 1.15 too: IPC handles are per process), devices that do not
 * exist, more CPUs than the host has.
 */
export function optionFailures(v: OptionRuleInputs, local: boolean): CheckFailure[] {
  const failures: CheckFailure[] = [];
  if (v.gpuTransport === "cuda_ipc" && (v.numWorkers ?? 1) > 1) {
    failures.push({
      property: "numWorkers",
      reason: `numWorkers: gpuTransport "cuda_ipc" serves with one worker only, as tesseract-core 1.15 does (got ${v.numWorkers}; fix: numWorkers 1, or more \`replicas\` instead)`,
    });
  }
  if (!local || !v.container) return failures;
  (v.container.devices ?? []).forEach((spec, i) => {
    const d = parseDevice(spec);
    if (!("error" in d) && !existsSync(d.PathOnHost)) {
      failures.push({
        property: `container.devices[${i}]`,
        reason: `container.devices[${i}]: ${d.PathOnHost} does not exist on this host (fix: correct the path, or load the driver that provides it)`,
      });
    }
  });
  const cpus = availableParallelism();
  if (v.container.cpus !== undefined && v.container.cpus > cpus) {
    failures.push({
      property: "container.cpus",
      reason: `container.cpus: ${v.container.cpus} is more than the ${cpus} CPU(s) of this host (fix: at most ${cpus})`,
    });
  }
  return failures;
}
