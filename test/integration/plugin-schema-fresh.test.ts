/**
 * The committed plugin schema (provider/plugin/schema.generated.ts) is what the generator makes from
 * the TypeScript API today. It runs the TypeScript compiler over the resource sources (~10 s of CPU),
 * so it lives here rather than in the unit tier; `npx tsx scripts/plugin/gen-schema.ts --check` is
 * the same check on its own.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { SCHEMA } from "../../provider/plugin/schema.generated";
import { generateSchema } from "../../scripts/plugin/gen-schema";

it("the plugin schema is up to date with the TypeScript API (npx tsx scripts/plugin/gen-schema.ts)", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(generateSchema())), JSON.parse(JSON.stringify(SCHEMA)));
});
