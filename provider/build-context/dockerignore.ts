/**
 * `.dockerignore` semantics (Docker's pattern matcher): one pattern per line, `#` comments, `!`
 * re-includes, `*` and `?` within a path segment, `**` across segments, `[...]` classes, `\`
 * escapes; the last matching pattern wins, and a pattern that matches a folder matches everything
 * below it.
 */

/** What tesseract-core puts into every build context's `.dockerignore`. */
export const UPSTREAM_DOCKERIGNORE = [
  "**/__pycache__",
  "**/.venv",
  "**/.git",
  "**/.vscode",
  "**/.idea",
  "**/*.swp",
  "**/.DS_Store",
];

interface Pattern {
  exclusion: boolean;
  regex: RegExp;
  source: string;
}

function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}

function globToRegex(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        // `**/` matches zero or more folders; a trailing `**` matches anything
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) {
      i++;
      re += pattern[i].replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith("^") || cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`${re}$`);
}

export class DockerIgnore {
  private readonly patterns: Pattern[];
  readonly hasExclusions: boolean;

  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      let exclusion = false;
      if (line.startsWith("!")) {
        exclusion = true;
        line = line.slice(1).trim();
      }
      line = cleanPath(line);
      if (!line) continue;
      this.patterns.push({ exclusion, regex: globToRegex(line), source: raw });
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /** Parses the text of a `.dockerignore` file. */
  static parse(text: string, extra: readonly string[] = []): DockerIgnore {
    return new DockerIgnore([...extra, ...text.split(/\r?\n/)]);
  }

  /** True when the slash-separated relative path is excluded from the context. */
  ignores(relPath: string): boolean {
    const p = cleanPath(relPath);
    const parents: string[] = [];
    const segs = p.split("/");
    for (let k = 1; k < segs.length; k++) parents.push(segs.slice(0, k).join("/"));
    let matched = false;
    for (const pat of this.patterns) {
      // Docker only flips the result for patterns that could change it
      if (pat.exclusion !== matched) continue;
      if (pat.regex.test(p) || parents.some((d) => pat.regex.test(d))) matched = !pat.exclusion;
    }
    return matched;
  }
}
