/**
 * Differential checks: the same documents through our zod schemas and through upstream's own models
 * (tesseract-core's pydantic `TesseractConfig`, fractal-server's `TaskCollectPip` /
 * `TaskCollectCustom` / `ManifestV2`), all upstream checks in one Python process per batch.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { parseConfigYaml, TesseractSourceError, validateConfig } from "../../../provider/tesseract-config";

/** Upstream's verdict on one document. */
export interface Verdict {
  ok: boolean;
  error: string;
}

/** Runs `upstream_validate.py` once on a whole batch. */
export function upstreamVerdicts(python: string, kind: "config" | "fractal", docs: unknown[]): Verdict[] {
  const out = execFileSync(python, [path.join(__dirname, "upstream_validate.py")], {
    input: JSON.stringify({ kind, docs }),
    maxBuffer: 512 << 20,
    timeout: 600_000,
  });
  return JSON.parse(out.toString()) as Verdict[];
}

/** Our verdict on a `tesseract_config.yaml` text (parse + validate, as a build reads it). */
export function ourConfigVerdict(text: string): Verdict {
  try {
    validateConfig(parseConfigYaml(text, "tesseract_config.yaml"), "tesseract_config.yaml");
    return { ok: true, error: "" };
  } catch (err) {
    if (err instanceof TesseractSourceError) return { ok: false, error: err.problems.join("; ") };
    throw err;
  }
}

/** One disagreement, ready to become a named test. */
export interface Disagreement {
  doc: unknown;
  ours: Verdict;
  upstream: Verdict;
}

/** Documents on which both sides do not accept/reject alike. */
export function disagreements(docs: unknown[], ours: Verdict[], upstream: Verdict[]): Disagreement[] {
  const out: Disagreement[] = [];
  docs.forEach((doc, i) => {
    if (ours[i].ok !== upstream[i].ok) out.push({ doc, ours: ours[i], upstream: upstream[i] });
  });
  return out;
}
