/**
 * The service's `outputPath` folder: created when missing (as upstream), and then, with the
 * parents create made, the service's own. Destroy removes a folder the service created when it
 * holds nothing but the Tesseract runtime's per-call records (`run_<id>/`, with their logs and
 * `.bin` buffers) and no other container mounts it, then its parents up to the outermost one
 * create made while they are empty. A folder that existed before is never touched; anything else
 * found in a created one (a user's file) keeps it, with a warning that names the folder.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { dirname, isAbsolute, relative } from "node:path";
import type { Progress } from "../common/log";
import type { ContainerEngine } from "../docker/engine";
import { isUrlPath } from "./volumes";

/**
 * Creates `path` when missing (world-writable, so any container uid can write) and returns the
 * outermost folder this call created, undefined when the folder was there already.
 */
export function createOutputDir(path: string): string | undefined {
  if (isUrlPath(path) || existsSync(path)) return undefined;
  return mkdirSync(path, { recursive: true, mode: 0o777 }) ?? undefined;
}

/** Entries under `dir` that are neither empty folders nor the runtime's `run_*` records. */
function foreignEntries(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = `${dir}/${e.name}`;
    if (e.isDirectory() && /^run_[\w.-]+$/.test(e.name)) continue;
    if (e.isDirectory()) out.push(...foreignEntries(full));
    else out.push(full);
  }
  return out;
}

/**
 * After the service's containers are gone: removes its `outputPath` folder and then each parent up
 * to `created` (the outermost folder the service made) that is left empty, unless a container
 * still mounts the folder (e.g. this service's replacement) or it holds something else than the
 * runtime's per-call records.
 */
export async function removeCreatedOutputDir(
  engine: ContainerEngine,
  created: string,
  outputPath: string,
  progress: Progress,
): Promise<void> {
  const own = relative(created, outputPath);
  if (own.startsWith("..") || isAbsolute(own)) return; // not made by this service
  if (!existsSync(outputPath)) return removeEmptyUpTo(dirname(outputPath), created);
  const users = (await engine.listContainers({}, true)).filter((c) =>
    ((c as { Mounts?: { Source?: string }[] }).Mounts ?? []).some((m) => {
      const rel = m.Source ? relative(outputPath, m.Source) : "..";
      return !rel.startsWith("..") && !isAbsolute(rel);
    }),
  );
  if (users.length) {
    progress.info(`output folder ${outputPath} is still mounted by ${users.length} other container(s); leaving it`);
    return;
  }
  let foreign: string[];
  try {
    foreign = foreignEntries(outputPath);
  } catch (err) {
    progress.warn(`could not inspect the output folder ${outputPath}: ${(err as Error).message}; leaving it`);
    return;
  }
  if (foreign.length) {
    progress.warn(
      `left the output folder ${outputPath} (created by this service): it holds ${foreign.length} file(s) that are not the runtime's run_* records, e.g. ${foreign[0]}`,
    );
    return;
  }
  try {
    rmSync(outputPath, { recursive: true, force: true });
    progress.info(`removed the output folder ${outputPath}`);
  } catch (err) {
    progress.warn(`could not remove the output folder ${outputPath}: ${(err as Error).message}`);
    return;
  }
  removeEmptyUpTo(dirname(outputPath), created);
}

/** Removes `dir` and its parents up to `top` (inclusive) while they are empty folders. */
function removeEmptyUpTo(dir: string, top: string): void {
  let cur = dir;
  for (let i = 0; i < 64; i++) {
    const rel = relative(top, cur);
    if (rel.startsWith("..") || isAbsolute(rel)) return;
    try {
      rmdirSync(cur);
    } catch {
      return; // not empty (another stack's folder, a user's file) or gone
    }
    if (rel === "") return;
    cur = dirname(cur);
  }
}
