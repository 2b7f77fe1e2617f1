// Runs examples/serve (build the example Tesseracts, serve them) as an inline program: the
// language plugin is not needed, the example's module is the program.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { ownProgram } from "../../scripts/program";
import { testWorkspace } from "../helpers/stack";
import { requireVenvBin } from "../helpers/venv";

const ROOT = join(__dirname, "..", "..");
const EXAMPLE = join(ROOT, "examples", "serve");
let stack: Stack | undefined;

after(async () => {
  if (stack) {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(stack.name).catch(() => undefined);
  }
  rmSync(join(EXAMPLE, "outputs"), { recursive: true, force: true });
});

test("examples/serve: builds hello and vectoradd, serves them, answers apply, destroys", {
  timeout: 900_000,
}, async () => {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    // type errors elsewhere still emit lib/
  }
  stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: `svcexample-${process.pid}`,
      projectName: "pulumi-tesseract-serve",
      program: async () => {
        // The program a user's `pulumi up` runs in that folder (fails if that is not its index.ts).
        const main = ownProgram(EXAMPLE);
        delete require.cache[main];
        return { ...require(main) };
      },
    },
    testWorkspace("pulumi-tesseract-serve"),
  );
  await stack.setConfig("pulumi-tesseract-serve:vectoraddPort", { value: "47231" });
  const up = await stack.up();
  const py = requireVenvBin("python");
  const hello = execFileSync(py, [
    "-c",
    `from tesseract_core import Tesseract; print(Tesseract.from_url(${JSON.stringify(up.outputs.helloUrl.value)}).apply({"name": "example"}))`,
  ]).toString();
  assert.match(hello, /Hello, example!/);
  const vec = execFileSync(py, [
    "-c",
    `import numpy as np; from tesseract_core import Tesseract; t=Tesseract.from_url(${JSON.stringify(up.outputs.vectoraddUrl.value)}); print(t.apply({"a": np.array([1.0,2.0]), "b": np.array([3.0,4.0]), "s": 2.0})["result"].tolist())`,
  ]).toString();
  assert.match(vec, /\[5\.0, 8\.0\]/);
  assert.equal((up.outputs.helloUrls.value as string[]).length, 2);
  await stack.destroy();
});
