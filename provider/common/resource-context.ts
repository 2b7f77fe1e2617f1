import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Which Pulumi resource a provider call works for, known for the whole call (and the async work
 * it starts) without threading it through every domain function:
 * - progress lines attach to the resource's row of the `pulumi up` display (log.ts);
 * - defaults that must differ between stacks (task folders, image holder tags) derive from it.
 *
 * The plugin gets the URN in every request. The dynamic-provider process gets none, so the
 * resource classes pass it as the hidden input {@link URN_INPUT} (see {@link takeUrn}).
 */
export interface ResourceScope {
  /** `urn:pulumi:<stack>::<project>::<type>::<name>`. */
  urn: string;
  stack: string;
  project: string;
  /** The resource's own type (the last of a parent chain). */
  type: string;
  name: string;
}

/** The hidden input holding a dynamic resource's URN (never validated, diffed or shown). */
export const URN_INPUT = "__urn";

const storage = new AsyncLocalStorage<ResourceScope>();

/** Splits `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`; undefined when it is no URN. */
export function parseResourceUrn(urn: string | undefined): ResourceScope | undefined {
  if (typeof urn !== "string" || !urn.startsWith("urn:pulumi:")) return undefined;
  const [head, project, qualifiedType, ...rest] = urn.split("::");
  if (!project || !qualifiedType || rest.length === 0) return undefined;
  return {
    urn,
    stack: head.slice("urn:pulumi:".length),
    project,
    type: qualifiedType.split("$").pop() ?? qualifiedType,
    name: rest.join("::"),
  };
}

/** Runs `fn` as work for the resource `urn` (no scope when `urn` is not a URN). */
export function inResource<T>(urn: string | undefined, fn: () => T): T {
  const scope = parseResourceUrn(urn);
  return scope ? storage.run(scope, fn) : fn();
}

/** The resource the current provider call works for, if known. */
export function currentResource(): ResourceScope | undefined {
  return storage.getStore();
}

/**
 * Removes the hidden URN input from raw inputs (a copy; the same object when absent), so schemas,
 * diffs and state comparisons never see it, and returns it separately.
 */
export function takeUrn<T extends object>(inputs: T): { urn: string | undefined; inputs: T } {
  if (!inputs || typeof inputs !== "object" || !(URN_INPUT in inputs)) return { urn: undefined, inputs };
  const { [URN_INPUT]: urn, ...rest } = inputs as Record<string, unknown>;
  return { urn: typeof urn === "string" ? urn : undefined, inputs: rest as T };
}

/** Puts the URN input back on check's result inputs, so create and update receive it. */
export function keepUrn<T extends object>(inputs: T, urn: string | undefined): T {
  return urn === undefined ? inputs : ({ ...inputs, [URN_INPUT]: urn } as T);
}
