/**
 * The larger differential-fuzzing run (`bash scripts/fuzz-schemas.sh [count] [seed]`): generates
 * `count` documents per kind from `seed` (default: a fresh one, printed so a run can be replayed),
 * checks them against upstream's models in one Python process per kind, and prints every
 * disagreement. Exits 1 when there is one: turn each into a named test and fix it.
 */
import { sampleConfigDocs } from "./config-docs";
import { disagreements, ourConfigVerdict, upstreamVerdicts } from "./differential";
import { ourFractalVerdict, sampleFractalDocs } from "./fractal-docs";

const count = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const venv = process.env.PULUMI_TESSERACT_VENV;
const fractalVenv = process.env.PULUMI_TESSERACT_FRACTAL_VENV || venv;
if (!venv) throw new Error("PULUMI_TESSERACT_VENV is not set: source scripts/env.sh first");

let failed = false;
function report(kind: string, docs: unknown[], ours: { ok: boolean; error: string }[], python: string): void {
  const t0 = Date.now();
  const upstream = upstreamVerdicts(python, kind === "config" ? "config" : "fractal", docs);
  const found = disagreements(docs, ours, upstream);
  const accepted = upstream.filter((v) => v.ok).length;
  console.log(
    `${kind}: ${docs.length} documents, seed ${seed}, ${accepted} accepted upstream, ${found.length} disagreement(s) (${Date.now() - t0} ms upstream)`,
  );
  for (const d of found.slice(0, 20)) console.log(JSON.stringify(d, null, 1));
  if (found.length) failed = true;
}

const configDocs = sampleConfigDocs(count, seed);
report("config", configDocs, configDocs.map(ourConfigVerdict), `${venv}/bin/python`);
const fractalDocs = sampleFractalDocs(count, seed);
report("fractal", fractalDocs, fractalDocs.map(ourFractalVerdict), `${fractalVenv}/bin/python`);
process.exit(failed ? 1 : 0);
