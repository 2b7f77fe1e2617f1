import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Prefixes that make a requirement a local path, as upstream decides it. */
const LOCAL_PREFIXES = [".", "/", "file://"];

export interface ParsedRequirements {
  /** Lines kept as they are: remote requirements and pip options (`--index-url`, ...). */
  remote: string[];
  /** Local path requirements: the path as written and the extras suffix (`[extra]` or ""). */
  local: { spec: string; path: string; extras: string; from: string }[];
}

/** Logical lines of a pip requirements file: continuations joined, comments and blanks dropped. */
export function logicalLines(text: string): string[] {
  const out: string[] = [];
  let pending = "";
  for (const physical of text.split(/\r?\n/)) {
    if (physical.endsWith("\\")) {
      pending += physical.slice(0, -1);
      continue;
    }
    const full = pending + physical;
    pending = "";
    const stripped = full.replace(/(^|\s+)#.*$/, "").trim();
    if (stripped) out.push(stripped);
  }
  if (pending.replace(/(^|\s+)#.*$/, "").trim()) out.push(pending.trim());
  return out;
}

/**
 * Splits a requirements file into remote lines and local path dependencies like upstream's
 * `parse_requirements`: nested `-r`/`-c` files are followed (their lines inlined), `-e ./path`
 * counts as local, everything else that starts with `-` is an option and kept.
 */
export function parseRequirementsFile(file: string, seen = new Set<string>()): ParsedRequirements {
  const resolved = path.resolve(file);
  if (seen.has(resolved)) return { remote: [], local: [] };
  seen.add(resolved);
  const result: ParsedRequirements = { remote: [], local: [] };
  for (const line of logicalLines(readFileSync(resolved, "utf8"))) {
    const nested = /^(?:-r|--requirement|-c|--constraint)(?:\s*=?\s*)(\S+)$/.exec(line);
    if (nested) {
      const target = path.resolve(path.dirname(resolved), nested[1]);
      if (!existsSync(target))
        throw new Error(`${file}: nested requirements file ${nested[1]} not found (resolved to ${target})`);
      const sub = parseRequirementsFile(target, seen);
      result.remote.push(...sub.remote);
      result.local.push(...sub.local);
      continue;
    }
    const editable = /^(?:-e|--editable)(?:\s*=?\s*)(\S.*)$/.exec(line);
    const requirement = editable ? editable[1].trim() : line;
    if (!editable && line.startsWith("-")) {
      result.remote.push(line);
      continue;
    }
    const spec = requirement.split(/\s+--?[a-z]/)[0].trim();
    if (LOCAL_PREFIXES.some((p) => spec.startsWith(p))) {
      const m = /^(.+?)(\[[^\]]*\])?\s*$/.exec(spec)!;
      let p = m[1];
      if (p.startsWith("file://")) p = fileURLToPath(p);
      result.local.push({ spec, path: p, extras: m[2] ?? "", from: path.dirname(resolved) });
    } else result.remote.push(line);
  }
  return result;
}
