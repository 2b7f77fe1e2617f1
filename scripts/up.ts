/**
 * Runs the root stack (Pulumi.yaml + index.ts) with the real Pulumi engine through the Automation
 * API. `pulumi up` needs the pulumi-language-nodejs host, which Pulumi's download site ships and
 * the Go module proxy does not serve; the Automation API hosts the program in this process
 * instead, with the same engine, state and plugins.
 *
 * Usage: tsx scripts/up.ts [up|preview|refresh|destroy] [--stack NAME]
 */
import path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith("--")) ?? "up";
const stackFlag = args.indexOf("--stack");
const stackName = stackFlag >= 0 ? args[stackFlag + 1] : (process.env.PULUMI_STACK ?? "dev");

async function main(): Promise<void> {
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName,
      projectName: "pulumi-tesseract",
      program: async () => {
        const program = require(path.join(root, "index.ts")) as () => Promise<Record<string, unknown>>;
        return program();
      },
    },
    { workDir: root },
  );
  const onOutput = (s: string) => process.stdout.write(s);
  switch (command) {
    case "up":
      await stack.up({ onOutput, refresh: args.includes("--refresh") });
      break;
    case "preview":
      await stack.preview({ onOutput, diff: args.includes("--diff") });
      break;
    case "refresh":
      await stack.refresh({ onOutput });
      break;
    case "destroy":
      await stack.destroy({ onOutput });
      break;
    default:
      throw new Error(`unknown command '${command}': use up, preview, refresh or destroy`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
