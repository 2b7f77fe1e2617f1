/**
 * What a user does: `npm pack` the package, install the tarball into a new project folder outside
 * the repository (its own package.json and node_modules from the npm registry, nothing linked to
 * the repository), then run a stack from that folder with the real engine: TesseractImage build,
 * TesseractService serve, `applyOutput`; `preview` shows no changes; `destroy` leaves nothing.
 *
 * Twice: Node 20 with @pulumi/pulumi 3.248.0 (the minimum) and Node 24 LTS with the newest
 * @pulumi/pulumi (scripts/lib/node24.sh, installed by scripts/setup.sh). The stack runs through the
 * Automation API (no Node.js language host here) from a runner inside the consumer folder, under
 * that folder's node and node_modules, loading the program the host would pick (package.json
 * `main`, scripts/program.ts copied in); the dynamic-provider plugin runs on the same node (first
 * on PATH). The npm cache lives in the shared cache folder, so warm runs install offline.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { DockerClient } from "../../provider/docker";
import { HOST_TS_LOADER } from "../../scripts/program";
import { REPO_ROOT } from "../helpers/stack";
import { cleanupRun, EXAMPLES } from "../helpers/tesseract-image";

const CACHE =
  process.env.PULUMI_TESSERACT_CACHE ?? path.join(process.env.HOME ?? "/root", ".cache", "pulumi-tesseract");
const run = `consumer-${process.pid}`;
const docker = DockerClient.for();
const work = mkdtempSync(path.join(tmpdir(), "pt-consumer-"));
let tarball = "";

/** `KEY=value` lines of scripts/lib/node24.sh (the pinned Node 24 and newest @pulumi/pulumi). */
function node24Pins(): { node: string; pulumi: string } {
  const text = readFileSync(path.join(REPO_ROOT, "scripts", "lib", "node24.sh"), "utf8");
  const pin = (k: string) => text.match(new RegExp(`^${k}="([^"]+)"`, "m"))?.[1] ?? "";
  return { node: pin("NODE24_VERSION"), pulumi: pin("PULUMI_NEWEST") };
}

before(() => {
  // `npm pack` runs `prepack` (the build): the tarball is what `npm publish` would upload.
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

after(async () => {
  await cleanupRun(docker, run);
  rmSync(work, { recursive: true, force: true });
});

/** A new user's project: Pulumi.yaml, package.json (Pulumi's TypeScript template layout), tsconfig, index.ts. */
function consumerProject(dir: string, pulumiVersion: string, tag: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "Pulumi.yaml"), "name: pt-consumer\nruntime:\n  name: nodejs\n");
  const pkg = {
    name: "pt-consumer",
    private: true,
    main: "index.ts",
    dependencies: { "@pulumi/pulumi": pulumiVersion, "pulumi-tesseract": `file:${tarball}` },
    // The runner's needs: TypeScript loading and the resolver's YAML parser.
    devDependencies: { "@types/node": "^20.19.0", tsx: "^4.20.0", typescript: "^5.9.0", yaml: "^2.8.0" },
  };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2));
  // The README's quick start files.
  const tsconfig = {
    compilerOptions: {
      strict: true,
      target: "ES2022",
      module: "commonjs",
      moduleResolution: "node",
      esModuleInterop: true,
      skipLibCheck: true,
    },
    files: ["index.ts"],
  };
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  cpSync(path.join(EXAMPLES, "hello"), path.join(dir, "hello"), { recursive: true });
  writeFileSync(
    path.join(dir, "index.ts"),
    `import * as path from "node:path";
import { applyOutput, hostCaCertificates, TesseractImage, TesseractService } from "pulumi-tesseract";

const labels = { "pulumi-tesseract.test": ${JSON.stringify(run)} };
const image = new TesseractImage("hello", {
  srcDir: path.join(__dirname, "hello"),
  tag: ${JSON.stringify(tag)},
  caCertificates: hostCaCertificates(),
  buildNetwork: "host",
  labels,
});
// A shared, loaded test machine: allow the runtime more than the default 30 s to answer /health.
const service = new TesseractService("hello", { image, labels, startupTimeout: 180 });
export const imageName = image.imageName;
export const containerIds = service.containerIds;
export const greeting = applyOutput({ url: service.url, inputs: { name: "consumer" } }).outputs;
`,
  );
  // The runner: the program the Node.js host would run here, hosted by the Automation API.
  cpSync(path.join(REPO_ROOT, "scripts", "program.ts"), path.join(dir, "program.ts"));
  writeFileSync(
    path.join(dir, "run.ts"),
    `import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { resolveProgram } from "./program";

async function main() {
  const resolved = resolveProgram(__dirname);
  const program = require.resolve(resolved.program);
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: process.env.PT_STACK as string,
      projectName: "pt-consumer",
      program: async () => {
        delete require.cache[program];
        return { ...require(program) };
      },
    },
    { workDir: __dirname },
  );
  const onOutput = (s: string) => process.stderr.write(s);
  const command = process.argv[2];
  let result: unknown;
  if (command === "up") {
    const up = await stack.up({ onOutput });
    result = { result: up.summary.result, outputs: Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value])) };
  } else if (command === "preview") {
    result = { changes: (await stack.preview({ onOutput })).changeSummary };
  } else if (command === "destroy") {
    result = { result: (await stack.destroy({ onOutput })).summary.result };
    await stack.workspace.removeStack(stack.name);
  } else if (command === "export") {
    result = await stack.exportStack();
  }
  process.stdout.write(JSON.stringify({ program, node: process.version, pulumi: require("@pulumi/pulumi/package.json").version, ...(result as object) }));
}
main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});
`,
  );
}

interface Variant {
  name: string;
  /** Folder whose `node` runs npm, the runner and the dynamic-provider plugin. */
  nodeBin: string;
  /** Its major version, e.g. `v24`. */
  major: string;
  pulumi: string;
}

async function consumerRun(v: Variant): Promise<void> {
  const dir = path.join(work, v.name);
  const tag = `${run}-${v.name}`;
  consumerProject(dir, v.pulumi, tag);
  const env = {
    ...process.env,
    PATH: `${v.nodeBin}:${process.env.PATH}`,
    npm_config_cache: path.join(CACHE, "npm-cache"),
    PT_STACK: `${run}-${v.name}`,
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
  };
  const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd: dir,
    env,
    encoding: "utf8",
    timeout: 600_000,
  });
  assert.equal(npm.status, 0, npm.stderr);
  // Installed from the tarball (a copy, not a link), without the optional @pulumi/docker: nothing in
  // node_modules declares a resource plugin, so the host would report none as required.
  const installed = path.join(dir, "node_modules", "pulumi-tesseract");
  assert.equal(existsSync(path.join(installed, "lib", "index.js")), true);
  assert.equal(existsSync(path.join(installed, "provider")), false, "a packed copy, not the repository");
  assert.equal(existsSync(path.join(dir, "node_modules", "@pulumi", "docker")), false);
  assert.deepEqual(resourcePlugins(path.join(dir, "node_modules")), [], "no package asks for a resource plugin");

  // `pulumi up` here would compile index.ts with the host's ts-node and this tsconfig: it must type-check.
  const compile = spawnSync("node", ["-e", HOST_TS_LOADER, dir, path.join(dir, "index.ts")], { env, encoding: "utf8" });
  assert.equal(compile.status, 0, compile.stderr);

  const runner = (command: string) => {
    const r = spawnSync("node", ["--import", "tsx", "run.ts", command], {
      cwd: dir,
      env,
      encoding: "utf8",
      timeout: 900_000,
    });
    assert.equal(r.status, 0, `${command} on ${v.name}:\n${r.stderr.slice(-4000)}`);
    return JSON.parse(r.stdout);
  };
  try {
    const up = runner("up");
    assert.equal(up.node.split(".")[0], v.major);
    assert.equal(up.pulumi, v.pulumi);
    assert.equal(up.program, path.join(dir, "index.ts"), "the program the host picks: package.json main");
    assert.equal(up.result, "succeeded");
    assert.equal(up.outputs.imageName, `hello:${tag}`);
    assert.deepEqual(up.outputs.greeting, { greeting: "Hello, consumer!" });
    assert.equal(up.outputs.containerIds.length, 1);
    const changes = Object.entries(runner("preview").changes).filter(([op, n]) => op !== "same" && (n as number) > 0);
    assert.deepEqual(changes, [], "a second preview shows no changes");
    assert.equal(runner("destroy").result, "succeeded");
    assert.equal(await docker.inspectImage(`hello:${tag}`), undefined, "destroy removes the image");
    const left = await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] }, true);
    assert.deepEqual(
      left.map((c) => c.Id),
      [],
      "destroy removes the containers",
    );
  } catch (err) {
    spawnSync("node", ["--import", "tsx", "run.ts", "destroy"], { cwd: dir, env, timeout: 600_000 });
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

test("consumer on Node 20 with @pulumi/pulumi 3.248.0: build, serve, call, no-change preview, destroy", {
  timeout: 30 * 60_000,
}, async () => {
  assert.equal(process.version.split(".")[0], "v20");
  await consumerRun({ name: "node20", nodeBin: path.dirname(process.execPath), major: "v20", pulumi: "3.248.0" });
});

test("consumer on Node 24 with the newest @pulumi/pulumi: the same", { timeout: 30 * 60_000 }, async () => {
  const pins = node24Pins();
  const nodeBin = path.join(CACHE, `node-v${pins.node}`, "bin");
  assert.ok(existsSync(path.join(nodeBin, "node")), `${nodeBin}/node: run bash scripts/setup.sh`);
  await consumerRun({ name: "node24", nodeBin, major: "v24", pulumi: pins.pulumi });
});
