/** Custom collection on this machine: manifests and package roots (split from local.ts, unchanged). */
import { createHash } from "node:crypto";
import { constants as fsc } from "node:fs";
import * as fs from "node:fs/promises";
import { UserError } from "../common/errors";
import type { GroupState } from "./group-state";
import type { LocalOptions } from "./local";
import { ActivityLog, isExecutableFile, runStep, tail } from "./local-python";
import { type CustomSpec, type ManifestV2, parseManifest, prepareTasks } from "./schemas";

/** Loads and validates a manifest file. */
export async function loadManifest(file: string): Promise<ManifestV2> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new UserError(`cannot read manifest ${file}: ${(err as Error).message}`);
  }
  const { manifest, problems } = parseManifest(raw);
  if (!manifest) throw new UserError(`invalid manifest ${file}: ${problems.join("; ")}`);
  return manifest;
}

/** Manifest of a custom spec (object or file), validated. */
export async function customManifest(
  spec: CustomSpec,
): Promise<{ manifest: ManifestV2; raw: Record<string, unknown> }> {
  if (typeof spec.manifest === "string") {
    const manifest = await loadManifest(spec.manifest);
    return { manifest, raw: JSON.parse(await fs.readFile(spec.manifest, "utf8")) };
  }
  const { manifest, problems } = parseManifest(spec.manifest);
  if (!manifest) throw new UserError(`invalid custom.manifest: ${problems.join("; ")}`);
  return { manifest, raw: spec.manifest };
}

/** sha256 of a file (wheel or manifest) for change detection. */
export async function fileSha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");
}

/**
 * Custom collection, as the server's `collect/custom/` does it: checks the interpreter (and
 * package root), finds the package root through `importlib.util.find_spec` when only the package
 * name is given, and builds the task list. Installs nothing, creates no folder.
 */
export async function collectCustomLocal(
  spec: CustomSpec,
  o: Pick<LocalOptions, "progress" | "stepTimeoutMs">,
): Promise<GroupState> {
  const log = new ActivityLog(o.progress);
  if (!(await isExecutableFile(spec.pythonInterpreter))) {
    throw new UserError(`custom.pythonInterpreter ${spec.pythonInterpreter} is not an executable file`);
  }
  const packageRoot = await customPackageRoot(spec, log, o.stepTimeoutMs);
  const { manifest } = await customManifest(spec);
  const tasks = prepareTasks(manifest, spec.pythonInterpreter, packageRoot, spec.version);
  log.write(`Registered ${tasks.length} tasks of ${spec.label} from ${packageRoot}`);
  return {
    origin: "other",
    pkgName: spec.label,
    version: spec.version,
    active: true,
    tasks,
    activityLog: tail(log.text()),
  };
}

export async function customPackageRoot(spec: CustomSpec, log: ActivityLog, timeoutMs: number): Promise<string> {
  if (spec.packageRoot) {
    try {
      if (!(await fs.stat(spec.packageRoot)).isDirectory()) throw new Error("not a directory");
      await fs.access(spec.packageRoot, fsc.R_OK);
    } catch {
      throw new UserError(`custom.packageRoot ${spec.packageRoot} is not a readable directory`);
    }
    return spec.packageRoot;
  }
  const mod = (spec.packageName as string).replace(/-/g, "_");
  const code = `import importlib.util; from pathlib import Path; init_path=importlib.util.find_spec("${mod}").origin; print(Path(init_path).parent.as_posix())`;
  try {
    const out = await runStep(log, `find package root of ${mod}`, spec.pythonInterpreter, ["-c", code], timeoutMs);
    const lines = out.replace(/\n+$/, "");
    if (!lines || lines.includes("\n")) throw new Error(`unexpected output ${JSON.stringify(out)}`);
    return lines;
  } catch (err) {
    throw new UserError(
      `cannot determine the package root of '${spec.packageName}' with ${spec.pythonInterpreter}: ${(err as Error).message}`,
    );
  }
}
