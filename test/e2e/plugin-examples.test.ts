/**
 * examples/yaml (real `pulumi preview`, YAML host) and examples/python (`automation.py preview`, the
 * generated SDK) plan the root stack's nine resources, and the README's ten-line YAML stack its
 * three, with every input checked by the plugin (source folders, configs, task package spec);
 * nothing is built or created. Copies of the example
 * folders run against a private backend so no stack file lands in the repository.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, it } from "node:test";
import { CliProject, pythonStackEnv, REPO_ROOT } from "../helpers/plugin-cli";

const work = mkdtempSync(path.join(tmpdir(), "pt-plugin-examples-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** examples/<name> copied next to a link to examples/tesseracts, so relative srcDirs still resolve. */
function copyExample(name: string): string {
  const examples = path.join(work, "examples");
  mkdirSync(examples, { recursive: true });
  if (!existsSync(path.join(examples, "tesseracts")))
    symlinkSync(path.join(REPO_ROOT, "examples", "tesseracts"), path.join(examples, "tesseracts"));
  cpSync(path.join(REPO_ROOT, "examples", name), path.join(examples, name), { recursive: true });
  return path.join(examples, name);
}

it("examples/yaml previews the root stack's resources", { timeout: 600_000 }, async () => {
  const project = new CliProject("pt-plugin-ex-yaml", `ex-yaml-${process.pid}`);
  try {
    const dir = copyExample("yaml");
    await project.ok(["stack", "init", project.stack, "--cwd", dir]);
    const r = await project.ok(["preview", "--cwd", dir, "--json"]);
    const steps = JSON.parse(r.stdout).steps as { op: string; urn: string }[];
    const creates = steps.filter((s) => s.op === "create" && /::tesseract:index:/.test(s.urn));
    assert.equal(creates.length, 9, r.stdout);
  } finally {
    await project.dispose();
  }
});

it("examples/python previews the same resources through the Automation API", { timeout: 600_000 }, () => {
  const python = path.join(process.env.PULUMI_TESSERACT_PYTHON_SDK ?? "", "venv", "bin", "python");
  assert.ok(existsSync(python), `no SDK venv at ${python}: run scripts/setup.sh (source scripts/env.sh)`);
  const dir = copyExample("python");
  mkdirSync(path.join(work, "state"), { recursive: true });
  const r = spawnSync(python, ["automation.py", "preview", "--stack", `ex-py-${process.pid}`], {
    cwd: dir,
    encoding: "utf8",
    timeout: 580_000,
    env: pythonStackEnv(work),
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\+ 10 to create/); // the nine resources and the stack
});

it("the README's YAML stack previews", { timeout: 600_000 }, async () => {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(yaml, "README has a YAML stack");
  const project = new CliProject("pt-plugin-readme", `readme-${process.pid}`);
  try {
    cpSync(path.join(REPO_ROOT, "examples", "tesseracts", "hello"), path.join(project.dir, "hello"), {
      recursive: true,
    });
    project.write("Pulumi.yaml", yaml);
    await project.ok(["stack", "init", project.stack]);
    const r = await project.ok(["preview", "--json"]);
    const steps = JSON.parse(r.stdout).steps as { op: string; urn: string }[];
    assert.equal(steps.filter((s) => s.op === "create" && /::tesseract:index:/.test(s.urn)).length, 3, r.stdout);
  } finally {
    await project.dispose();
  }
});
