import { z } from "zod";
import { describeError, messageWithFix, TesseractPulumiError } from "./errors";
import { InputSecrets, SECRET_MARKS_KEY, valueAt } from "./secrets";
import { containsUnknown, unknownPaths, withoutUnknowns } from "./unknown";

/** A `check` failure in Pulumi's shape. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * The check failure an error stands for: its `property` (else `fallback`) and its message with the
 * fix, both taken from the error's data, never parsed from its text.
 */
export function failureOf(err: unknown, fallback: string): CheckFailure {
  if (err instanceof TesseractPulumiError) return { property: err.property ?? fallback, reason: messageWithFix(err) };
  return { property: fallback, reason: describeError(err) };
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

/**
 * Turns zod issues into Pulumi check failures that name the field, the value and the rule.
 * `secrets` are the inputs' secrets (an {@link InputSecrets}, or secret field paths such as
 * `docker.keyPem`): a value that is, holds or is inside a secret is never echoed, a failure on a
 * top-level key holding a secret names a path below it (the engine prints the value of a
 * top-level property a failure names), and known secret strings are scrubbed from every reason.
 */
export function zodFailures(
  error: z.ZodError,
  input: unknown,
  prefix = "",
  secrets: InputSecrets | readonly string[] = [],
): CheckFailure[] {
  const scope = secrets instanceof InputSecrets ? secrets : new InputSecrets((input ?? {}) as object, secrets);
  return error.issues.map((issue) => {
    const named = [prefix, issuePath(issue.path)].filter(Boolean).join(".") || "(inputs)";
    // A failure on a whole top-level input that holds a secret names a path below it (an unknown
    // key when there is one), since the engine would print the value of the top-level input.
    const unknownKey = issue.code === "unrecognized_keys" && issue.keys.length === 1 ? issue.keys[0] : undefined;
    const property = !prefix && issue.path.length === 1 ? scope.property(named, unknownKey) : named;
    const value = valueAt(input, issue.path);
    const shown = value === undefined || scope.covers(issue.path) ? "" : ` (got ${showValue(value)})`;
    const fix = issue.code === "unrecognized_keys" ? " (fix: remove it, or correct its spelling)" : "";
    return { property, reason: scope.scrub(`${named}: ${issue.message}${shown}${fix}`) };
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

/**
 * Strips `__provider`, the hidden secret marks (see common/secrets.ts) and undefined members, and
 * finds the preview-time unknowns.
 */
export function splitInputs(news: object): SplitInputs {
  const inputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(news))
    if (k !== "__provider" && k !== SECRET_MARKS_KEY && v !== undefined) inputs[k] = v;
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
  /** Failures naming field, value and fix (never a secret's); empty when everything known is valid. */
  failures: CheckFailure[];
  /** The inputs' secrets (the resource's secret paths and the program's marks), for further failures. */
  secrets: InputSecrets;
  /** The parsed inputs (defaults applied) when valid; at preview, without the unknown keys. */
  data?: T;
}

/**
 * The one way `check` validates inputs against a zod schema. Unknowns are treated alike for
 * every resource: everything known is validated (also the known parts of partly unknown values),
 * and a rule that fails on the path to or under an unknown is left for `up`, when the value is
 * known. Failures carry the property path as data (`property`), never only inside the text.
 * `secretPaths` are the resource's secret fields; values the program marked secret count too
 * (`secrets`, when given, replaces both).
 */
export function checkInputs<S extends z.ZodType>(
  schema: S,
  news: object,
  options: { secretPaths?: readonly string[]; secrets?: InputSecrets } = {},
): CheckedAgainstSchema<z.output<S>> {
  const split = splitInputs(news);
  const secrets = options.secrets ?? new InputSecrets(news, options.secretPaths);
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
    failures = zodFailures(new z.ZodError(issues), deepKnown, "", secrets);
  }
  if (failures.length) return { ...split, failures, secrets };
  if (!split.hasUnknowns) return { ...split, failures, secrets, data: parsed.data };
  // At preview: parse what is wholly known, the unknown keys being optional for now (objects with
  // refinements cannot be made partial; their data is what parsed with the unknowns left out).
  const keys = Object.fromEntries([...split.unknownKeys].map((k) => [k, true]));
  let partial: z.ZodType | undefined;
  try {
    partial = schema instanceof z.ZodObject ? schema.partial(keys as never) : undefined;
  } catch {
    partial = undefined;
  }
  if (!partial) return { ...split, failures, secrets, data: parsed.success ? parsed.data : undefined };
  const known = partial.safeParse(split.known);
  return { ...split, failures, secrets, data: known.success ? (known.data as z.output<S>) : undefined };
}
