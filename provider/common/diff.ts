import { toPlainJson } from "./plain";

/** Plain-JSON form with sorted keys and without null/undefined members, for comparisons. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && v !== null)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/**
 * Deep equality of two input or state values as Pulumi stores them: key order, absent keys and
 * null members do not count (state round-trips through protobuf Structs, which lose them).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  const plain = (v: unknown) => (v === undefined ? null : toPlainJson(v));
  return JSON.stringify(canonical(plain(a)) ?? null) === JSON.stringify(canonical(plain(b)) ?? null);
}

/** Which keys of a resource force a replacement and which are applied in place. */
export interface DiffKeys<K extends string> {
  /** Keys whose change needs a new resource. */
  replace: readonly K[];
  /** Keys applied in place by `update` (or only stored). */
  update: readonly K[];
}

/** Compares `olds` and `news` on the given keys: `replaces` and `changed` (in-place) key lists. */
export function diffByKeys<K extends string>(
  olds: Partial<Record<K, unknown>> | object,
  news: Partial<Record<K, unknown>> | object,
  keys: DiffKeys<K>,
): { replaces: string[]; changed: string[] } {
  const o = olds as Record<string, unknown>;
  const n = news as Record<string, unknown>;
  return {
    replaces: keys.replace.filter((k) => !sameValue(o[k], n[k])),
    changed: keys.update.filter((k) => !sameValue(o[k], n[k])),
  };
}
