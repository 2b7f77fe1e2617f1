import type { z } from "zod";
import { UNKNOWN } from "./unknown";

/** A `check` failure in Pulumi's shape. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** Dotted path of a zod issue, e.g. `volumes[1]` or `pip.package`. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** Short rendering of an offending value for error messages (never for secrets). */
export function showValue(value: unknown): string {
  if (value === undefined) return "undefined";
  const text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p as string];
  }
  return cur;
}

/**
 * Turns zod issues into Pulumi check failures that name the field, the value and the rule.
 * `secretPaths` lists top-level fields whose values must never be echoed.
 */
export function zodFailures(
  error: z.ZodError,
  input: unknown,
  prefix = "",
  secretPaths: readonly string[] = [],
): CheckFailure[] {
  return error.issues.map((issue) => {
    const path = issuePath(issue.path);
    const property = [prefix, path].filter(Boolean).join(".") || "(inputs)";
    const value = valueAt(input, issue.path);
    const secret = secretPaths.some((s) => path === s || path.startsWith(`${s}.`));
    const shown = value === undefined || secret ? "" : ` (got ${showValue(value)})`;
    return { property, reason: `${property}: ${issue.message}${shown}` };
  });
}

/**
 * Replaces preview-time unknowns with `undefined` so that schemas validate what is known;
 * the real value is validated again at `up`, when it is known.
 */
export function withoutUnknowns<T>(value: T): T {
  if (value === (UNKNOWN as unknown)) return undefined as T;
  if (Array.isArray(value)) return value.map(withoutUnknowns) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== UNKNOWN) out[k] = withoutUnknowns(v);
    return out as T;
  }
  return value;
}
