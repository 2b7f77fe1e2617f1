/**
 * `npm run up` respects the user's machine: where Docker runs and debian:bookworm-slim exists, it
 * leaves that image as it is (same ID; nothing pulled, loaded, imported or tagged over it),
 * installs no Debian package and starts no dockerd. `npm run up -- preview` (setup-up.sh, build,
 * the root stack's preview through the runner) runs with a PATH whose apt-get, apt, dpkg,
 * mmdebstrap and dockerd fail loudly, and whose docker refuses pull/load/import/tag/rmi; every
 * call of them is recorded. The root stack's `up` itself is test/e2e/root-stack.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { DockerClient } from "../../provider/docker";
import { REPO_ROOT } from "../helpers/stack";

const shims = mkdtempSync(path.join(tmpdir(), "pt-mainjob-"));
const calls = path.join(shims, "calls.log");
const stackName = `mainjob-${process.pid}`;
const docker = DockerClient.for();

after(() => {
  spawnSync("pulumi", ["stack", "rm", "--yes", "--force", "--stack", stackName], { cwd: REPO_ROOT });
  rmSync(path.join(REPO_ROOT, `Pulumi.${stackName}.yaml`), { force: true });
  rmSync(shims, { recursive: true, force: true });
});

/** A command on PATH that records its call and fails. */
function refuse(name: string): void {
  const file = path.join(shims, name);
  writeFileSync(file, `#!/bin/sh\necho "${name} $*" >> "${calls}"\necho "refused: ${name} $*" >&2\nexit 97\n`);
  chmodSync(file, 0o755);
}

test("npm run up -- preview keeps the engine's debian:bookworm-slim and installs nothing", {
  timeout: 15 * 60_000,
}, async () => {
  const before = await docker.inspectImage("debian:bookworm-slim");
  assert.ok(before, "the engine has debian:bookworm-slim (scripts/setup.sh)");
  for (const name of ["apt-get", "apt", "dpkg", "mmdebstrap", "dockerd"]) refuse(name);
  const realDocker = spawnSync("sh", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim();
  assert.ok(realDocker, "a docker CLI on PATH");
  const dockerShim = path.join(shims, "docker");
  writeFileSync(
    dockerShim,
    `#!/bin/sh
case "$1" in pull|load|import|tag|rmi|save) echo "docker $*" >> "${calls}"; echo "refused: docker $*" >&2; exit 97 ;; esac
[ "$1 $2" = "image rm" ] && { echo "docker $*" >> "${calls}"; exit 97; }
exec "${realDocker}" "$@"
`,
  );
  chmodSync(dockerShim, 0o755);

  const r = spawnSync("npm", ["run", "up", "--", "preview"], {
    cwd: REPO_ROOT,
    env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, PULUMI_STACK: stackName },
    encoding: "utf8",
    timeout: 14 * 60_000,
  });
  const recorded = existsSync(calls) ? readFileSync(calls, "utf8") : "";
  assert.equal(recorded, "", `npm run up called what it must not:\n${recorded}`);
  assert.equal(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stderr, /setup for npm run up complete/);
  assert.match(
    r.stdout,
    /Previewing update[\s\S]*TesseractImage[\s\S]*TesseractService/,
    "the root stack's preview ran",
  );
  assert.doesNotMatch(r.stderr, /python peers|postgresql|fractal-server venv/, "no test peers in the main job");
  const after = await docker.inspectImage("debian:bookworm-slim");
  assert.equal(after?.Id, before.Id, "debian:bookworm-slim keeps its ID");
});
