/**
 * Optional client-side input validation against a Tesseract's own schema (`GET /openapi.json`,
 * `components.schemas.Apply_InputSchema`). Validates the *encoded* payload, i.e. exactly what would
 * be sent, so a problem is reported before a large upload, with a readable path and reason.
 *
 * This is a small JSON Schema subset (the keywords pydantic emits: `$ref`, `type`, `properties`,
 * `required`, `additionalProperties`, `items`, `prefixItems`, `minItems`/`maxItems`, `enum`,
 * `const`, `anyOf`/`oneOf`/`allOf`, numeric and string bounds); unknown keywords are ignored, so it
 * never rejects what it does not understand. The server still validates everything.
 */

import { summarizeValue, type ValidationIssue } from "./errors";
import { nestedShape } from "./ndarray";

type Schema = Record<string, unknown>;

/** The subset of an OpenAPI document used here. */
export interface OpenApiDocument {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, Schema> };
  [key: string]: unknown;
}

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 32 && typeof s.$ref === "string"; i++) {
    const ref = s.$ref as string;
    const name = ref.replace(/^#\/components\/schemas\//, "");
    const target = doc.components?.schemas?.[name];
    if (!target) return {};
    const { $ref: _ignored, ...rest } = s;
    s = { ...target, ...rest };
  }
  return s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === "number") return actual === "number" || actual === "integer";
  return actual === t;
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function isArraySchema(s: Schema): boolean {
  const p = s.properties as Record<string, unknown> | undefined;
  return !!p && "shape" in p && "dtype" in p && "data" in p;
}

function fmtShape(shape: readonly unknown[]): string {
  return `(${shape.map((d) => (d === null ? "any" : String(d))).join(", ")}${shape.length === 1 ? "," : ""})`;
}

/** Expected rank and per-dimension allowed sizes from an array model's `shape` schema. */
function expectedShape(s: Schema): { rank?: number; dims: (number[] | null)[] } {
  const shape = (s.properties as Record<string, Schema>).shape ?? {};
  const prefix = (shape.prefixItems as Schema[] | undefined) ?? [];
  const rank = typeof shape.maxItems === "number" && shape.maxItems === shape.minItems ? shape.maxItems : undefined;
  const dims = prefix.map((d) =>
    Array.isArray(d.enum) ? (d.enum as number[]) : typeof d.const === "number" ? [d.const] : null,
  );
  return { rank, dims };
}

function validateArray(s: Schema, v: unknown, path: string, issues: ValidationIssue[]): void {
  const { rank, dims } = expectedShape(s);
  const dtypeEnum = ((s.properties as Record<string, Schema>).dtype?.enum as string[] | undefined) ?? undefined;
  const want = `shape ${rank === undefined ? "(any rank)" : fmtShape(dims.map((d) => (d ? Math.max(...d) : null)))}`;
  let shape: number[];
  if (isObject(v)) {
    if (!Array.isArray(v.shape) || typeof v.dtype !== "string" || !isObject(v.data)) {
      issues.push({ path, type: "array_expected", message: `expected an array (${want})`, input: summarizeValue(v) });
      return;
    }
    shape = v.shape as number[];
    if (dtypeEnum && !dtypeEnum.includes(v.dtype)) {
      const title = String(s.title ?? "");
      const expected = title.split("__")[2] ?? dtypeEnum[0];
      issues.push({
        path,
        type: "array_dtype_mismatch",
        message: `dtype ${v.dtype} cannot be cast to ${expected} (accepted: ${dtypeEnum.join(", ")})`,
      });
    }
  } else if (typeof v === "number" || typeof v === "boolean" || Array.isArray(v)) {
    shape = nestedShape(v);
  } else {
    issues.push({ path, type: "array_expected", message: `expected an array (${want})`, input: summarizeValue(v) });
    return;
  }
  if (rank !== undefined && shape.length !== rank) {
    issues.push({
      path,
      type: "array_dimensionality_mismatch",
      message: `expected ${rank} dimension(s), ${want}; got shape ${fmtShape(shape)}`,
    });
    return;
  }
  dims.forEach((allowed, i) => {
    if (allowed && i < shape.length && !allowed.includes(shape[i])) {
      issues.push({
        path,
        type: "array_shape_mismatch",
        message: `dimension ${i} must be ${allowed.filter((d) => d !== 1).join(" or ") || 1} (or 1, broadcast); got shape ${fmtShape(shape)}`,
      });
    }
  });
}

/** Validates `value` against `schema`, appending problems to `issues`. */
export function validateValue(
  doc: OpenApiDocument,
  schema: Schema,
  value: unknown,
  path: string,
  issues: ValidationIssue[],
): void {
  const s = resolve(doc, schema);
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) validateValue(doc, sub, value, path, issues);
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives)) {
    let best: ValidationIssue[] | undefined;
    for (const alt of alternatives) {
      const sub: ValidationIssue[] = [];
      validateValue(doc, alt, value, path, sub);
      if (sub.length === 0) return;
      if (!best || sub.length < best.length) best = sub;
    }
    if (best) {
      const nonNull = alternatives.filter((a) => resolve(doc, a).type !== "null");
      if (nonNull.length === 1 || alternatives.length === 1) issues.push(...best);
      else
        issues.push({
          path,
          type: "union",
          message: `matches none of ${alternatives.length} allowed forms (closest: ${best[0].message})`,
          input: summarizeValue(value),
        });
    }
    return;
  }
  if (isArraySchema(s)) {
    validateArray(s, value, path, issues);
    return;
  }
  if ("const" in s && JSON.stringify(s.const) !== JSON.stringify(value)) {
    issues.push({
      path,
      type: "literal_error",
      message: `must be ${JSON.stringify(s.const)}`,
      input: summarizeValue(value),
    });
    return;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    issues.push({
      path,
      type: "enum",
      message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`,
      input: summarizeValue(value),
    });
    return;
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === "string" ? [s.type] : undefined;
  if (types && !types.some((t) => matchesType(value, t))) {
    issues.push({
      path,
      type: `${types[0]}_type`,
      message: `expected ${types.join(" or ")}`,
      input: summarizeValue(value),
    });
    return;
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum)
      issues.push({ path, type: "greater_than_equal", message: `must be ≥ ${s.minimum}`, input: String(value) });
    if (typeof s.maximum === "number" && value > s.maximum)
      issues.push({ path, type: "less_than_equal", message: `must be ≤ ${s.maximum}`, input: String(value) });
    if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum)
      issues.push({ path, type: "greater_than", message: `must be > ${s.exclusiveMinimum}`, input: String(value) });
    if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum)
      issues.push({ path, type: "less_than", message: `must be < ${s.exclusiveMaximum}`, input: String(value) });
  }
  if (typeof value === "string") {
    if (typeof s.minLength === "number" && value.length < s.minLength)
      issues.push({ path, type: "string_too_short", message: `must have at least ${s.minLength} characters` });
    if (typeof s.maxLength === "number" && value.length > s.maxLength)
      issues.push({ path, type: "string_too_long", message: `must have at most ${s.maxLength} characters` });
    if (typeof s.pattern === "string") {
      try {
        if (!new RegExp(s.pattern, "u").test(value))
          issues.push({
            path,
            type: "string_pattern_mismatch",
            message: `must match ${s.pattern}`,
            input: summarizeValue(value),
          });
      } catch {
        // a Python-only regex: leave it to the server
      }
    }
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems)
      issues.push({
        path,
        type: "too_short",
        message: `must have at least ${s.minItems} item(s), got ${value.length}`,
      });
    if (typeof s.maxItems === "number" && value.length > s.maxItems)
      issues.push({ path, type: "too_long", message: `must have at most ${s.maxItems} item(s), got ${value.length}` });
    const prefix = (s.prefixItems as Schema[] | undefined) ?? [];
    value.forEach((item, i) => {
      const sub = i < prefix.length ? prefix[i] : (s.items as Schema | undefined);
      if (sub && typeof sub === "object") validateValue(doc, sub, item, join(path, i), issues);
    });
  }
  if (isObject(value) && (s.properties || s.additionalProperties !== undefined || s.required)) {
    const props = (s.properties as Record<string, Schema> | undefined) ?? {};
    for (const req of (s.required as string[] | undefined) ?? []) {
      if (!(req in value))
        issues.push({ path: join(path, req), type: "missing", message: "required field is missing" });
    }
    for (const [k, v] of Object.entries(value)) {
      if (k in props) validateValue(doc, props[k], v, join(path, k), issues);
      else if (s.additionalProperties === false)
        issues.push({
          path: join(path, k),
          type: "extra_forbidden",
          message: `unknown field (allowed: ${Object.keys(props).join(", ") || "none"})`,
        });
      else if (isObject(s.additionalProperties))
        validateValue(doc, s.additionalProperties as Schema, v, join(path, k), issues);
    }
  }
}

/** Schema of `inputs` for an endpoint (`Apply_InputSchema`, shared by the gradient endpoints). */
export function inputSchemaOf(doc: OpenApiDocument): Schema | undefined {
  return doc.components?.schemas?.Apply_InputSchema;
}

/** Schema of `apply`'s outputs. */
export function outputSchemaOf(doc: OpenApiDocument): Schema | undefined {
  return doc.components?.schemas?.Apply_OutputSchema;
}

/** Differentiable paths advertised in `ApplyInputSchema`/`ApplyOutputSchema` (`differentiable_arrays`). */
export function differentiablePaths(doc: OpenApiDocument, which: "inputs" | "outputs"): string[] | undefined {
  const s = doc.components?.schemas?.[which === "inputs" ? "ApplyInputSchema" : "ApplyOutputSchema"];
  const d = s?.differentiable_arrays;
  return isObject(d) ? Object.keys(d) : undefined;
}

function pathMatches(path: string, known: string[]): boolean {
  if (known.includes(path)) return true;
  // sequence indices `[3]` and dict keys `{k}` may be advertised generically
  const generic = path.replace(/\[-?\d+\]/g, "[]").replace(/\{[\w -]+\}/g, "{}");
  return known.some((k) => k === generic || k.replace(/\[-?\d+\]/g, "[]").replace(/\{[\w -]+\}/g, "{}") === generic);
}

/**
 * Client-side validation of a request payload (already encoded). Returns the problems found:
 * `inputs` against the input schema, differentiable paths against `differentiable_arrays`, and
 * tangent/cotangent keys against the chosen paths.
 */
export function validateRequest(
  doc: OpenApiDocument,
  endpoint: string,
  payload: Record<string, unknown>,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const inputSchema = inputSchemaOf(doc);
  if (inputSchema && endpoint !== "abstract_eval") validateValue(doc, inputSchema, payload.inputs, "inputs", issues);
  const diffIn = differentiablePaths(doc, "inputs");
  const diffOut = differentiablePaths(doc, "outputs");
  const checkPaths = (field: string, known: string[] | undefined, kind: string) => {
    const paths = payload[field];
    if (paths === undefined) return;
    if (!Array.isArray(paths) || paths.length === 0) {
      issues.push({ path: field, type: "too_short", message: `must list at least one ${kind} path` });
      return;
    }
    if (!known) return;
    paths.forEach((p, i) => {
      if (typeof p !== "string" || !pathMatches(p, known)) {
        issues.push({
          path: `${field}[${i}]`,
          type: "literal_error",
          message: `${JSON.stringify(p)} is not a differentiable ${kind} (differentiable: ${known.join(", ") || "none"})`,
        });
      }
    });
  };
  checkPaths("jac_inputs", diffIn, "input");
  checkPaths("jac_outputs", diffOut, "output");
  checkPaths("jvp_inputs", diffIn, "input");
  checkPaths("jvp_outputs", diffOut, "output");
  checkPaths("vjp_inputs", diffIn, "input");
  checkPaths("vjp_outputs", diffOut, "output");
  const keysMustEqual = (vecField: string, pathsField: string) => {
    const vec = payload[vecField];
    const paths = payload[pathsField];
    if (!isObject(vec) || !Array.isArray(paths)) return;
    const want = new Set(paths as string[]);
    const got = new Set(Object.keys(vec));
    for (const p of want)
      if (!got.has(p))
        issues.push({
          path: join(vecField, p),
          type: "missing",
          message: `needs a value for ${pathsField} entry ${JSON.stringify(p)}`,
        });
    for (const p of got)
      if (!want.has(p))
        issues.push({ path: join(vecField, p), type: "extra_forbidden", message: `is not listed in ${pathsField}` });
  };
  keysMustEqual("tangent_vector", "jvp_inputs");
  keysMustEqual("cotangent_vector", "vjp_outputs");
  return issues;
}
