/**
 * Compile-time check that a resource's `XxxArgs` (what a program passes) and its plain inputs
 * (inferred from the zod schema the provider validates with) name the same keys. Use as
 * `const _sameKeys: SameKeys<XxxArgs, XxxInputs> = true;` next to the Args: adding an input to one
 * side only stops the build.
 */
export type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : { onlyInArgs: Exclude<keyof A, keyof B>; onlyInInputs: Exclude<keyof B, keyof A> };

/** Fails to compile unless `T` is `true`; pairs with {@link SameKeys}. */
export type Assert<T extends true> = T;
