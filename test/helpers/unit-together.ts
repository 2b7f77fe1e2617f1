/**
 * The unit tier in one process: loads every test/unit/*.test.ts except those marked
 * `// unit: own process` (they set process-wide Pulumi runtime state: mocks in preview mode, the
 * engine address), which scripts/lib/unit-files.sh runs beside this file. Loading tsx and
 * @pulumi/pulumi once instead of once per file makes the tier several times faster.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const UNIT = join(__dirname, "..", "unit");
const OWN_PROCESS = /^\/\/ unit: own process\b/m;

for (const name of readdirSync(UNIT)
  .filter((n) => n.endsWith(".test.ts"))
  .sort()) {
  const file = join(UNIT, name);
  if (!OWN_PROCESS.test(readFileSync(file, "utf8"))) require(file);
}
