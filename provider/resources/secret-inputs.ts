/**
 * Program-side half of the secret rules (see common/secrets.ts): a resource class wraps the
 * top-level inputs its secret list names in `pulumi.secret`, declares them as secret outputs, and
 * sends the paths of every value the program itself marked secret in the hidden input
 * `__secretInputs`, because a dynamic provider never sees Pulumi's secret markers.
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MARKS_KEY, secretTopKeys } from "../common/secrets";

/** Deepest level looked at for marked values (inputs are small plain objects). */
const MAX_DEPTH = 8;

/** Dotted paths (`environment`, `environment.API_TOKEN`, `pipExtraIndexUrls.1`) of the secret Outputs in `value`. */
export async function markedSecretPaths(value: unknown, at: string[] = []): Promise<string[]> {
  if (at.length > MAX_DEPTH || value === null || value === undefined) return [];
  if (pulumi.Output.isInstance(value)) return (await pulumi.isSecret(value)) ? [at.join(".")] : [];
  if (pulumi.Resource.isInstance(value)) return [];
  if (value instanceof Promise) return markedSecretPaths(await value, at);
  if (Array.isArray(value)) {
    return (await Promise.all(value.map((v, i) => markedSecretPaths(v, [...at, String(i)])))).flat();
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return (await Promise.all(entries.map(([k, v]) => markedSecretPaths(v, [...at, k])))).flat();
  }
  return [];
}

/**
 * The props a resource class passes to `super`: the top-level inputs named by `secretPaths`
 * wrapped in `pulumi.secret`, plus the hidden list of what the program marked secret.
 */
export function withSecretInputs(props: Record<string, unknown>, secretPaths: readonly string[]) {
  const out: Record<string, unknown> = { ...props };
  for (const k of secretTopKeys(secretPaths)) if (out[k] !== undefined) out[k] = pulumi.secret(out[k]);
  out[SECRET_MARKS_KEY] = markedSecretPaths(props).then((paths) => paths.filter(Boolean).sort());
  return out;
}

/** `opts` with the top-level inputs of `secretPaths` added to `additionalSecretOutputs`. */
export function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  secretPaths: readonly string[],
): pulumi.CustomResourceOptions {
  return pulumi.mergeOptions(opts, { additionalSecretOutputs: secretTopKeys(secretPaths) });
}
