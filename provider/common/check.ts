import { z } from "zod";
import { containsUnknown, unknownPaths, withoutUnknowns } from "./unknown";

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

/** Raw inputs of `check`/`diff` as Pulumi hands them over, split by what is known at preview. */
export interface SplitInputs {
  /** The inputs without `__provider` (the serialized shim) and without undefined members. */
  inputs: Record<string, unknown>;
  /** The top-level inputs whose value is wholly known. */
  known: Record<string, unknown>;
  /** Top-level keys whose value is, or contains, a preview-time unknown. */
  unknownKeys: ReadonlySet<string>;
  /** Paths of every unknown, e.g. `["pip", "package"]`. */
  unknownPaths: PropertyKey[][];
  /** True when any input is (partly) unknown, i.e. during a preview of a dependent resource. */
  hasUnknowns: boolean;
}

/** Strips `__provider` and undefined members, and finds the preview-time unknowns. */
export function splitInputs(news: object): SplitInputs {
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(news)) if (k !== "__provider" && v !== undefined) inputs[k] = v;
  const known: Record<string, unknown> = {};
  const unknownKeys = new Set<string>();
  for (const [k, v] of Object.entries(inputs)) {
    if (containsUnknown(v)) unknownKeys.add(k);
    else known[k] = v;
  }
  return { inputs, known, unknownKeys, unknownPaths: unknownPaths(inputs), hasUnknowns: unknownKeys.size > 0 };
}

/** True when `a` is a prefix of `b`. */
function startsWith(b: readonly PropertyKey[], a: readonly PropertyKey[]): boolean {
  return a.length <= b.length && a.every((p, i) => p === b[i]);
}

/** Result of {@link checkInputs}. */
export interface CheckedAgainstSchema<T> extends SplitInputs {
  /** Failures naming field, value and fix; empty when everything known is valid. */
  failures: CheckFailure[];
  /** The parsed inputs (defaults applied) when valid; at preview, without the unknown keys. */
  data?: T;
}

/**
 * The one way `check` validates inputs against a zod schema. Unknowns are treated alike for
 * every resource: everything known is validated (also the known parts of partly unknown values),
 * and a rule that fails on the path to or under an unknown is left for `up`, when the value is
 * known. Failures carry the property path as data (`property`), never only inside the text.
 * `secretPaths` are fields whose values are never echoed.
 */
export function checkInputs<S extends z.ZodType>(
  schema: S,
  news: object,
  options: { secretPaths?: readonly string[] } = {},
): CheckedAgainstSchema<z.output<S>> {
  const split = splitInputs(news);
  const deepKnown = withoutUnknowns(split.inputs);
  const parsed = schema.safeParse(deepKnown);
  let failures: CheckFailure[] = [];
  if (!parsed.success) {
    // An unknown value does not make its key unknown: unrecognized keys are reported at preview.
    const issues = parsed.error.issues.filter(
      (i) =>
        i.code === "unrecognized_keys" ||
        !split.unknownPaths.some((u) => startsWith(u, i.path) || startsWith(i.path, u)),
    );
    failures = zodFailures(new z.ZodError(issues), deepKnown, "", options.secretPaths);
  }
  if (failures.length) return { ...split, failures };
  if (!split.hasUnknowns) return { ...split, failures, data: parsed.data };
  // At preview: parse what is wholly known, the unknown keys being optional for now (objects with
  // refinements cannot be made partial; their data is what parsed with the unknowns left out).
  const keys = Object.fromEntries([...split.unknownKeys].map((k) => [k, true]));
  let partial: z.ZodType | undefined;
  try {
    partial = schema instanceof z.ZodObject ? schema.partial(keys as never) : undefined;
  } catch {
    partial = undefined;
  }
  if (!partial) return { ...split, failures, data: parsed.success ? parsed.data : undefined };
  const known = partial.safeParse(split.known);
  return { ...split, failures, data: known.success ? (known.data as z.output<S>) : undefined };
}
