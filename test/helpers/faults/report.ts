/**
 * Counters shared by the fault-tier files. node's test runner runs each file in its own process,
 * all children of one runner process, so the files of one run meet in a folder named after the
 * runner's pid (or PT_FAULTS_DIR). Each file writes its own JSON after every change;
 * `test/final/summary.test.ts`, which scripts/test.sh runs as the last step (with `PT_FAULTS_DIR`
 * set for both), reads them all and prints the table.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const RUN_DIR = process.env.PT_FAULTS_DIR || path.join(tmpdir(), `pulumi-tesseract-faults-${process.ppid}`);

export interface FaultRow {
  fault: string;
  result: "pass" | "fail" | "skip";
  seconds: number;
  detail?: string;
}

export interface FileCounters {
  file: string;
  inputsTried: number;
  inputsRefused: number;
  /** Refused with a message naming the field and the fix. */
  inputsExplained: number;
  faultsInjected: number;
  faultsSurvived: number;
  stacksScanned: number;
  leaksFound: number;
  secretsFound: number;
  faults: FaultRow[];
  notes: string[];
  metrics: Record<string, number | string>;
}

export class Report {
  readonly data: FileCounters;
  private readonly file: string;

  constructor(name: string) {
    mkdirSync(RUN_DIR, { recursive: true });
    this.file = path.join(RUN_DIR, `${name}.json`);
    this.data = {
      file: name,
      inputsTried: 0,
      inputsRefused: 0,
      inputsExplained: 0,
      faultsInjected: 0,
      faultsSurvived: 0,
      stacksScanned: 0,
      leaksFound: 0,
      secretsFound: 0,
      faults: [],
      notes: [],
      metrics: {},
    };
    this.flush();
  }

  add(
    key: "inputsTried" | "inputsRefused" | "inputsExplained" | "stacksScanned" | "leaksFound" | "secretsFound",
    n = 1,
  ): void {
    this.data[key] += n;
    this.flush();
  }

  note(text: string): void {
    this.data.notes.push(text);
    this.flush();
  }

  metric(key: string, value: number | string): void {
    this.data.metrics[key] = value;
    this.flush();
  }

  /** Runs one injected fault; records pass/fail with its duration and error text. */
  async fault<T>(name: string, body: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.data.faultsInjected += 1;
    this.flush();
    try {
      const out = await body();
      this.data.faultsSurvived += 1;
      this.data.faults.push({ fault: name, result: "pass", seconds: (Date.now() - t0) / 1000 });
      return out;
    } catch (err) {
      const detail = (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 6).join(" | ");
      this.data.faults.push({ fault: name, result: "fail", seconds: (Date.now() - t0) / 1000, detail });
      throw err;
    } finally {
      this.flush();
    }
  }

  skip(name: string, why: string): void {
    this.data.faults.push({ fault: name, result: "skip", seconds: 0, detail: why });
    this.flush();
  }

  flush(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.data, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}

export function readAll(): FileCounters[] {
  let names: string[] = [];
  try {
    names = readdirSync(RUN_DIR).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  return names.sort().map((f) => JSON.parse(readFileSync(path.join(RUN_DIR, f), "utf8")) as FileCounters);
}

/**
 * Secrets in plain text: every needle (length >= 4) found in `haystack`, reported by a short
 * fingerprint so that the report itself never repeats a secret.
 */
export function findSecrets(haystack: string, needles: readonly (string | undefined)[]): string[] {
  const found: string[] = [];
  for (const n of needles) {
    if (typeof n !== "string" || n.length < 4) continue;
    if (haystack.includes(n)) found.push(`${n.slice(0, 2)}…(${n.length} chars)`);
  }
  return found;
}

/** Where a secret occurs: up to `max` snippets of context with the secret itself masked. */
export function secretContexts(haystack: string, needle: string, max = 3, width = 120): string[] {
  const out: string[] = [];
  let i = haystack.indexOf(needle);
  while (i >= 0 && out.length < max) {
    const from = Math.max(0, i - width);
    out.push(
      haystack
        .slice(from, i + needle.length + width)
        .split(needle)
        .join("[SECRET]")
        .replace(/\s+/g, " "),
    );
    i = haystack.indexOf(needle, i + needle.length);
  }
  return out;
}

/**
 * While `body` runs (plus `graceMs`), unhandled rejections saying "Resource monitor is terminating"
 * are recorded instead of failing the file: after a SIGINT, the cancelled update's pending
 * registrations in the inline program (this process) reject inside @pulumi/pulumi, which nobody
 * can handle. Every other unhandled rejection goes to the runner's listeners as before.
 */
export async function toleratingMonitorTermination<T>(
  report: Report,
  body: () => Promise<T>,
  graceMs = 3000,
): Promise<T> {
  const saved = process.listeners("unhandledRejection");
  const filter = (reason: unknown, promise: Promise<unknown>) => {
    if (String((reason as Error)?.message ?? reason).includes("Resource monitor is terminating")) {
      report.note(`ignored after SIGINT: ${String((reason as Error)?.message ?? reason).slice(0, 200)}`);
      return;
    }
    for (const l of saved) (l as (r: unknown, p: Promise<unknown>) => void)(reason, promise);
  };
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", filter);
  try {
    return await body();
  } finally {
    await new Promise((r) => setTimeout(r, graceMs));
    process.removeListener("unhandledRejection", filter);
    for (const l of saved) process.on("unhandledRejection", l as (...a: unknown[]) => void);
  }
}
