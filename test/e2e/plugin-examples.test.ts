/**
 * The README's ten-line YAML stack previews its three resources, with every input checked by the
 * plugin (source folder, config, task package spec); nothing is built or created. (examples/yaml and
 * examples/python run whole, from their READMEs, in test/e2e/example-instructions.test.ts.)
 */
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { it } from "node:test";
import { CliProject, REPO_ROOT } from "../helpers/plugin-cli";

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
