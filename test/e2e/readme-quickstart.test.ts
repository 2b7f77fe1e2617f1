/**
 * The README's quick start, run as a new user runs it: the `sh` block under "Quick start" is taken
 * from README.md itself and run with bash in an empty folder outside the repository, with the real
 * `pulumi` CLI, what `npm install` resolves from the registry on the day (no pins the block does
 * not have) and the packed tarball (`npm pack`) standing in for the registry's `pulumi-tesseract`
 * (test/helpers/pulumi-user.ts). `pulumi up` runs the program exactly as Pulumi's Node.js host
 * would (its `cmd/run`, its ts-node, the folder's tsconfig and the folder's own TypeScript), through
 * this machine's stand-in host (test/helpers/nodejs-host). Between `up` and `destroy` the test adds
 * `pulumi preview --expect-no-changes`.
 *
 * Rows: Node 20 (npm picks @pulumi/pulumi 3.248.0, the last for Node 20) and Node 24 LTS (the
 * newest @pulumi/pulumi), each with the TypeScript npm resolves today; and Node 20 with TypeScript 5
 * pinned. The tarball's contents are checked once.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { LABELS } from "../../provider/common/labels";
import { DockerClient } from "../../provider/docker";
import { insertBefore, shellBlock } from "../helpers/docs";
import { runUserShell, userShellEnv } from "../helpers/pulumi-user";
import { REPO_ROOT } from "../helpers/stack";

const CACHE =
  process.env.PULUMI_TESSERACT_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "pulumi-tesseract");
const work = mkdtempSync(path.join(tmpdir(), "pt-readme-"));
const PROJECT = "hello-tesseract";
let tarball = "";

/** `KEY=value` lines of scripts/lib/node24.sh (the pinned Node 24). */
function node24Bin(): string {
  const text = readFileSync(path.join(REPO_ROOT, "scripts", "lib", "node24.sh"), "utf8");
  const version = text.match(/^NODE24_VERSION="([^"]+)"/m)?.[1] ?? "";
  return path.join(CACHE, `node-v${version}`, "bin");
}

before(() => {
  // `npm pack` runs `prepare` (the build): the tarball is what `npm publish` would upload.
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO_ROOT, encoding: "utf8" });
  const [info] = JSON.parse(out.slice(out.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  tarball = path.join(work, info.filename);
  const files = info.files.map((f) => f.path);
  for (const f of [
    "package.json",
    "README.md",
    "LICENSE",
    "docs/packaging.md",
    "lib/index.js",
    "lib/index.d.ts",
    "lib/index.js.map",
    "lib/resources/tesseract-image-impl.js",
    "lib/resources/tesseract-service-impl.js",
    "lib/resources/task-group-impl.js",
  ])
    assert.ok(files.includes(f), `the tarball ships ${f}: ${files.join(", ")}`);
  // Every document the README links to ships with it.
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  for (const [, link] of readme.matchAll(/\]\(((?!https?:|#)[^)#]+\.md)/g))
    assert.ok(files.includes(path.normalize(link)), `README links ${link}, which the tarball lacks`);
  assert.deepEqual(
    files.filter((f) => /^(test|provider|scripts|examples)\//.test(f) || f.endsWith(".ts.map")),
    [],
    "no sources or tests in the tarball",
  );
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Row {
  name: string;
  nodeBin: string;
  /** npm arguments replaced for this row (a pinned TypeScript). */
  npmArgs?: Record<string, string>;
  /** Expected major version of the TypeScript the row installs, when pinned. */
  typescriptMajor?: string;
}

async function quickStart(row: Row, diagnostic: (s: string) => void): Promise<void> {
  const root = path.join(work, row.name);
  const env = userShellEnv({ root, nodeBin: row.nodeBin, tarball, npmArgs: row.npmArgs });
  const block = insertBefore(
    shellBlock(path.join(REPO_ROOT, "README.md"), "Quick start (an empty folder)"),
    "pulumi destroy",
    "pulumi preview --expect-no-changes",
  );
  const started = Date.now() / 1000;
  const project = path.join(root, PROJECT);
  const r = runUserShell(block, { root, cwd: root, env, timeoutMs: 25 * 60_000 });
  const output = `${r.stdout}\n${r.stderr}`;
  try {
    assert.equal(r.status, 0, `the quick start failed on ${row.name}:\n${output.slice(-6000)}`);
    assert.match(r.stdout, /Hello, you!/, "pulumi up printed the greeting output");
    const ts = JSON.parse(readFileSync(path.join(project, "node_modules", "typescript", "package.json"), "utf8"));
    const pulumi = JSON.parse(
      readFileSync(path.join(project, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
    );
    diagnostic(
      `${row.name}: node ${execFileSync(path.join(row.nodeBin, "node"), ["--version"], { encoding: "utf8" }).trim()}, typescript ${ts.version}, @pulumi/pulumi ${pulumi.version}`,
    );
    if (row.typescriptMajor) assert.equal(ts.version.split(".")[0], row.typescriptMajor);
    // Installed from the tarball (a copy, not a link), without the optional @pulumi/docker: no
    // package asks the host for a resource plugin.
    const installed = path.join(project, "node_modules", "pulumi-tesseract");
    assert.equal(existsSync(path.join(installed, "provider")), false, "a packed copy, not the repository");
    assert.equal(existsSync(path.join(project, "node_modules", "@pulumi", "docker")), false);
    assert.deepEqual(resourcePlugins(path.join(project, "node_modules")), [], "no package asks for a resource plugin");
    // destroy left nothing of the stack: no container of the project, no image built by it. (A
    // client made now: one kept open across the run can find its idle connection closed.)
    const docker = DockerClient.for();
    const containers = await docker.listContainers({ label: [`${LABELS.project}=${PROJECT}`] }, true);
    assert.deepEqual(
      containers.map((c) => c.Id),
      [],
      "destroy removes the containers",
    );
    const images = (await docker.listImages()).filter(
      (i) =>
        i.Labels?.[LABELS.managed] &&
        (i.RepoTags ?? []).some((t) => t === "hello:0.1.0" || t === "hello:latest") &&
        i.Created >= started,
    );
    assert.deepEqual(
      images.map((i) => i.RepoTags),
      [],
      "destroy removes the image",
    );
  } catch (err) {
    // Leave nothing behind: destroy what the block may have created.
    if (existsSync(path.join(project, "Pulumi.yaml")))
      runUserShell("pulumi destroy --yes --skip-preview || true", { root, cwd: project, env, timeoutMs: 600_000 });
    throw err;
  }
}

/** Packages in a node_modules tree that declare a Pulumi resource plugin (`"pulumi": {"resource": true}`). */
function resourcePlugins(nodeModules: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const p = path.join(dir, e.name);
      if (e.name.startsWith("@")) {
        visit(p);
        continue;
      }
      try {
        const pkg = JSON.parse(readFileSync(path.join(p, "package.json"), "utf8"));
        if (pkg.pulumi?.resource) found.push(pkg.name);
      } catch {
        // not a package
      }
      if (existsSync(path.join(p, "node_modules"))) visit(path.join(p, "node_modules"));
    }
  };
  visit(nodeModules);
  return found;
}

test("README quick start on Node 20 with the TypeScript npm resolves today", { timeout: 30 * 60_000 }, async (t) => {
  assert.equal(process.version.split(".")[0], "v20");
  await quickStart({ name: "node20", nodeBin: path.dirname(process.execPath) }, (s) => t.diagnostic(s));
});

test("README quick start on Node 24 LTS with the newest @pulumi/pulumi and today's TypeScript", {
  timeout: 30 * 60_000,
}, async (t) => {
  const nodeBin = node24Bin();
  assert.ok(existsSync(path.join(nodeBin, "node")), `${nodeBin}/node: run bash scripts/setup.sh`);
  await quickStart({ name: "node24", nodeBin }, (s) => t.diagnostic(s));
});

test("README quick start on Node 20 with TypeScript 5 pinned", { timeout: 30 * 60_000 }, async (t) => {
  await quickStart(
    {
      name: "node20-ts5",
      nodeBin: path.dirname(process.execPath),
      npmArgs: { "typescript@<7": "typescript@5" },
      typescriptMajor: "5",
    },
    (s) => t.diagnostic(s),
  );
});
