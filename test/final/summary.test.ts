/**
 * The last step of the faults tier (and of `npm test`), run explicitly by scripts/test.sh after
 * every tier file: aggregates the counters the fault files
 * wrote (see report.ts), prints the summary table (and the hostile tier's rows grouped by class,
 * see hostile.ts), and fails when anything leaked, a secret was found in plain text, or a bad or
 * hostile input was accepted. In the full run (`PT_FULL_RUN=1`, scripts/test.sh all) it also
 * writes the tables into docs/reliability.md between the `summary:begin`/`summary:end` markers.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { printable } from "../../provider/client/errors";
import { hostileClasses, isHostile } from "../helpers/faults/hostile";
import { type FileCounters, RUN_DIR, readAll } from "../helpers/faults/report";

const DOC = path.resolve(__dirname, "../../docs/reliability.md");
const BEGIN = "<!-- summary:begin -->";
const END = "<!-- summary:end -->";

/** Test count, failures and minutes of the run, from the TAP copies (run-*.tap) scripts/test.sh writes. */
function runTotals(): string {
  let tests = 0;
  let fail = 0;
  let found = false;
  for (const f of existsSync(RUN_DIR) ? readdirSync(RUN_DIR).filter((n) => /^run.*\.tap$/.test(n)) : []) {
    const text = readFileSync(path.join(RUN_DIR, f), "utf8");
    const last = (key: string) => Number([...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, "gm"))].pop()?.[1] ?? 0);
    tests += last("tests");
    fail += last("fail");
    found = true;
  }
  const started = Number(process.env.PT_RUN_STARTED);
  const minutes = Number.isFinite(started) && started > 0 ? ((Date.now() / 1000 - started) / 60).toFixed(1) : "?";
  return `${found ? tests : "?"} tests, ${found ? fail : "?"} failures, ${minutes} min on ${cpus().length} cores`;
}

/** Replaces the marked block of docs/reliability.md with the run's tables. */
function writeDoc(lines: string[]): void {
  const doc = readFileSync(DOC, "utf8");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  assert.ok(a >= 0 && b > a, `${DOC} has no ${BEGIN} … ${END} block`);
  const date = new Date().toISOString().slice(0, 10);
  const block = [
    BEGIN,
    `Written by test/final/summary.test.ts at the end of \`npm test\` (${date}): ${runTotals()}. The faults tier's summary:`,
    "",
    ...lines,
    END,
  ].join("\n");
  writeFileSync(DOC, `${doc.slice(0, a)}${block}${doc.slice(b + END.length)}`);
}

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
        ...faults.map((x) => [
          x.fault,
          x.result,
          x.seconds.toFixed(1),
          printable((x.detail ?? "").slice(0, 160)).replace(/\|/g, "\\|"),
        ]),
      ]),
    );
  }
  const hostile = hostileClasses(faults);
  if (hostile.length) {
    lines.push("");
    lines.push(
      ...table([
        ["hostile class", "tried", "refused", "explained", "leaked", "accepted"],
        ...hostile.map((c) => [c.name, ...[c.tried, c.refused, c.explained, c.leaked, c.accepted].map(String)]),
      ]),
    );
  }
  const metrics = files.flatMap((f) => Object.entries(f.metrics).map(([k, v]) => `${f.file}.${k} = ${v}`));
  if (metrics.length) lines.push("", ...metrics);
  const notes = files.flatMap((f) => f.notes.map((n) => `${f.file}: ${n}`));
  if (notes.length) lines.push("", ...notes);
  const text = lines.join("\n");
  writeFileSync(path.join(RUN_DIR, "summary.md"), `${text}\n`);
  if (process.env.PT_FULL_RUN === "1" && files.length) {
    // Tables as markdown, metrics and notes as a code block.
    const tables = lines.slice(1).filter((l) => l.startsWith("|") || l === "");
    const rest = lines.slice(1).filter((l) => !l.startsWith("|") && l !== "");
    const body = tables
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim()
      .split("\n");
    writeDoc([...body, ...(rest.length ? ["", "```", ...rest, "```"] : [])]);
  }
  for (const l of lines) t.diagnostic(l);
  process.stderr.write(`\n${text}\n`);
  if (!files.length) {
    t.diagnostic("no counters found: run the whole tier (bash scripts/test.sh faults)");
    return;
  }
  assert.equal(totals.leaksFound, 0, "leaks found (see table)");
  assert.equal(totals.secretsFound, 0, "secrets found in plain text (see table)");
  // Bad-input files: every input refused, naming the field and the fix. The hostile files are
  // judged per case instead (below): a hostile peer's answer may be handled rather than refused,
  // and a FIFO in a build context is skipped, not explained.
  const plain = files.filter((f) => !f.file.startsWith("hostile-"));
  const plainSum = (k: "inputsTried" | "inputsRefused" | "inputsExplained") => plain.reduce((n, f) => n + f[k], 0);
  assert.equal(plainSum("inputsRefused"), plainSum("inputsTried"), "some bad inputs were accepted");
  assert.equal(
    plainSum("inputsExplained"),
    plainSum("inputsRefused"),
    "some refusals do not name the field and the fix",
  );
  const bad = hostile.flatMap((c) => c.bad);
  assert.deepEqual(bad, [], "hostile cases leaked or were accepted (see the hostile table)");
  assert.equal(faults.filter(isHostile).filter((x) => x.result === "fail").length, 0, "hostile rows failed");
});

/** One failed test of the run: its name, where, and the first lines of its error. */
interface Failure {
  name: string;
  lines: string[];
}

/**
 * The failed tests of the run's TAP copies (run-*.tap), leaf tests only (a suite failing because
 * its subtests did is not news), each with its error and the first frames of its stack.
 */
function failures(): Failure[] {
  const found: Failure[] = [];
  for (const f of existsSync(RUN_DIR) ? readdirSync(RUN_DIR).filter((n) => /^run.*\.tap$/.test(n)) : []) {
    const tap = readFileSync(path.join(RUN_DIR, f), "utf8").split("\n");
    for (let i = 0; i < tap.length; i++) {
      const m = /^(\s*)not ok \d+ - (.*)$/.exec(tap[i]);
      if (!m || tap[i + 1]?.trim() !== "---") continue;
      const block: string[] = [];
      for (let j = i + 2; j < tap.length && tap[j].trim() !== "..."; j++) block.push(tap[j].slice(m[1].length + 2));
      if (block.some((l) => /^failureType: 'subtestsFailed'/.test(l))) continue;
      const keep = block.filter(
        (l) =>
          !/^(duration_ms|type|code|name|expected|actual|operator|stack):/.test(l) &&
          !/\((node:|[^)]*node_modules)/.test(l),
      );
      found.push({ name: m[2], lines: keep.slice(0, 24) });
    }
  }
  return found;
}

// Last, so that the end of the output (all a CI log may keep) says what failed and why.
test("failed tests of this run, with their errors", (t) => {
  const list = failures();
  t.diagnostic(`failed tests of this run: ${list.length}`);
  for (const f of list.slice(0, 20)) {
    t.diagnostic(`✖ ${f.name}`);
    for (const l of f.lines) t.diagnostic(`    ${l.slice(0, 400)}`);
  }
});
