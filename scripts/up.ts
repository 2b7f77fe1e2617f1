/**
 * Runs the root stack (Pulumi.yaml + index.ts) with the real Pulumi engine through the Automation
 * API. `pulumi up` needs the pulumi-language-nodejs host, which Pulumi's download site ships and
 * the Go module proxy does not serve; the Automation API hosts the program in this process
 * instead, with the same engine, state and plugins.
 *
 * The project folder defaults to the repository root; `--dir examples/serve` runs an example.
 * The program is the one the Node.js host would run there (scripts/program.ts: Pulumi.yaml `main`,
 * else the nearest package.json's entry); a folder that would run anything but its own `index.ts`
 * is an error, as it would be a wrong `pulumi up` on a user's machine.
 *
 * Usage: tsx scripts/up.ts [up|preview|refresh|destroy] [--stack NAME] [--dir FOLDER] [--refresh]
 */
import path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ownProgram } from "./program";

const args = process.argv.slice(2);
const flag = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const command = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.match(/^--(stack|dir)$/)) ?? "up";
const stackName = flag("--stack") ?? process.env.PULUMI_STACK ?? "dev";
const projectDir = path.resolve(__dirname, "..", flag("--dir") ?? ".");

async function main(): Promise<void> {
  const program = ownProgram(projectDir);
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName,
      projectName: path.basename(projectDir),
      // Loading the module inside the program runs its top-level resource declarations under the
      // engine; its exports are the stack outputs.
      program: async () => {
        delete require.cache[program];
        return { ...(require(program) as Record<string, unknown>) };
      },
    },
    { workDir: projectDir },
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
