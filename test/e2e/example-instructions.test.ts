/**
 * The repository's own project folders under a plain `pulumi up`, as their documents say: the
 * repository is cloned (what CI and a contributor get), the documented blocks are taken from
 * README.md ("`pulumi up` in a clone"), examples/serve/README.md, examples/fractal-server/README.md,
 * examples/kubernetes/README.md, examples/slurm/README.md, examples/yaml/README.md and
 * examples/python/README.md ("Run") and
 * run with bash in that clone, with the real `pulumi` CLI and this machine's stand-in Node.js host
 * (test/helpers/pulumi-user.ts). The only step before `pulumi up` is the documented `npm install`.
 * A `pulumi preview --expect-no-changes` runs before each `pulumi destroy`.
 *
 * examples/yaml runs under the real `pulumi up` with the YAML language host (a standard Pulumi
 * install bundles it; here setup builds it and scripts/env.sh puts it on PATH). examples/python's
 * users run `pulumi up` with Pulumi's Python language host, which this machine lacks (the Go module
 * proxy refuses it: /work/shared/reference/pulumi-runtimes.md); its README documents
 * `python automation.py up|destroy` as well (the Automation API with an inline program, no language
 * host), and that is the block run here, with `python automation.py preview --expect-no-changes`
 * before its destroy. These two rows replace the previews of the two examples that
 * test/e2e/plugin-examples.test.ts made: `up` previews the same nine resources first.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { type BuiltTesseractImage, buildTesseractImage, removeTesseractImage } from "../../provider/build";
import { holderTagFor } from "../../provider/build/holders";
import { LABELS } from "../../provider/common/labels";
import { DockerClient } from "../../provider/docker";
import { insertBefore, shellBlock } from "../helpers/docs";
import { kubectl, startTestInfra } from "../helpers/kubernetes";
import { CACHE, runUserShell, userShellEnv } from "../helpers/pulumi-user";
import { loginSsh, startSlurmCluster } from "../helpers/slurm";
import { REPO_ROOT } from "../helpers/stack";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";

const work = mkdtempSync(path.join(tmpdir(), "pt-examples-"));
const clone = path.join(work, "clone");

const run = `example-instructions-${process.pid}`;
const docker = DockerClient.for();
/** The four example Tesseracts as the file builds them first (see `before`). */
const TESSERACTS = ["hello", "vectoradd", "packaged", "calculus"];
const warm: BuiltTesseractImage[] = [];

before(async () => {
  execFileSync("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, clone]);
  // The rows build the same four Tesseracts with the same options (the host's CAs and network) in
  // six stacks, each destroying its images at the end. One build of each, kept (labelled with this
  // run) until after(), leaves their layers in the engine's cache: each row's build then takes
  // seconds, as a user's second stack would, and the file costs four builds instead of twenty.
  // Best effort: a failed build here only means the rows build from scratch.
  for (const name of TESSERACTS) {
    try {
      warm.push(
        await buildTesseractImage(path.join(EXAMPLES, name), {
          tag: `warm-${process.pid}`,
          ...hostBuildOptions(run),
          onLine: () => undefined,
        }),
      );
    } catch (err) {
      console.log(`# warming the build cache with ${name} failed (the rows build it themselves): ${err}`);
    }
  }
});

after(async () => {
  for (const built of warm) await removeTesseractImage(built).catch(() => undefined);
  await cleanupRun(docker, run);
  rmSync(work, { recursive: true, force: true });
});

/** How a row runs its block (see `runBlock`). */
interface RowOptions {
  /**
   * The user is a contributor who ran `bash scripts/setup.sh` once (the README says so): their home
   * has its cache (PostgreSQL, the fractal-server venvs, the Python SDK wheel) and pyenv's Pythons.
   */
  afterSetup?: boolean;
  /** The block's destroy line (its first line starting with this) and the check put before it. */
  destroy?: { line: string; check: string };
  /** What removes the stack's resources when the block failed, run in the project folder. */
  cleanup?: string;
}

const PULUMI_DESTROY = { line: "pulumi destroy", check: "pulumi preview --expect-no-changes" };

/**
 * Runs a documented block from the clone's root; on failure destroys what it made in `projectDir`.
 * Returns the block's stdout and the user's home folder.
 */
function runBlock(
  name: string,
  doc: string,
  heading: string,
  projectDir: string,
  o: RowOptions = {},
): { stdout: string; home: string } {
  const root = path.join(work, name);
  const env = userShellEnv({ root, nodeBin: path.dirname(process.execPath), tarball: "" });
  const home = env.HOME as string;
  if (o.afterSetup) {
    mkdirSync(path.join(home, ".cache"), { recursive: true });
    symlinkSync(CACHE, path.join(home, ".cache", "pulumi-tesseract"));
    if (existsSync(path.join(homedir(), ".pyenv")))
      symlinkSync(path.join(homedir(), ".pyenv"), path.join(home, ".pyenv"));
  }
  const destroy = o.destroy ?? PULUMI_DESTROY;
  const block = insertBefore(shellBlock(path.join(clone, doc), heading), destroy.line, destroy.check);
  const r = runUserShell(block, { root, cwd: clone, env, timeoutMs: 40 * 60_000 });
  if (r.status !== 0) {
    if (existsSync(path.join(projectDir, "Pulumi.yaml")))
      runUserShell(o.cleanup ?? "pulumi destroy --yes --skip-preview || true", {
        root,
        cwd: projectDir,
        env,
        timeoutMs: 900_000,
      });
    assert.fail(`${doc} "${heading}" failed:\n${`${r.stdout}\n${r.stderr}`.slice(-6000)}`);
  }
  return { stdout: r.stdout, home };
}

/** Names of the containers (any state) that carry `label` (`key=value`). */
function containersLabelled(label: string): string {
  return execFileSync("docker", ["ps", "-a", "--filter", `label=${label}`, "--format", "{{.Names}}"], {
    encoding: "utf8",
  }).trim();
}

/**
 * What a root-stack example leaves after its block: no container, no image held by its stack (each
 * TesseractImage's holder tag, `images`: resource name → Tesseract name), no task folder, stack or
 * untracked file.
 */
async function assertNothingLeft(
  project: string,
  images: Record<string, string>,
  example: string,
  home: string,
): Promise<void> {
  for (const [resource, name] of Object.entries(images)) {
    const tag = holderTagFor(name, `urn:pulumi:dev::${project}::tesseract:index:TesseractImage::${resource}`) ?? "";
    assert.equal(await docker.inspectImage(tag), undefined, `destroy removes ${resource}'s holder tag ${tag}`);
  }
  assert.equal(
    containersLabelled(`${LABELS.project}=${project}`),
    "",
    `no container of ${project} is left after destroy`,
  );
  const tasks = path.join(home, ".cache", "pulumi-tesseract", "fractal-tasks", project, "dev");
  assert.equal(existsSync(path.join(tasks, "testing-tasks-mock")), false, `destroy removes the task group (${tasks})`);
  assert.equal(
    existsSync(path.join(example, "Pulumi.dev.yaml")),
    false,
    "`pulumi stack rm` removes the stack's config",
  );
  const untracked = execFileSync("git", ["status", "--porcelain", "--", example], { cwd: clone, encoding: "utf8" });
  assert.equal(untracked.trim(), "", "the block leaves no untracked file in the example (its .venv is ignored)");
}

test("README: `pulumi up` in a clone of the repository (the root stack) after `npm install`", {
  timeout: 45 * 60_000,
}, () => {
  const out = runBlock("root", "README.md", "`pulumi up` in a clone", clone).stdout;
  assert.match(out, /Hello, pulumi!/, "the root stack's greeting output");
});

test("examples/serve/README.md: Run", { timeout: 30 * 60_000 }, () => {
  const example = path.join(clone, "examples", "serve");
  const out = runBlock("serve", "examples/serve/README.md", "Run", example).stdout;
  assert.match(out, /helloUrls/);
  assert.equal(existsSync(path.join(example, "outputs")), false, "destroy removes the output folders it created");
});

test("examples/fractal-server/README.md: Run (the test fractal-server, collect, deactivate, reactivate, destroy)", {
  timeout: 30 * 60_000,
}, () => {
  const example = path.join(clone, "examples", "fractal-server");
  const out = runBlock("fractal", "examples/fractal-server/README.md", "Run", example, { afterSetup: true }).stdout;
  assert.match(out, /testing-tasks-mock/);
});

test("examples/kubernetes/README.md: Run (the test cluster and registries: build, push, 3 replicas, apply, destroy)", {
  timeout: 30 * 60_000,
}, () => {
  // Started (and stopped) here as the block's `kubernetes.sh up` would: the runner starts the
  // cluster once the background Kubernetes build is done; the block's own `up` then finds it up.
  const infra = startTestInfra("cluster");
  try {
    const example = path.join(clone, "examples", "kubernetes");
    const out = runBlock("kubernetes", "examples/kubernetes/README.md", "Run", example, { afterSetup: true }).stdout;
    assert.match(out, /Hello, Kubernetes!/);
    const left = kubectl(infra.env, ["-n", "default", "get", "deployments,services,secrets,pods", "-o", "name"]);
    assert.doesNotMatch(left, /hello-[0-9a-f]{6}/, "destroy leaves no object of the example");
  } finally {
    infra.stop();
  }
});

test("examples/slurm/README.md: Run (the test Slurm cluster: an environment, 2 jobs on 2 nodes, apply and jacobian through the login node, destroy)", {
  timeout: 30 * 60_000,
}, () => {
  // Started (and stopped) here as the block's `slurm.sh up` would; the block's own `up` finds it up.
  const cluster = startSlurmCluster();
  try {
    const example = path.join(clone, "examples", "slurm");
    const out = runBlock("slurm", "examples/slurm/README.md", "Run", example, { afterSetup: true }).stdout;
    assert.match(out, /"data":\s*\[\s*5,\s*8\s*\]/, "`pulumi stack output result`: a + s·b");
    assert.equal(loginSsh(cluster.env, "squeue -h -o %j").trim(), "", "destroy leaves no job");
    assert.equal(existsSync(path.join(example, "Pulumi.dev.yaml")), false, "`pulumi stack rm` removes the config");
  } finally {
    // The block's work folder (the environment, the jobs' files) is in the cluster's folder.
    rmSync(path.join(cluster.env.dir, "work"), { recursive: true, force: true });
    cluster.stop();
  }
});

test("examples/yaml/README.md: Run (the root stack in Pulumi YAML on the plugin: up, output, destroy, stack rm)", {
  timeout: 45 * 60_000,
}, async () => {
  const example = path.join(clone, "examples", "yaml");
  const { stdout, home } = runBlock("yaml", "examples/yaml/README.md", "Run", example);
  assert.match(stdout, /"greeting": ?"Hello, pulumi!"/, "`pulumi stack output greeting` shows the call's result");
  const images = Object.fromEntries(TESSERACTS.map((t) => [`${t}Image`, t]));
  await assertNothingLeft("tesseract-yaml", images, example, home);
});

test("examples/python/README.md: Run (the root stack on pulumi_tesseract through automation.py: up, output, destroy, stack rm)", {
  timeout: 45 * 60_000,
}, async () => {
  const example = path.join(clone, "examples", "python");
  const { stdout, home } = runBlock("python", "examples/python/README.md", "Run", example, {
    // The SDK wheel comes from the contributor's cache (made by setup; sdk-wheel.sh finds it there).
    afterSetup: true,
    destroy: { line: "python automation.py destroy", check: "python automation.py preview --expect-no-changes" },
    cleanup: ".venv/bin/python automation.py destroy || true",
  });
  assert.match(stdout, /"greeting": ?"Hello, pulumi!"/, "`pulumi stack output greeting` shows the call's result");
  const images = Object.fromEntries(TESSERACTS.map((t) => [t, t]));
  await assertNothingLeft("tesseract-python", images, example, home);
});
