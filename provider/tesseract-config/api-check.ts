import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { API_FILE } from "./load";

/** Optional endpoints and the exact argument names upstream requires. */
export const ENDPOINT_SIGNATURES: Record<string, readonly string[]> = {
  apply: ["inputs"],
  jacobian: ["inputs", "jac_inputs", "jac_outputs"],
  jacobian_vector_product: ["inputs", "jvp_inputs", "jvp_outputs", "tangent_vector"],
  vector_jacobian_product: ["inputs", "vjp_inputs", "vjp_outputs", "cotangent_vector"],
  abstract_eval: ["abstract_inputs"],
};

export const ENDPOINTS = Object.keys(ENDPOINT_SIGNATURES);

const ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"];

/** A top-level definition of the module, as Python's `ast` sees it. */
export interface TopLevelDef {
  kind: "function" | "async_function" | "class" | "other";
  args?: string[];
  posonly?: number;
  kwonly?: number;
  bases?: number;
  line: number;
}

export interface ApiOutline {
  defs: Record<string, TopLevelDef>;
  syntaxError?: { message: string; line?: number; column?: number; text?: string };
  /** `python3-ast` when the host's python3 parsed it, `ts-scanner` otherwise. */
  parser: "python3-ast" | "ts-scanner";
}

/** Script run with the host's python3: prints the top-level outline of a module as JSON. */
const OUTLINE_PY = `
import ast, json, sys
src = sys.stdin.buffer.read()
try:
    tree = ast.parse(src)
except SyntaxError as e:
    print(json.dumps({"syntaxError": {"message": e.msg, "line": e.lineno, "column": e.offset, "text": (e.text or "").rstrip()}}))
    sys.exit(0)
defs = {}
for node in tree.body:
    if not hasattr(node, "name"):
        continue
    d = {"line": node.lineno}
    if isinstance(node, ast.FunctionDef):
        d["kind"] = "function"
    elif isinstance(node, ast.AsyncFunctionDef):
        d["kind"] = "async_function"
    elif isinstance(node, ast.ClassDef):
        d["kind"] = "class"; d["bases"] = len(node.bases)
    else:
        d["kind"] = "other"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        d["args"] = [a.arg for a in node.args.args]
        d["posonly"] = len(node.args.posonlyargs)
        d["kwonly"] = len(node.args.kwonlyargs)
    defs[node.name] = d
print(json.dumps({"defs": defs}))
`;

let pythonAvailable: boolean | undefined;

function outlineWithPython(source: Buffer): ApiOutline | undefined {
  if (pythonAvailable === false || process.env.PULUMI_TESSERACT_NO_PYTHON === "1") return undefined;
  try {
    const out = execFileSync("python3", ["-c", OUTLINE_PY], { input: source, timeout: 20_000, maxBuffer: 8 << 20 });
    pythonAvailable = true;
    return {
      ...(JSON.parse(out.toString("utf8")) as Omit<ApiOutline, "parser">),
      parser: "python3-ast",
      defs: JSON.parse(out.toString("utf8")).defs ?? {},
    };
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") pythonAvailable = false;
    return undefined;
  }
}

/**
 * Fallback without python3: a careful scanner of top-level `def`/`async def`/`class` statements
 * (column 0, outside strings and brackets). It reads argument lists with nesting, defaults and
 * annotations, and reports unbalanced brackets or unterminated strings as syntax errors; it does
 * not find every Python syntax error the way `ast.parse` does.
 */
export function outlineWithScanner(source: string): ApiOutline {
  const defs: Record<string, TopLevelDef> = {};
  const n = source.length;
  let i = 0;
  let line = 1;
  let depth = 0;
  let atLineStart = true;
  const stack: { ch: string; line: number }[] = [];
  const closing: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const syntaxError = (message: string, at: number) => ({
    defs,
    parser: "ts-scanner" as const,
    syntaxError: { message, line: at },
  });
  while (i < n) {
    const c = source[i];
    if (atLineStart && depth === 0) {
      atLineStart = false;
      const rest = source.slice(i, i + 400);
      const m = /^(async[ \t]+def|def|class)[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(\(|:)?/.exec(rest);
      if (m) {
        const kind = m[1] === "class" ? "class" : m[1] === "def" ? "function" : "async_function";
        const def: TopLevelDef = { kind, line };
        if (m[3] === "(") {
          const open = i + m[0].length - 1;
          const parsed = readParens(source, open);
          if (!parsed) return syntaxError(`'(' was never closed`, line);
          if (kind === "class")
            def.bases = splitTopLevel(parsed.inner).filter((s) => s.trim() && !/^\s*\w+\s*=/.test(s)).length;
          else Object.assign(def, parseArgs(parsed.inner));
        } else if (kind !== "class") {
          return syntaxError("invalid syntax: expected '(' after the function name", line);
        } else def.bases = 0;
        defs[m[2]] = def;
      }
    }
    if (c === "#") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = skipString(source, i);
      if (end < 0) return syntaxError("unterminated string literal", line);
      for (let k = i; k < end; k++) if (source[k] === "\n") line++;
      i = end;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") {
      stack.push({ ch: c, line });
      depth++;
    } else if (c === ")" || c === "]" || c === "}") {
      const top = stack.pop();
      if (!top || top.ch !== closing[c]) return syntaxError(`unmatched '${c}'`, line);
      depth--;
    } else if (c === "\n") {
      line++;
      if (depth === 0 && source[i - 1] !== "\\") atLineStart = true;
    }
    i++;
  }
  if (stack.length)
    return syntaxError(`'${stack[stack.length - 1].ch}' was never closed`, stack[stack.length - 1].line);
  return { defs, parser: "ts-scanner" };
}

/** Index just after the string literal starting at `start` (handles prefixes' quotes, triple quotes, escapes). */
function skipString(s: string, start: number): number {
  const q = s[start];
  const triple = s.startsWith(q.repeat(3), start);
  let i = start + (triple ? 3 : 1);
  while (i < s.length) {
    if (s[i] === "\\") {
      i += 2;
      continue;
    }
    if (triple) {
      if (s.startsWith(q.repeat(3), i)) return i + 3;
    } else {
      if (s[i] === q) return i + 1;
      if (s[i] === "\n") return -1;
    }
    i++;
  }
  return -1;
}

function readParens(s: string, open: number): { inner: string; end: number } | undefined {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      const end = skipString(s, i);
      if (end < 0) return undefined;
      i = end - 1;
      continue;
    }
    if (c === "#") {
      while (i < s.length && s[i] !== "\n") i++;
      continue;
    }
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) {
      depth--;
      if (depth === 0) return { inner: s.slice(open + 1, i), end: i + 1 };
    }
  }
  return undefined;
}

function splitTopLevel(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"' || c === "'") {
      const end = skipString(inner, i);
      const stop = end < 0 ? inner.length : end;
      cur += inner.slice(i, stop);
      i = stop - 1;
      continue;
    }
    if (c === "#") {
      while (i < inner.length && inner[i] !== "\n") i++;
      continue;
    }
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    if (c === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts;
}

function parseArgs(inner: string): Pick<TopLevelDef, "args" | "posonly" | "kwonly"> {
  const args: string[] = [];
  let posonly = 0;
  let kwonly = 0;
  let afterStar = false;
  for (const raw of splitTopLevel(inner)) {
    const p = raw.trim();
    if (!p) continue;
    if (p === "/") {
      posonly = args.length;
      continue;
    }
    if (p === "*") {
      afterStar = true;
      continue;
    }
    if (p.startsWith("**")) continue;
    if (p.startsWith("*")) {
      afterStar = true;
      continue;
    }
    const name = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(p)?.[1] ?? p;
    if (afterStar) kwonly++;
    else args.push(name);
  }
  if (posonly) args.splice(0, posonly);
  return { args, posonly, kwonly };
}

/** The top-level outline of `tesseract_api.py`: host python3's `ast` if available, else the scanner. */
export function outlineApi(source: Buffer): ApiOutline {
  return outlineWithPython(source) ?? outlineWithScanner(source.toString("utf8"));
}

export interface ApiCheckResult {
  problems: string[];
  endpoints: string[];
  parser: ApiOutline["parser"];
}

/**
 * Upstream's `validate_tesseract_api` rules: `apply(inputs)`, `class InputSchema(...)` and
 * `class OutputSchema(...)` with a base class are required; the optional endpoints must use the
 * exact argument names; keyword-only and positional-only arguments are rejected; a syntax error
 * is reported with its line.
 */
export function checkTesseractApi(srcDir: string): ApiCheckResult {
  const file = path.join(srcDir, API_FILE);
  const outline = outlineApi(readFileSync(file));
  const problems: string[] = [];
  if (outline.syntaxError) {
    const e = outline.syntaxError;
    problems.push(
      `${file}: syntax error${e.line ? ` at line ${e.line}${e.column ? `, column ${e.column}` : ""}` : ""}: ${e.message}` +
        `${e.text ? ` (${e.text.trim()})` : ""} (fix: correct the Python syntax; \`python3 -m py_compile ${API_FILE}\` shows it too)`,
    );
    return { problems, endpoints: [], parser: outline.parser };
  }
  const endpoints: string[] = [];
  const expected: [string, "function" | "class", boolean][] = [
    ["apply", "function", false],
    ["InputSchema", "class", false],
    ["OutputSchema", "class", false],
    ["jacobian", "function", true],
    ["jacobian_vector_product", "function", true],
    ["vector_jacobian_product", "function", true],
    ["abstract_eval", "function", true],
  ];
  for (const [name, kind, optional] of expected) {
    const def = outline.defs[name];
    if (!def) {
      if (!optional) {
        problems.push(
          kind === "class"
            ? `${file}: ${name} not defined (fix: add a top-level \`class ${name}(BaseModel): ...\`)`
            : `${file}: ${name} not defined (fix: add a top-level \`def apply(inputs: InputSchema) -> OutputSchema: ...\`)`,
        );
      }
      continue;
    }
    if (kind === "class") {
      if (def.kind !== "class")
        problems.push(`${file}: ${name} (line ${def.line}) is not a class (fix: define \`class ${name}(BaseModel)\`)`);
      else if (!def.bases)
        problems.push(
          `${file}: ${name} (line ${def.line}) must inherit from pydantic.BaseModel (fix: \`class ${name}(BaseModel):\`)`,
        );
      continue;
    }
    const wanted = ENDPOINT_SIGNATURES[name];
    if (def.kind !== "function") {
      problems.push(
        `${file}: ${name} (line ${def.line}) is not a FunctionDef${def.kind === "async_function" ? " (async def is not supported)" : ""} (fix: \`def ${name}(${wanted.join(", ")}):\`)`,
      );
      continue;
    }
    if (def.kwonly) {
      problems.push(
        `${file}: function ${name} (line ${def.line}) must not have keyword-only arguments (fix: \`def ${name}(${wanted.join(", ")}):\`)`,
      );
      continue;
    }
    if (def.posonly) {
      problems.push(
        `${file}: function ${name} (line ${def.line}) must not have positional-only arguments (fix: \`def ${name}(${wanted.join(", ")}):\`)`,
      );
      continue;
    }
    const args = def.args ?? [];
    if (args.length !== wanted.length) {
      problems.push(
        `${file}: ${name} (line ${def.line}) must have ${wanted.length} argument(s): ${wanted.join(", ")}; it has ${args.length}: ${args.join(", ") || "(none)"} ` +
          `(fix: \`def ${name}(${wanted.join(", ")}):\`)`,
      );
      continue;
    }
    const wrong = wanted
      .map((w, k) => (args[k] !== w ? `the ${ORDINALS[k]} argument of ${name} must be named ${w}, not ${args[k]}` : ""))
      .filter(Boolean);
    if (wrong.length) {
      problems.push(
        `${file}: ${name} (line ${def.line}): ${wrong.join("; ")} (fix: \`def ${name}(${wanted.join(", ")}):\`)`,
      );
      continue;
    }
    endpoints.push(name);
  }
  return { problems, endpoints, parser: outline.parser };
}
