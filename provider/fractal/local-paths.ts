/**
 * What the local backend accepts as names and versions, and where it may write. fractal-server's
 * `TaskCollectPip` only forbids shell characters (`validate_cmd`); the server then refuses a `..`
 * in the task-group path (`AbsolutePathStr`) and checks the path is inside its tasks folder. The
 * local backend builds `<tasksDir>/<pkgName>/<version>` and runs pip itself, so it needs both of
 * those guarantees before anything is created: a name or version that is not a path segment, and
 * no user string that pip could read as an option (`--index-url=...`).
 */
import * as path from "node:path";
import type { CheckFailure } from "../common/check";
import { UserError } from "../common/errors";
import type { PipSpec } from "./schemas";
import { parseWheelFilename } from "./validators";

/** A distribution name (PEP 508 / the core metadata `Name` rule). */
export const PACKAGE_NAME = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;
/** A pinned-package key: a name with optional extras, `pkg[extra1,extra2]`. */
export const PINNED_KEY = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])(\[[A-Za-z0-9._,\s-]*\])?$/;
/**
 * A version (or version prefix, which fractal-server matches against the index): starts with a
 * letter or digit, then letters, digits and `. + ! _ -`; so never `.`, `..`, a `/` or an option.
 */
export const PACKAGE_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/;
/** Extras as pip reads them between brackets: names separated by commas. */
export const PACKAGE_EXTRAS = /^[A-Za-z0-9][A-Za-z0-9._-]*(\s*,\s*[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

const show = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);

/** Failures of a `pip` input on the local backend (property, value, fix), empty when none. */
export function localPipFailures(pip: PipSpec | undefined): CheckFailure[] {
  if (!pip) return [];
  const out: CheckFailure[] = [];
  const fail = (property: string, reason: string) => out.push({ property, reason: `${property}: ${reason}` });
  if (pip.package !== undefined && !PACKAGE_NAME.test(pip.package))
    fail(
      "pip.package",
      `${show(pip.package)} is not a package name; the local backend makes it a folder and gives it to pip (fix: a distribution name such as fractal-tasks-core: letters, digits, . _ -, starting and ending with a letter or digit)`,
    );
  if (pip.packageVersion !== undefined && !PACKAGE_VERSION.test(pip.packageVersion))
    fail(
      "pip.packageVersion",
      `${show(pip.packageVersion)} is not a version; the local backend makes it a folder under tasksDir (fix: a version such as 1.4.2, or leave it out for the newest)`,
    );
  if (pip.packageExtras !== undefined && !PACKAGE_EXTRAS.test(pip.packageExtras))
    fail(
      "pip.packageExtras",
      `${show(pip.packageExtras)} is not a list of extras (fix: names separated by commas, such as fractal-tasks,napari)`,
    );
  if (pip.wheelFile !== undefined) {
    try {
      const w = parseWheelFilename(path.basename(pip.wheelFile));
      if (!PACKAGE_NAME.test(w.distribution) || !PACKAGE_VERSION.test(w.version))
        fail(
          "pip.wheelFile",
          `${show(path.basename(pip.wheelFile))} does not name a distribution and a version (fix: a wheel named <name>-<version>-<tags>.whl, as pip builds it)`,
        );
    } catch {
      // reported by the wheel-file check
    }
  }
  for (const which of ["pinnedPackageVersionsPre", "pinnedPackageVersionsPost"] as const) {
    for (const [key, value] of Object.entries(pip[which] ?? {})) {
      if (!PINNED_KEY.test(key))
        fail(
          `pip.${which}`,
          `key ${show(key)} is not a package name; pip would read it as an option or a path (fix: a name such as numpy or pkg[extra])`,
        );
      if (!PACKAGE_VERSION.test(value))
        fail(`pip.${which}`, `${show(key)}: ${show(value)} is not a version (fix: an exact version such as 1.26.4)`);
    }
  }
  return out;
}

/**
 * `<tasksDir>/<pkgName>/<version>`, after checking that both are plain path segments and that the
 * resolved path is inside tasksDir (the index may answer with any version string). Throws a
 * UserError naming the value otherwise.
 */
export function confinedGroupPath(tasksDir: string, pkgName: string, version: string): string {
  if (!PACKAGE_NAME.test(pkgName))
    throw new UserError(`package name ${show(pkgName)} cannot name a folder under tasksDir`, {
      property: "pip.package",
      hint: "use a distribution name such as fractal-tasks-core",
    });
  if (!PACKAGE_VERSION.test(version))
    throw new UserError(`version ${show(version)} of ${pkgName} cannot name a folder under tasksDir`, {
      property: "pip.packageVersion",
      hint: "pin a version such as 1.4.2",
    });
  const base = path.resolve(tasksDir);
  const groupPath = path.resolve(base, pkgName, version);
  if (path.dirname(path.dirname(groupPath)) !== base)
    throw new UserError(`task-group folder ${groupPath} is not inside tasksDir ${base}`, { property: "tasksDir" });
  return groupPath;
}

/** Whether `p` is a `<something>/<pkg>/<version>` folder a local group may remove (not `/`, no `..`). */
export function isRemovableGroupPath(p: string): boolean {
  if (!path.isAbsolute(p) || p.split("/").includes("..")) return false;
  const version = path.basename(p);
  const pkg = path.basename(path.dirname(p));
  return PACKAGE_VERSION.test(version) && PACKAGE_NAME.test(pkg) && path.dirname(path.dirname(p)) !== p;
}
