/**
 * Pulumi stores outputs through protobuf Structs, which reject `undefined`, `bigint`, `Buffer`
 * and functions. Everything a provider returns goes through this: plain JSON, undefined keys
 * dropped.
 */
export function toPlainJson<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      return v;
    }),
  ) as T;
}
