import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type ConfigMap,
  LocalWorkspace,
  type LocalWorkspaceOptions,
  type PulumiFn,
  type Stack,
} from "@pulumi/pulumi/automation";

/** The repository root: the dynamic-provider plugin resolves modules from the project's `main`. */
export const REPO_ROOT = path.resolve(__dirname, "../..");

const workspaces: string[] = [];
process.on("exit", () => {
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

/**
 * Workspace options for an inline program: a temporary folder, so tests never write
 * Pulumi.<stack>.yaml files into the repository, and a project whose `main` is the repository, so
 * the dynamic-provider plugin resolves `pulumi-tesseract` there. Stack config keys without a
 * namespace belong to `projectName`.
 */
export function testWorkspace(projectName = "pulumi-tesseract-tests"): LocalWorkspaceOptions {
  const workDir = mkdtempSync(path.join(tmpdir(), "pt-stack-"));
  workspaces.push(workDir);
  return {
    workDir,
    projectSettings: { name: projectName, runtime: "nodejs", main: REPO_ROOT },
    envVars: { PULUMI_SKIP_UPDATE_CHECK: "true" },
  };
}

/** A test stack run by the real Pulumi engine on the file backend (see scripts/env.sh). */
export interface TestStack {
  stack: Stack;
  /** Pulumi's output of the last operations, for assertions on progress lines. */
  output: string[];
  /** Destroys the stack (best effort), removes it and its temporary workspace. */
  dispose(): Promise<void>;
}

/**
 * Creates a stack for an inline program. The workspace lives in a temporary folder so tests never
 * write Pulumi.<stack>.yaml files into the repository; `main` points at the repository so the
 * dynamic-provider plugin runs there.
 */
export async function createTestStack(name: string, program: PulumiFn, config: ConfigMap = {}): Promise<TestStack> {
  const options = testWorkspace();
  const workDir = options.workDir as string;
  const stackName = `${name}-${process.pid}-${Date.now().toString(36)}`.replace(/[^A-Za-z0-9_.-]/g, "-");
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName: "pulumi-tesseract-tests", program },
    options,
  );
  if (Object.keys(config).length) await stack.setAllConfig(config);
  const output: string[] = [];
  return {
    stack,
    output,
    async dispose() {
      try {
        await stack.destroy({ onOutput: (s) => output.push(s) });
      } catch (err) {
        output.push(`destroy failed: ${err}`);
      }
      await stack.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
