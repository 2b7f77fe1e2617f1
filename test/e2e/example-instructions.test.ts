/**
 * The repository's own project folders under a plain `pulumi up`, as their documents say: the
 * repository is cloned (what CI and a contributor get), the documented blocks are taken from
 * README.md ("`pulumi up` in a clone"), examples/serve/README.md, examples/fractal-server/README.md
 * and examples/kubernetes/README.md ("Run") and run with bash in
 * that clone, with the real `pulumi` CLI and this machine's stand-in Node.js host
 * (test/helpers/pulumi-user.ts). The only step before `pulumi up` is the documented `npm install`.
 * A `pulumi preview --expect-no-changes` runs before each `pulumi destroy`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { insertBefore, shellBlock } from "../helpers/docs";
import { kubectl, startTestInfra } from "../helpers/kubernetes";
import { CACHE, runUserShell, userShellEnv } from "../helpers/pulumi-user";
import { REPO_ROOT } from "../helpers/stack";

const work = mkdtempSync(path.join(tmpdir(), "pt-examples-"));
const clone = path.join(work, "clone");

before(() => {
  execFileSync("git", ["clone", "--quiet", "--no-hardlinks", REPO_ROOT, clone]);
});

after(() => {
  rmSync(work, { recursive: true, force: true });
});

/**
 * Runs a documented block from the clone's root; on failure destroys what it made in `projectDir`.
 * `afterSetup`: the user is a contributor who ran `bash scripts/setup.sh` once (the block says so):
 * their home has its cache (PostgreSQL, the fractal-server venvs) and pyenv's Pythons.
 */
function runBlock(name: string, doc: string, heading: string, projectDir: string, afterSetup = false): string {
  const root = path.join(work, name);
  const env = userShellEnv({ root, nodeBin: path.dirname(process.execPath), tarball: "" });
  if (afterSetup) {
    const home = env.HOME as string;
    mkdirSync(path.join(home, ".cache"), { recursive: true });
    symlinkSync(CACHE, path.join(home, ".cache", "pulumi-tesseract"));
    if (existsSync(path.join(homedir(), ".pyenv")))
      symlinkSync(path.join(homedir(), ".pyenv"), path.join(home, ".pyenv"));
  }
  const block = insertBefore(
    shellBlock(path.join(clone, doc), heading),
    "pulumi destroy",
    "pulumi preview --expect-no-changes",
  );
  const r = runUserShell(block, { root, cwd: clone, env, timeoutMs: 40 * 60_000 });
  if (r.status !== 0) {
    if (existsSync(path.join(projectDir, "Pulumi.yaml")))
      runUserShell("pulumi destroy --yes --skip-preview || true", { root, cwd: projectDir, env, timeoutMs: 900_000 });
    assert.fail(`${doc} "${heading}" failed:\n${`${r.stdout}\n${r.stderr}`.slice(-6000)}`);
  }
  return r.stdout;
}

test("README: `pulumi up` in a clone of the repository (the root stack) after `npm install`", {
  timeout: 45 * 60_000,
}, () => {
  const out = runBlock("root", "README.md", "`pulumi up` in a clone", clone);
  assert.match(out, /Hello, pulumi!/, "the root stack's greeting output");
});

test("examples/serve/README.md: Run", { timeout: 30 * 60_000 }, () => {
  const example = path.join(clone, "examples", "serve");
  const out = runBlock("serve", "examples/serve/README.md", "Run", example);
  assert.match(out, /helloUrls/);
  assert.equal(existsSync(path.join(example, "outputs")), false, "destroy removes the output folders it created");
});

test("examples/fractal-server/README.md: Run (the test fractal-server, collect, deactivate, reactivate, destroy)", {
  timeout: 30 * 60_000,
}, () => {
  const example = path.join(clone, "examples", "fractal-server");
  const out = runBlock("fractal", "examples/fractal-server/README.md", "Run", example, true);
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
    const out = runBlock("kubernetes", "examples/kubernetes/README.md", "Run", example, true);
    assert.match(out, /Hello, Kubernetes!/);
    const left = kubectl(infra.env, ["-n", "default", "get", "deployments,services,secrets,pods", "-o", "name"]);
    assert.doesNotMatch(left, /hello-[0-9a-f]{6}/, "destroy leaves no object of the example");
  } finally {
    infra.stop();
  }
});
