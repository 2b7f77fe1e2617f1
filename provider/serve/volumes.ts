import { existsSync, mkdirSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** Where `inputPath` and `outputPath` are mounted inside the container (as upstream). */
export const CONTAINER_INPUT_PATH = "/tesseract/input_data";
export const CONTAINER_OUTPUT_PATH = "/tesseract/output_data";

export interface VolumeMount {
  /** Absolute host path (bind mount) or a Docker volume name. */
  source: string;
  target: string;
  mode: "ro" | "rw";
  /** True for a host path, false for a named Docker volume. */
  bind: boolean;
}

/**
 * Upstream's rule: a source containing `/` or `.` is a host path, anything else is the name of a
 * Docker volume (`data:/data`).
 */
export function isLocalSource(source: string): boolean {
  return source.includes("/") || source.includes(".") || source.startsWith("~");
}

/** A remote fsspec location (`s3://bucket/x`): only the env var is set, nothing is mounted. */
export function isUrlPath(value: string): boolean {
  return value.includes("://");
}

export type VolumeResult = { ok: VolumeMount } | { error: string };

/**
 * Parses one `src:dst[:ro|rw]` entry (default mode `ro`, as upstream). Host paths are made absolute
 * against `cwd`; with `checkExists`, a host path that does not exist is an error.
 */
export function parseVolume(spec: string, cwd: string, checkExists: boolean): VolumeResult {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    return { error: 'must be "SOURCE:TARGET" or "SOURCE:TARGET:ro|rw" (fix: e.g. "./data:/data:ro")' };
  }
  const [rawSource, target, rawMode] = parts;
  const mode = rawMode ?? "ro";
  if (mode !== "ro" && mode !== "rw") {
    return { error: `has mode "${mode}", which is neither "ro" nor "rw" (fix: "${rawSource}:${target}:ro")` };
  }
  if (!target.startsWith("/")) {
    return { error: `has target "${target}", which is not an absolute container path (fix: e.g. "/data")` };
  }
  const bind = isLocalSource(rawSource);
  if (!bind) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(rawSource)) {
      return { error: `has source "${rawSource}", which is neither a host path nor a valid Docker volume name` };
    }
    return { ok: { source: rawSource, target, mode, bind } };
  }
  const expanded = rawSource.startsWith("~/") ? `${process.env.HOME ?? "~"}${rawSource.slice(1)}` : rawSource;
  const source = isAbsolute(expanded) ? resolve(expanded) : resolve(cwd, expanded);
  if (checkExists && !existsSync(source)) {
    return { error: `has source ${source}, which does not exist (fix: create it, or correct the path)` };
  }
  return { ok: { source, target, mode, bind } };
}

/** `source:target:mode` as Docker's `HostConfig.Binds` wants it. */
export function bindString(m: VolumeMount): string {
  return `${m.source}:${m.target}:${m.mode}`;
}

/** Makes a host path absolute against `cwd` (URLs are returned unchanged). */
export function absolutePath(value: string, cwd: string): string {
  return isUrlPath(value) ? value : resolve(cwd, value);
}

/** Creates the output directory if missing (as upstream); world-writable so any container uid can write. */
export function ensureOutputDir(path: string): void {
  if (isUrlPath(path) || existsSync(path)) return;
  mkdirSync(path, { recursive: true, mode: 0o777 });
}
