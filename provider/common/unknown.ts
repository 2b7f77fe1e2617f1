/**
 * During `pulumi preview`, inputs that are not known yet reach `check`/`diff` as this sentinel
 * string, whatever their declared type.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `value` is, or contains anywhere, a preview-time unknown. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Paths (as zod reports them) of every preview-time unknown inside `value`. */
export function unknownPaths(value: unknown, at: PropertyKey[] = []): PropertyKey[][] {
  if (value === UNKNOWN) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, [...at, i]));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, [...at, k]));
  return [];
}

/**
 * Replaces preview-time unknowns with `undefined` (object keys dropped, array slots kept so that
 * indexes in messages stay right); the real value is validated again at `up`, when it is known.
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
