// Docker's size syntax, shared by `memory`, `container.shmSize` and the run/fromImage options.
// Kept apart from args.ts so that the option schemas it imports can use it without a cycle.

/** Docker memory syntax: a number with an optional b/k/m/g unit. */
export const MEMORY = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i;

/** `512m` → bytes. */
export function memoryBytes(value: string): number {
  const m = MEMORY.exec(value.trim());
  if (!m) throw new Error(`bad memory value ${value}`);
  const unit = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as "" | "b" | "k" | "m" | "g"];
  return Math.floor(Number(m[1]) * unit);
}
