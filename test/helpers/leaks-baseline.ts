/**
 * Writes the objects with this package's label that are on the shared engine now (a JSON array of
 * IDs and names) to the file given: scripts/test.sh runs it before the first test, and the final
 * leak check (test/final/shared-leaks.test.ts, PT_LEAKS_BASELINE) leaves them out.
 *
 * Usage: node --import tsx test/helpers/leaks-baseline.ts <file>
 */
import { writeFileSync } from "node:fs";
import { DockerClient } from "../../provider/docker";
import { managedObjects } from "./leaks";

async function main(file: string | undefined): Promise<void> {
  if (!file) throw new Error("usage: leaks-baseline.ts <file>");
  const client = new DockerClient();
  try {
    const ids = await managedObjects(client);
    writeFileSync(file, JSON.stringify(ids));
    console.log(`leak baseline: ${ids.length} object(s) of this package were on the engine before the run`);
  } finally {
    await client.close();
  }
}

main(process.argv[2]).catch((err) => {
  console.error(`leaks-baseline: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
