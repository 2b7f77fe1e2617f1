import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import type { z } from "zod";
import { issuePath, showValue } from "../common/check";
import { UserError } from "../common/errors";
import { nonStringKeys, pyyamlTags } from "./pyyaml-scalars";
import { CONFIG_FIELDS, type TesseractConfig, tesseractConfigSchema } from "./schema";

/** One thing wrong with a Tesseract's sources, phrased to be read as is (file, field, fix). */
export class TesseractSourceError extends UserError {
  constructor(
    /** Which input the problem belongs to (`srcDir` or `configOverride`); also its `property`. */
    readonly input: "srcDir" | "configOverride",
    readonly problems: string[],
  ) {
    super(problems.join("\n"), { property: input });
    this.name = "TesseractSourceError";
  }
}

export const CONFIG_FILE = "tesseract_config.yaml";
export const API_FILE = "tesseract_api.py";

/** The folder must exist and hold both files; returns problems (empty when fine). */
export function checkSourceFolder(srcDir: string): string[] {
  if (!existsSync(srcDir))
    return [
      `srcDir ${JSON.stringify(srcDir)} does not exist (fix: point srcDir at the folder holding ${API_FILE} and ${CONFIG_FILE})`,
    ];
  if (!statSync(srcDir).isDirectory())
    return [
      `srcDir ${JSON.stringify(srcDir)} is not a folder (fix: point srcDir at the folder holding ${API_FILE}, not at a file)`,
    ];
  const problems: string[] = [];
  for (const f of [API_FILE, CONFIG_FILE]) {
    if (!existsSync(path.join(srcDir, f)))
      problems.push(
        `${path.join(srcDir, f)}: file not found (fix: a Tesseract folder needs ${API_FILE} and ${CONFIG_FILE}; \`tesseract init\` writes both)`,
      );
  }
  return problems;
}

function zodProblems(err: z.ZodError, input: unknown, where: string): string[] {
  return err.issues.map((issue) => {
    const field = issuePath(issue.path) || "(top level)";
    let value: unknown = input;
    for (const p of issue.path)
      value = value && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[p as string] : undefined;
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      const parent = issue.path.length ? CONFIG_FIELDS[issuePath(issue.path)] : CONFIG_FIELDS[""];
      message = `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${parent ? ` (fix: remove or rename; allowed here: ${parent.join(", ")})` : ""}`;
      value = undefined;
    } else if (issue.code === "invalid_type" && value === undefined) {
      message = "is required";
    }
    const shown = value === undefined || typeof value === "object" ? "" : ` (got ${showValue(value)})`;
    return `${where}: field ${field}: ${message}${shown}`;
  });
}

/** Parses YAML the way PyYAML's safe_load does (YAML 1.1: yes/no are booleans, 010 is octal...). */
export function parseConfigYaml(text: string, file: string): unknown {
  const doc = YAML.parseDocument(text, {
    version: "1.1",
    uniqueKeys: false,
    prettyErrors: true,
    customTags: pyyamlTags as never,
  });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new TesseractSourceError("srcDir", [
      `${file}: invalid YAML${where}: ${e.message.split("\n")[0]} (fix: correct the YAML syntax)`,
    ]);
  }
  const badKeys = nonStringKeys(doc);
  if (badKeys.length)
    throw new TesseractSourceError(
      "srcDir",
      badKeys.map((k) => `${file}: ${k}`),
    );
  return doc.toJS({ maxAliasCount: 1000 });
}

/** Validates a config object (already parsed from YAML). */
export function validateConfig(
  raw: unknown,
  where: string,
  input: "srcDir" | "configOverride" = "srcDir",
): TesseractConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new TesseractSourceError(input, [`${where} must contain a YAML mapping (e.g. \`name: mytesseract\`)`]);
  }
  const res = tesseractConfigSchema.safeParse(raw);
  if (!res.success) throw new TesseractSourceError(input, zodProblems(res.error, raw, where));
  return res.data;
}

/** Reads and validates `tesseract_config.yaml` of a Tesseract folder. */
export function readTesseractConfig(srcDir: string): TesseractConfig {
  const file = path.join(srcDir, CONFIG_FILE);
  const raw = parseConfigYaml(readFileSync(file, "utf8"), file);
  return validateConfig(raw, file);
}

/**
 * Applies `configOverride` (dotted key path → value) like `tesseract build --config-override`:
 * every segment must be a known field (the error lists the valid ones); a string value is first
 * read as YAML (so lists, numbers and booleans work) and, if that does not validate, taken as is;
 * the whole config is validated again after each assignment.
 */
export function applyConfigOverrides(
  config: TesseractConfig,
  overrides: Record<string, unknown> | undefined,
): TesseractConfig {
  if (!overrides) return config;
  let current: TesseractConfig = config;
  for (const [keypath, value] of Object.entries(overrides).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const segments = keypath.split(".");
    for (let depth = 0; depth < segments.length; depth++) {
      const reached = segments.slice(0, depth).join(".");
      const fields = CONFIG_FIELDS[reached];
      if (!fields?.includes(segments[depth])) {
        throw new TesseractSourceError("configOverride", [
          `configOverride ${JSON.stringify(keypath)}: ${JSON.stringify(segments.slice(0, depth + 1).join("."))} is not a known config option. ` +
            `Valid options under ${reached || "(top level)"}: ${fields ? [...fields].sort().join(", ") : "(none)"}.`,
        ]);
      }
    }
    const candidates: unknown[] = [];
    if (typeof value === "string") {
      try {
        candidates.push(YAML.parse(value, { version: "1.1" }));
      } catch {
        // not YAML: only the raw string is a candidate
      }
    }
    candidates.push(value);
    let firstError: TesseractSourceError | undefined;
    let applied: TesseractConfig | undefined;
    for (const candidate of candidates) {
      const next = structuredClone(current) as Record<string, unknown>;
      let obj = next;
      for (const seg of segments.slice(0, -1)) obj = obj[seg] as Record<string, unknown>;
      obj[segments[segments.length - 1]] = candidate;
      try {
        applied = validateConfig(next, `configOverride ${JSON.stringify(keypath)}`, "configOverride");
        break;
      } catch (err) {
        firstError ??= err as TesseractSourceError;
      }
    }
    if (!applied) throw firstError!;
    current = applied;
  }
  return current;
}
