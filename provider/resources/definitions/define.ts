/**
 * The building blocks of a resource's definition (`definitions/<name>.ts`): the one place a
 * resource's inputs, outputs, secret paths and replace keys are written. Everything else derives
 * from it: the `…Args` a program passes ({@link ArgsOf}, {@link ArgsWithResources}), the class's
 * output fields ({@link OutputFieldsOf}) and their placeholders ({@link outputPlaceholders}), the
 * keys dropped when state is read back, the plugin schema (scripts/plugin/gen-schema.ts reads the
 * definitions' JSDoc), `check`'s redaction (provider/common/secret-fields.ts re-exports the secret
 * paths) and the plugin's `prepare`. A resource's inputs are the zod schema `check` validates
 * with: each field its rule with its JSDoc (TypeScript keeps the JSDoc through `z.input`, so the
 * Args show it) and, marked with {@link field}, how a change of it applies.
 *
 * Types, and those marks: no zod schema or Pulumi value lives here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * A plain input value with every part an Input, as the Args always took them: `string` →
 * `Input<string>`, `T[]` → `Input<Input<T>[]>`, an object → `Input<{ k: Input<…> }>` (optional
 * fields stay optional; `unknown` stays `unknown`).
 */
export type InputOf<T> = unknown extends T
  ? T
  : T extends Primitive
    ? T
    : T extends readonly (infer E)[]
      ? pulumi.Input<InputOf<E>>[]
      : T extends object
        ? { [K in keyof T]: pulumi.Input<InputOf<T[K]>> }
        : T;

/**
 * The Args of a resource (or a nested input object) from its plain definition: each field an
 * `Input` of {@link InputOf} its plain type. Homomorphic, so each field keeps its optionality and
 * its JSDoc (editors show the definition's docs on the Args).
 */
export type ArgsOf<T> = { [K in keyof T]: pulumi.Input<InputOf<T[K]>> };

/**
 * {@link ArgsOf} for a resource some of whose inputs also take a resource: field `K` of `R` is
 * `R[K]` or an Input of its plain type (e.g. TesseractService's `image`: a TesseractImage or a
 * name). Homomorphic in `T` like {@link ArgsOf}, so every field, those in `R` too, keeps its
 * optionality and the definition's JSDoc. `R` may only name fields of `T`.
 */
export type ArgsWithResources<T, R extends { [K in keyof R]: K extends keyof T ? unknown : never }> = {
  [K in keyof T]: K extends keyof R ? pulumi.Input<InputOf<T[K]>> | R[K] : pulumi.Input<InputOf<T[K]>>;
};

/**
 * The output fields of a resource class from its plain outputs definition: `readonly x:
 * pulumi.Output<T>` (an optional output is `Output<T | undefined>`). A class gets them by
 * declaration merging (`export interface X extends OutputFieldsOf<XOutputFields> {}`), so they are
 * never written again as `declare readonly` fields.
 */
export type OutputFieldsOf<T> = {
  readonly [K in keyof T]-?: pulumi.Output<Pick<T, K> extends Required<Pick<T, K>> ? T[K] : T[K] | undefined>;
};

/**
 * `true` when a state type `S` holds every output field of `F` with a value that fits its type (an
 * optional field may be absent from the state).
 */
export type StateFits<S, F> = [Exclude<RequiredKeys<F>, keyof S>] extends [never]
  ? [Pick<S, Extract<keyof F, keyof S>>] extends [Pick<F, Extract<keyof F, keyof S>>]
    ? true
    : { stateDoesNotFit: Exclude<keyof F, never> }
  : { notInState: Exclude<RequiredKeys<F>, keyof S> };

/** The keys of `T` that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: Pick<T, K> extends Required<Pick<T, K>> ? K : never }[keyof T];

/** `true` when the key list `L` names exactly the keys of `T` (no key missing, none extra). */
export type ListsKeysOf<L extends readonly PropertyKey[], T> = [
  Exclude<keyof T, L[number]>,
  Exclude<L[number], keyof T>,
] extends [never, never]
  ? true
  : { missing: Exclude<keyof T, L[number]>; extra: Exclude<L[number], keyof T> };

/** A dotted path into `T` whose first segment is one of `T`'s keys (e.g. `server.password`). */
export type SecretPath<T> = Extract<keyof T, string> | `${Extract<keyof T, string>}.${string}`;

/** `{ key: undefined }` for each output: the props that make Pulumi create the class's output fields. */
export function outputPlaceholders(keys: readonly string[]): Record<string, undefined> {
  return Object.fromEntries(keys.map((k) => [k, undefined]));
}

/**
 * How a change of an input reaches the resource: `replace` (a new one), `update` (applied in
 * place, or only stored), or `apart` (the diff judges its parts, e.g. TaskGroup's `server`: another
 * server replaces, a new password does not).
 */
export type OnChange = "replace" | "update" | "apart";

declare const ON_CHANGE: unique symbol;

/** A definition's input field: its zod rule (docs in its JSDoc), marked with how a change applies. */
export type Field<S extends z.ZodType = z.ZodType> = S & { readonly [ON_CHANGE]: OnChange };

/** What each field's change does, by rule (the rules are the definitions' own objects). */
const CHANGES = new WeakMap<z.ZodType, OnChange>();

/**
 * Marks an input's rule with how a change of it applies. A definition's inputs are all marked
 * ({@link fields} takes nothing else), so a new input cannot miss its diff rule.
 */
export function field<S extends z.ZodType>(onChange: OnChange, rule: S): Field<S> {
  CHANGES.set(rule, onChange);
  return rule as Field<S>;
}

/** A definition's input shape: every field marked by {@link field} (a compile-time rule). */
export function fields<T extends Record<string, Field>>(shape: T): T {
  return shape;
}

/** The inputs of a shape whose change applies as `how`, in the shape's order. */
export function inputsOn(shape: Record<string, z.ZodType>, how: OnChange): string[] {
  return Object.keys(shape).filter((k) => CHANGES.get(shape[k]) === how);
}
