/**
 * The built package (lib/, made by `npm run build`, which `npm test` runs before the tiers) keeps
 * the promises of docs/packaging.md: every implementation path the provider shims put into stack
 * state resolves by package name through the `exports` map and exports what the shims call, and
 * no compiled file loads `@pulumi/docker` (an optional peer). Moved out of the unit tier so that
 * `npm run test:unit` needs only `npm ci` (no build, no node_modules/pulumi-tesseract link).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.join(__dirname, "..", "..");

/** Functions that providers serialized by earlier releases call, beyond what today's shims call. */
const LEGACY_CALLS: Record<string, string[]> = {
  "pulumi-tesseract/lib/resources/tesseract-image-impl.js": ["del"], // 0.1.0's TesseractImage shim
};

test("every implementation path the shims require resolves by package name through exports", () => {
  const resources = path.join(ROOT, "provider", "resources");
  // The shared shim (provider/resources/shim.ts) calls these on the lifecycle module.
  const shimCalls = [...readFileSync(path.join(resources, "shim.ts"), "utf8").matchAll(/load\(\)\.(\w+)\(/g)].map(
    (m) => m[1],
  );
  assert.ok(shimCalls.length >= 6, shimCalls.join(", "));
  const paths = new Set<string>();
  for (const f of readdirSync(resources).filter((f) => f.endsWith(".ts")))
    for (const m of readFileSync(path.join(resources, f), "utf8").matchAll(
      /require\("(pulumi-tesseract\/lib\/[\w/.-]+)"\)/g,
    ))
      paths.add(m[1]);
  assert.ok(paths.size >= 3, [...paths].join(", "));
  for (const p of paths) {
    const file = require.resolve(p, { paths: [ROOT] });
    assert.equal(path.relative(ROOT, file), p.replace(/^pulumi-tesseract\//, ""));
    const impl = require(file);
    for (const method of [...shimCalls, ...(LEGACY_CALLS[p] ?? [])])
      assert.equal(typeof impl[method], "function", `${p} exports ${method}`);
  }
  assert.equal(require.resolve("pulumi-tesseract", { paths: [ROOT] }), path.join(ROOT, "lib", "index.js"));
});

test("the library (code and declarations) never loads @pulumi/docker", () => {
  const lib = path.join(ROOT, "lib");
  const files = readdirSync(lib, { recursive: true, encoding: "utf8" }).filter((f) => /\.(js|d\.ts)$/.test(f));
  assert.ok(files.length > 10, "lib/ is built");
  for (const f of files)
    assert.doesNotMatch(readFileSync(path.join(lib, f), "utf8"), /(require\(|from |import\()"@pulumi\/docker"/, f);
});
