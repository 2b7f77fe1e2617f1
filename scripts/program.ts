/**
 * Which program `pulumi up` runs in a Node.js Pulumi project folder, by the rules of the real
 * Node.js language host, so that the repository's runner (scripts/up.ts) and the e2e tests run
 * exactly what a user's `pulumi up` would run (the Automation API with a program that loads
 * `index.ts` directly would hide a folder that resolves to something else).
 *
 * A port of two pieces of Pulumi 3.248 (same rules in later releases):
 * - the engine's `getPwdMain` (pkg/engine/project.go): `main` of Pulumi.yaml, relative to the
 *   project folder, splits into the working directory and an entry point (`.` when unset or a folder);
 * - the host's `run` (`@pulumi/pulumi/cmd/run/run.js`): with entry point `.`, the nearest
 *   package.json at or above the working directory names the program through `exports` (a string,
 *   or `exports["."]` as a string or its `default`/`require`/`import`) or else `main`, each only if
 *   that file exists; the result is then loaded with `require` (a folder through its package.json
 *   `main` or `index.*`).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

/** The project file names the Pulumi CLI reads, in its order. */
const PROJECT_FILES = ["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"];
/** The package manifests the host searches for (runtime/manifest.js). */
const PACKAGE_MANIFESTS = ["package.json", "package.yaml"];

/** A project folder's program as the Node.js host resolves it. */
export interface ResolvedProgram {
  /** The project folder (where Pulumi.yaml is). */
  projectDir: string;
  /** The host's working directory (`--pwd`). */
  pwd: string;
  /** What the host passes to `require`: a file or a folder. */
  program: string;
  /** The package.json folder the host read, if any. */
  packageRoot: string;
  /** Why this program: which rule picked it. */
  reason: string;
}

/** Reads the project's Pulumi.yaml and resolves its program by the host's rules. */
export function resolveProgram(projectDir: string): ResolvedProgram {
  const projectFile = PROJECT_FILES.map((f) => path.join(projectDir, f)).find((f) => existsSync(f));
  if (!projectFile) throw new Error(`${projectDir}: no Pulumi.yaml (not a Pulumi project folder)`);
  const project = (parse(readFileSync(projectFile, "utf8")) ?? {}) as { runtime?: unknown; main?: unknown };
  const runtime = typeof project.runtime === "string" ? project.runtime : (project.runtime as { name?: string })?.name;
  if (runtime !== "nodejs") throw new Error(`${projectFile}: runtime is '${runtime}', not nodejs`);

  // getPwdMain
  let pwd = projectDir;
  let entry = ".";
  if (typeof project.main === "string" && project.main !== "") {
    const main = path.resolve(projectDir, project.main);
    if (!existsSync(main)) throw new Error(`${projectFile}: project 'main' could not be read: ${main} does not exist`);
    if (statSync(main).isDirectory()) pwd = main;
    else [pwd, entry] = [path.dirname(main), path.basename(main)];
  }

  // run.js: program = argv._[0] made absolute against the working directory.
  const hasEntrypoint = entry !== ".";
  let program = path.join(pwd, entry);
  const packageRoot = packageRootOf(program);
  const pkg = readPackage(packageRoot);
  let reason = hasEntrypoint ? `Pulumi.yaml main: ${project.main}` : "the project folder (no package.json entry)";
  const pick = (entrypoint: unknown, field: string) => {
    if (typeof entrypoint !== "string") return;
    const candidate = path.join(packageRoot, entrypoint);
    // resolveEntrypoint: a missing file keeps the fallback (the host only warns).
    if (existsSync(candidate)) [program, reason] = [candidate, `${path.join(packageRoot, "package.json")} ${field}`];
  };
  if (!hasEntrypoint) {
    if (typeof pkg.exports === "string") pick(pkg.exports, "exports");
    else if (pkg.exports && typeof pkg.exports === "object") {
      const main = (pkg.exports as Record<string, unknown>)["."];
      if (typeof main === "string") pick(main, 'exports["."]');
      else if (main && typeof main === "object") {
        const m = main as Record<string, unknown>;
        pick(m.default || m.require || m.import, 'exports["."]');
      }
    } else if (pkg.main) pick(pkg.main, "main");
  }
  return { projectDir, pwd, program, packageRoot, reason };
}

/**
 * Throws unless the folder's program is its own `index.ts`, the layout of every project in this
 * repository: a folder that would run the library (`lib/index.js`) or another folder's file is
 * misconfigured, and the runner and the e2e tests must fail on it as a user's `pulumi up` would.
 */
export function ownProgram(projectDir: string): string {
  const resolved = resolveProgram(projectDir);
  const own = path.join(projectDir, "index.ts");
  const file = require.resolve(resolved.program);
  if (file !== own) {
    throw new Error(
      `\`pulumi up\` in ${projectDir} would run ${file} (${resolved.reason}), not ${own}: ` +
        "set `main: index.ts` in its Pulumi.yaml",
    );
  }
  return file;
}

/** npmPackageRootFromProgramPath: the nearest manifest at or above the program's folder. */
function packageRootOf(program: string): string {
  const start = existsSync(program) && statSync(program).isDirectory() ? program : path.dirname(program);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (PACKAGE_MANIFESTS.some((m) => existsSync(path.join(dir, m)))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

function readPackage(dir: string): { exports?: unknown; main?: string } {
  for (const name of PACKAGE_MANIFESTS) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    try {
      return parse(readFileSync(file, "utf8")) ?? {};
    } catch {
      return {}; // the host reads the manifest best-effort too
    }
  }
  return {};
}

/**
 * A script for `node -e SCRIPT DIR PROGRAM`: what `@pulumi/pulumi/cmd/run/run.js` does before it
 * `require`s a TypeScript program — in the working directory DIR, the ts-node and typescript the
 * host picks (the project's, else the ones @pulumi/pulumi vendors), the tsconfig.json there, type
 * checks on — then compiles PROGRAM. Exits non-zero with the TypeScript errors the host would print.
 */
export const HOST_TS_LOADER = `
const path = require("path"), fs = require("fs");
const [dir, program] = process.argv.slice(1);
process.chdir(dir);
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [dir] }));
const hostRequire = require("module").createRequire(path.join(pulumiDir, "cmd", "run", "run.js"));
const { tsnodeRequire, typescriptRequire } = hostRequire("../../tsutils").typeScriptRequireStrings();
const project = process.env.PULUMI_NODEJS_TSCONFIG_PATH || "tsconfig.json";
const ts = hostRequire(tsnodeRequire).register({
  compiler: typescriptRequire, transpileOnly: false, project, skipProject: !fs.existsSync(project), compilerOptions: {},
});
ts.compile(fs.readFileSync(program, "utf8"), program);
`;
