/**
 * The plugin installed the way README documents for machines without the launcher on PATH:
 * `pulumi plugin install resource tesseract <version> --file <package>/bin` copies the launcher
 * into the plugin folder, which finds the package in the project's node_modules. With bin/ off
 * PATH, a YAML preview reaches the installed plugin's check (a bad input fails with the lifecycle's
 * message). No Docker object is created. (The YAML host stays on PATH: the CLI refuses to install
 * a language it considers bundled.)
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, it } from "node:test";
import * as serviceImpl from "../../provider/resources/tesseract-service-impl";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";

const { version } = require("../../package.json") as { version: string };
const home = mkdtempSync(path.join(tmpdir(), "pt-plugin-home-"));
const project = new CliProject("pt-plugin-install", `install-${process.pid}`);
project.pluginOnPath = false;
const env = { PULUMI_HOME: home };

after(async () => {
  await project.dispose();
  rmSync(home, { recursive: true, force: true });
});

it("pulumi plugin install --file <bin folder>, then a preview uses the installed plugin", {
  timeout: 600_000,
}, async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: REPO_ROOT, stdio: "ignore" });
  const install = async (args: string[]) => {
    const r = await project.run(["plugin", "install", ...args], 300_000, env);
    assert.equal(r.code, 0, r.all);
  };
  await install(["resource", "tesseract", version, "--file", path.join(REPO_ROOT, "bin")]);
  const ls = await project.run(["plugin", "ls"], 60_000, env);
  assert.match(ls.all, new RegExp(`tesseract\\s+resource\\s+${version.replace(/\./g, "\\.")}`));

  mkdirSync(path.join(project.dir, "node_modules"));
  symlinkSync(REPO_ROOT, path.join(project.dir, "node_modules", "pulumi-tesseract"));
  project.write(
    "Pulumi.yaml",
    `name: pt-plugin-install
runtime: yaml
resources:
  bad:
    type: tesseract:index:TesseractService
    properties:
      image: hello:1
      replicas: 0
`,
  );
  assert.equal((await project.run(["stack", "init", project.stack], 60_000, env)).code, 0);
  const r = await project.run(["preview"], 300_000, env);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.all, /pulumi-resource-tesseract from \$PATH/);
  assert.equal(
    execFileSync("sh", ["-c", "command -v pulumi-resource-tesseract || true"], {
      encoding: "utf8",
      env: project.env(),
    }).trim(),
    "",
    "no launcher on PATH",
  );
  const direct = await serviceImpl.check(
    {},
    { image: "hello:1", replicas: 0, serviceName: "bad", stack: project.stack, project: "pt-plugin-install" },
  );
  for (const f of direct.failures ?? []) assert.ok(r.all.includes(f.reason), `missing ${f.reason} in:\n${r.all}`);
  assert.ok(direct.failures?.length);
});
