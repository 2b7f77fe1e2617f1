/** Where every benchmark leaves its numbers: `bench/results/<name>.json`, read by bench/summary.ts. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes `bench/results/<file>` (pretty JSON) and says so. */
export function writeResult(file: string, result: unknown): void {
  mkdirSync(path.join(__dirname, "results"), { recursive: true });
  writeFileSync(path.join(__dirname, "results", file), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote bench/results/${file}`);
}
