/**
 * Primitive validators identical to fractal-server's (`fractal_server/string_tools.py`,
 * `fractal_server/types/validators/_common_validators.py`, `tasks/v2/utils_package_names.py`),
 * written as zod schemas and plain functions. Messages name the rule and the offending part.
 */
import * as path from "node:path";
import { z } from "zod";

/** fractal-server's `__NOT_ALLOWED_FOR_COMMANDS__`: exactly these 18 characters (issue #1647). */
export const FORBIDDEN_COMMAND_CHARS = "`#$&*()\\|[]{};<>?!";

/** Characters of `value` that `validate_cmd` rejects (in order, unique); `allow` removes some. */
export function forbiddenCharsIn(value: string, allow = ""): string[] {
  const found: string[] = [];
  for (const ch of value) {
    if (FORBIDDEN_COMMAND_CHARS.includes(ch) && !allow.includes(ch) && !found.includes(ch)) found.push(ch);
  }
  return found;
}

/** Error text for `validate_cmd`, or undefined when the value is allowed. */
export function validateCmd(value: string, allow = ""): string | undefined {
  const bad = forbiddenCharsIn(value, allow);
  if (bad.length === 0) return undefined;
  const allowed = allow ? ` (${allow.split("").join(" ")} allowed here)` : "";
  return `must not contain any of the characters ${FORBIDDEN_COMMAND_CHARS}${allowed}; found ${bad
    .map((c) => JSON.stringify(c))
    .join(", ")}`;
}

/** `NonEmptyStr`: strip leading/trailing whitespace first, then require at least one character. */
export const nonEmptyStr = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().min(1, "must not be empty (after stripping whitespace)"));

/** `NonEmptyStr` + `validate_cmd` (optionally allowing some of the forbidden characters). */
export function cmdSafeStr(allow = "") {
  return nonEmptyStr.check((ctx) => {
    const err = validateCmd(ctx.value, allow);
    if (err) ctx.issues.push({ code: "custom", message: err, input: ctx.value });
  });
}

/**
 * `AbsolutePathStr`: non-empty, absolute (`os.path.isabs`), no `..` segment, then
 * `os.path.normpath` (trailing and doubled slashes removed).
 */
export const absolutePathStr = nonEmptyStr
  .check((ctx) => {
    const p = ctx.value;
    if (!path.posix.isAbsolute(p)) {
      ctx.issues.push({ code: "custom", message: `must be an absolute path (given '${p}')`, input: p });
    } else if (p.split("/").includes("..")) {
      ctx.issues.push({ code: "custom", message: "must not contain a '..' path segment ('/../')", input: p });
    }
  })
  .transform((p) => normpath(p));

/** Python's `os.path.normpath` for absolute POSIX paths (keeps a leading `//`, as Python does). */
export function normpath(p: string): string {
  const lead = p.startsWith("//") && !p.startsWith("///") ? "//" : p.startsWith("/") ? "/" : "";
  const parts: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else if (seg === ".." && lead) continue;
    else parts.push(seg);
  }
  return lead + parts.join("/") || ".";
}

/**
 * `DictStrStr` (+ pinned-package `validate_cmd`): keys stripped, no empty or duplicate key after
 * stripping, values stripped and non-empty. `keyAllow` lists forbidden characters allowed in keys.
 */
export function dictStrStr(opts: { keyAllow?: string; cmd?: boolean } = {}) {
  return z.record(z.string(), z.string()).transform((d, ctx) => {
    const out: Record<string, string> = {};
    for (const [rawKey, rawValue] of Object.entries(d)) {
      const key = rawKey.trim();
      const value = rawValue.trim();
      if (key === "") {
        ctx.issues.push({
          code: "custom",
          message: `empty key (after stripping) in ${JSON.stringify(Object.keys(d))}`,
          input: d,
          path: [rawKey],
        });
        continue;
      }
      if (key in out) {
        ctx.issues.push({
          code: "custom",
          message: `multiple identical keys after stripping: '${key}'`,
          input: d,
          path: [rawKey],
        });
        continue;
      }
      if (value === "") {
        ctx.issues.push({
          code: "custom",
          message: "value must not be empty (after stripping whitespace)",
          input: d,
          path: [rawKey],
        });
        continue;
      }
      if (opts.cmd) {
        const kErr = validateCmd(key, opts.keyAllow ?? "");
        if (kErr) ctx.issues.push({ code: "custom", message: `key '${key}' ${kErr}`, input: d, path: [rawKey] });
        const vErr = validateCmd(value);
        if (vErr) ctx.issues.push({ code: "custom", message: `value '${value}' ${vErr}`, input: d, path: [rawKey] });
      }
      out[key] = value;
    }
    return out;
  });
}

/** `valdict_keys` for `dict[str, Any]` / `dict[str, bool]`: stripped, non-empty, unique keys. */
export function dictKeys<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).transform((d, ctx) => {
    const out: Record<string, z.output<T>> = {};
    for (const [rawKey, v] of Object.entries(d)) {
      const key = rawKey.trim();
      if (key === "")
        ctx.issues.push({
          code: "custom",
          message: `empty key (after stripping) in ${JSON.stringify(Object.keys(d))}`,
          input: d,
        });
      else if (key in out)
        ctx.issues.push({ code: "custom", message: `multiple identical keys after stripping: '${key}'`, input: d });
      else out[key] = v as z.output<T>;
    }
    return out;
  });
}

/** `HttpUrlStr`: non-empty and parseable as an http(s) URL with a host; kept as given. */
export const httpUrlStr = nonEmptyStr.check((ctx) => {
  let ok = false;
  try {
    const u = new URL(ctx.value);
    ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    ok = false;
  }
  if (!ok) ctx.issues.push({ code: "custom", message: "must be an http(s) URL", input: ctx.value });
});

/** PyPA name normalisation, as `normalize_package_name`: runs of `-_.` → `-`, lower case. */
export function normalizePackageName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** fractal-server's `FORBIDDEN_CHAR_WHEEL`. */
export const FORBIDDEN_CHAR_WHEEL = [";", "/"];

/**
 * `_parse_wheel_filename`: the file name (not a path) split on `-`; distribution = part 0,
 * version = part 1. Returns the normalised package name too.
 */
export function parseWheelFilename(filename: string): { distribution: string; version: string; pkgName: string } {
  for (const c of FORBIDDEN_CHAR_WHEEL) {
    if (filename.includes(c)) throw new Error(`wheel file name '${filename}' has a forbidden character '${c}'`);
  }
  const parts = filename.split("-");
  if (parts.length < 2 || !parts[0] || !parts[1]) {
    throw new Error(`invalid wheel file name '${filename}': expected '<distribution>-<version>-...whl'`);
  }
  return { distribution: parts[0], version: parts[1], pkgName: normalizePackageName(parts[0]) };
}

/** Python versions fractal-server accepts (`PythonVersion`). */
export const PYTHON_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"] as const;
export type PythonVersion = (typeof PYTHON_VERSIONS)[number];

const LAX_TRUE = new Set(["1", "on", "t", "true", "y", "yes"]);
const LAX_FALSE = new Set(["0", "off", "f", "false", "n", "no"]);

/**
 * pydantic's lax `bool` (what fractal-server's models accept): true/false, 0/1 (also 0.0/1.0), and
 * the strings yes/no/on/off/t/f/y/n/true/false/0/1 in any case, not trimmed. Found by differential
 * fuzzing (test/unit/fractal-fuzz.test.ts).
 */
export const laxBool = z.preprocess((v) => {
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (LAX_TRUE.has(s)) return true;
    if (LAX_FALSE.has(s)) return false;
  }
  return v;
}, z.boolean());
