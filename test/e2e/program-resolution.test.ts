/**
 * `pulumi up` in the repository root and in every example folder runs that folder's own
 * program under the Node.js host's rules (scripts/program.ts), and the runner refuses a folder
 * that would run something else — here a project without `main` below a package.json whose
 * entry is a library, the layout that made `pulumi up` run lib/index.js. Each program also
 * compiles the way the host loads TypeScript: its ts-node (the one @pulumi/pulumi vendors, 7.0.1)
 * with the project's typescript, the folder's tsconfig.json, type checks on.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { HOST_TS_LOADER, ownProgram, resolveProgram } from "../../scripts/program";
import { REPO_ROOT } from "../helpers/stack";

const tmp = mkdtempSync(path.join(tmpdir(), "pt-program-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder with a Pulumi.yaml whose runtime is nodejs (examples/yaml and examples/python are not). */
function nodejsProject(dir: string): boolean {
  const file = path.join(dir, "Pulumi.yaml");
  return existsSync(file) && /^runtime:\s*(\n\s+name:\s*)?nodejs/m.test(readFileSync(file, "utf8"));
}

/** The repository's Node.js Pulumi project folders: the root and each such example. */
const projectDirs = [
  REPO_ROOT,
  ...readdirSync(path.join(REPO_ROOT, "examples"), { withFileTypes: true })
    .filter((e) => e.isDirectory() && nodejsProject(path.join(REPO_ROOT, "examples", e.name)))
    .map((e) => path.join(REPO_ROOT, "examples", e.name)),
];

/** A Node.js project folder: Pulumi.yaml (with `main` if given) and an index.ts. */
function project(dir: string, main?: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "Pulumi.yaml"), `name: p\n${main ? `main: ${main}\n` : ""}runtime: nodejs\n`);
  writeFileSync(path.join(dir, "index.ts"), "export const ok = true;\n");
  return dir;
}

test("the root and every example folder resolve to their own index.ts", () => {
  assert.ok(projectDirs.length >= 3, JSON.stringify(projectDirs));
  for (const dir of projectDirs) assert.equal(ownProgram(dir), path.join(dir, "index.ts"));
});

test("each program type-checks and compiles under the host's ts-node and tsconfig", () => {
  for (const dir of projectDirs) {
    const { pwd } = resolveProgram(dir);
    const r = spawnSync("node", ["-e", HOST_TS_LOADER, pwd, ownProgram(dir)], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, `${dir}: ${r.stderr.slice(0, 2000)}`);
  }
});

test("the host's rules: package.json exports/main win without Pulumi.yaml main", () => {
  const lib = path.join(tmp, "lib-package");
  mkdirSync(path.join(lib, "lib"), { recursive: true });
  writeFileSync(path.join(lib, "lib", "index.js"), "exports.library = true;\n");
  const exportsPkg = {
    name: "lib",
    main: "missing.js",
    exports: { ".": { types: "x.d.ts", default: "./lib/index.js" } },
  };
  writeFileSync(path.join(lib, "package.json"), JSON.stringify(exportsPkg));
  const wrong = project(path.join(lib, "example"));
  assert.equal(resolveProgram(wrong).program, path.join(lib, "lib", "index.js"));
  assert.throws(() => ownProgram(wrong), /would run .*lib\/index\.js .*exports\["\."\].*set `main: index\.ts`/);
  // A missing entry keeps the folder (the host warns); `main` in Pulumi.yaml overrides package.json.
  writeFileSync(path.join(lib, "package.json"), JSON.stringify({ name: "lib", main: "missing.js" }));
  assert.equal(ownProgram(wrong), path.join(wrong, "index.ts"));
  writeFileSync(path.join(lib, "package.json"), JSON.stringify({ name: "lib", main: "lib/index.js" }));
  assert.equal(ownProgram(project(path.join(lib, "fixed"), "index.ts")), path.join(lib, "fixed", "index.ts"));
  assert.throws(() => ownProgram(project(path.join(lib, "gone"), "nothing.ts")), /project 'main' could not be read/);
});

test("scripts/up.ts fails on a folder that would run the wrong program, before any engine call", () => {
  const lib = path.join(tmp, "wrong");
  mkdirSync(path.join(lib, "lib"), { recursive: true });
  writeFileSync(path.join(lib, "lib", "index.js"), "exports.library = true;\n");
  writeFileSync(path.join(lib, "package.json"), JSON.stringify({ name: "lib", main: "lib/index.js" }));
  const dir = project(path.join(lib, "example"));
  const run = spawnSync("npx", ["tsx", "scripts/up.ts", "preview", "--dir", dir], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /`pulumi up` in .*example would run .*lib\/index\.js .*set `main: index\.ts`/);
});
