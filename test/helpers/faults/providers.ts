/**
 * The resources' provider objects exactly as the engine gets them: each resource is constructed
 * under Pulumi mocks, the serialized `__provider` text it sends is captured, and that text is
 * loaded with require-from-string (what `@pulumi/pulumi/cmd/dynamic-provider` does per RPC).
 * Mocks are process-global: only use this from a test file that runs no Automation API stack.
 */
import * as pulumi from "@pulumi/pulumi";

type Provider = pulumi.dynamic.ResourceProvider;

const captured = new Map<string, string>();
let mocked = false;
let counter = 0;

function ensureMocks(): void {
  if (mocked) return;
  mocked = true;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const text = args.inputs.__provider;
        if (typeof text === "string") captured.set(args.name, text);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    "pulumi-tesseract-faults",
    "faults",
    true,
  );
}

/**
 * Builds one resource with `make(name)` (valid args, the given name) and returns the deserialized
 * provider that resource sent to the engine.
 */
export async function engineProvider(make: (name: string) => pulumi.Resource): Promise<Provider> {
  ensureMocks();
  counter += 1;
  const name = `probe-${counter}`;
  make(name);
  const deadline = Date.now() + 10_000;
  while (!captured.has(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const text = captured.get(name);
  if (text === undefined) throw new Error(`resource ${name} sent no __provider`);
  const requireFromString = require("require-from-string") as (code: string) => { handler(): Provider };
  return requireFromString(text).handler();
}
