/**
 * Pulumi's wire form of secrets inside property structs. The plugin accepts secrets (so values the
 * program marked secret stay secret through check, create and read); the lifecycle functions want
 * plain values, so secrets are revealed on the way in and re-marked, per top-level property, on the
 * way out.
 */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True for a `{<sig>: <secret sig>, value}` wrapper. */
export function isSecretValue(v: unknown): v is { value: unknown } {
  return (
    v !== null && typeof v === "object" && !Array.isArray(v) && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** Wraps a value as a secret (once). */
export function secretValue(v: unknown): unknown {
  return isSecretValue(v) || v === undefined ? v : { [SIG_KEY]: SECRET_SIG, value: v };
}

/** The value with every secret wrapper (at any depth) replaced by its plain value. */
export function reveal<T = unknown>(v: unknown): T {
  if (isSecretValue(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = reveal(x);
    return out as T;
  }
  return v as T;
}

/** True when a secret wrapper appears anywhere in the value. */
export function containsSecret(v: unknown): boolean {
  if (isSecretValue(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
  return false;
}

/** Top-level keys of a property bag that hold a secret anywhere inside. */
export function secretKeys(props: Record<string, unknown> | undefined): Set<string> {
  return new Set(Object.entries(props ?? {}).flatMap(([k, v]) => (containsSecret(v) ? [k] : [])));
}

/** A copy of `props` with the listed top-level keys wrapped as secrets. */
export function markSecret(props: Record<string, unknown>, keys: Iterable<string>): Record<string, unknown> {
  const out = { ...props };
  for (const k of keys) if (k in out && out[k] !== undefined) out[k] = secretValue(out[k]);
  return out;
}

/**
 * Dotted paths (`environment`, `server.password`, `pipExtraIndexUrls.1`) of every secret wrapper
 * in a property bag: what the lifecycle's `check` treats as secret on top of the resource's own
 * secret fields (sent as `__secretInputs`, like the TypeScript resource classes do).
 */
export function secretPaths(v: unknown, at: string[] = []): string[] {
  if (isSecretValue(v)) return [at.join(".")];
  if (Array.isArray(v)) return v.flatMap((x, i) => secretPaths(x, [...at, String(i)]));
  if (v !== null && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => secretPaths(x, [...at, k]));
  return [];
}
