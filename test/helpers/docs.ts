/**
 * Commands shown in the documentation, taken from the documents themselves (never a copy), so a
 * test that runs them fails when the docs drift from what works.
 */
import { readFileSync } from "node:fs";

/**
 * The first fenced `sh`/`bash` block under the heading whose text is `heading` (any level), before
 * the next heading of the same or a higher level.
 */
export function shellBlock(markdownFile: string, heading: string): string {
  const lines = readFileSync(markdownFile, "utf8").split("\n");
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, "").trim() === heading);
  if (start < 0) throw new Error(`${markdownFile}: no heading "${heading}"`);
  const level = lines[start].indexOf(" ");
  for (let i = start + 1; i < lines.length; i++) {
    const h = /^(#+) /.exec(lines[i]);
    if (h && h[1].length <= level) break;
    if (/^```(sh|bash)\s*$/.test(lines[i])) {
      const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
      if (end < 0) throw new Error(`${markdownFile}: unterminated block under "${heading}"`);
      return lines.slice(i + 1, end).join("\n");
    }
  }
  throw new Error(`${markdownFile}: no sh/bash block under "${heading}"`);
}

/** `block` with `extra` inserted before the first line that starts with `before` (after trimming). */
export function insertBefore(block: string, before: string, extra: string): string {
  const lines = block.split("\n");
  const i = lines.findIndex((l) => l.trim().startsWith(before));
  if (i < 0) throw new Error(`no line starting with "${before}" in:\n${block}`);
  lines.splice(i, 0, extra);
  return lines.join("\n");
}
