/**
 * The last step of the faults tier (and of `npm test`), run explicitly by scripts/test.sh after
 * every tier file: aggregates the counters the fault files
 * wrote (see report.ts), prints the summary table, and fails when anything leaked or a secret was
 * found in plain text.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { type FileCounters, RUN_DIR, readAll } from "../helpers/faults/report";

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(rows[0]), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.slice(1).map(line)];
}

test("faults tier summary", (t) => {
  const files = readAll().filter((f) => f.file !== "summary");
  const sum = (k: keyof FileCounters) => files.reduce((n, f) => n + (f[k] as number), 0);
  const totals = {
    inputsTried: sum("inputsTried"),
    inputsRefused: sum("inputsRefused"),
    inputsExplained: sum("inputsExplained"),
    faultsInjected: sum("faultsInjected"),
    faultsSurvived: sum("faultsSurvived"),
    stacksScanned: sum("stacksScanned"),
    leaksFound: sum("leaksFound"),
    secretsFound: sum("secretsFound"),
  };
  const lines: string[] = [];
  lines.push(`faults tier summary (${RUN_DIR})`);
  lines.push(
    ...table([
      [
        "file",
        "inputs tried",
        "refused",
        "explained",
        "faults injected",
        "survived",
        "stacks scanned",
        "leaks",
        "secrets",
      ],
      ...files.map((f) => [
        f.file,
        String(f.inputsTried),
        String(f.inputsRefused),
        String(f.inputsExplained ?? 0),
        String(f.faultsInjected),
        String(f.faultsSurvived),
        String(f.stacksScanned),
        String(f.leaksFound),
        String(f.secretsFound),
      ]),
      [
        "TOTAL",
        String(totals.inputsTried),
        String(totals.inputsRefused),
        String(totals.inputsExplained),
        String(totals.faultsInjected),
        String(totals.faultsSurvived),
        String(totals.stacksScanned),
        String(totals.leaksFound),
        String(totals.secretsFound),
      ],
    ]),
  );
  const faults = files.flatMap((f) => f.faults.map((x) => ({ ...x, file: f.file })));
  if (faults.length) {
    lines.push("");
    lines.push(
      ...table([
        ["fault", "result", "seconds", "detail"],
        ...faults.map((x) => [x.fault, x.result, x.seconds.toFixed(1), (x.detail ?? "").slice(0, 160)]),
      ]),
    );
  }
  const metrics = files.flatMap((f) => Object.entries(f.metrics).map(([k, v]) => `${f.file}.${k} = ${v}`));
  if (metrics.length) lines.push("", ...metrics);
  const notes = files.flatMap((f) => f.notes.map((n) => `${f.file}: ${n}`));
  if (notes.length) lines.push("", ...notes);
  const text = lines.join("\n");
  writeFileSync(path.join(RUN_DIR, "summary.md"), `${text}\n`);
  for (const l of lines) t.diagnostic(l);
  process.stderr.write(`\n${text}\n`);
  if (!files.length) {
    t.diagnostic("no counters found: run the whole tier (bash scripts/test.sh faults)");
    return;
  }
  assert.equal(totals.leaksFound, 0, "leaks found (see table)");
  assert.equal(totals.secretsFound, 0, "secrets found in plain text (see table)");
  assert.equal(totals.inputsRefused, totals.inputsTried, "some bad inputs were accepted");
  assert.equal(totals.inputsExplained, totals.inputsRefused, "some refusals do not name the field and the fix");
});
