/**
 * The package manifest and lock keep the promises of docs/packaging.md: the lock holds every
 * platform's optional packages (so `npm ci` passes on any machine), `@pulumi/docker` is only an
 * optional peer, and every implementation path the provider shims put into stack state resolves
 * through the `exports` map by package name.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.join(__dirname, "..", "..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));

test("the lock lists every optional dependency of every locked package (npm ci on any platform)", () => {
  const packages = lock.packages as Record<string, { optionalDependencies?: Record<string, string> }>;
  const missing: string[] = [];
  for (const [where, entry] of Object.entries(packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      // Node's lookup: nested under the package first, then each ancestor node_modules.
      const candidates: string[] = [];
      for (let dir = where; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, "")) {
        candidates.push(`${dir ? `${dir}/` : ""}node_modules/${name}`);
        if (!dir) break;
      }
      if (!candidates.some((c) => c in packages)) missing.push(`${name} (optional of ${where || "the root"})`);
    }
  }
  assert.deepEqual(missing, []);
});

test("@pulumi/docker is an optional peer, @pulumi/pulumi a peer, neither a dependency", () => {
  assert.equal(pkg.dependencies["@pulumi/docker"], undefined);
  assert.equal(pkg.dependencies["@pulumi/pulumi"], undefined);
  assert.ok(pkg.peerDependencies["@pulumi/docker"]);
  assert.equal(pkg.peerDependenciesMeta["@pulumi/docker"].optional, true);
  assert.equal(pkg.peerDependencies["@pulumi/pulumi"], "^3.248.0");
  // `npm install` in a clone, `npm pack` and `npm publish` build and link the clone's own name.
  assert.equal(pkg.scripts.prepare, "npm run build && node scripts/link-self.cjs");
  assert.equal(pkg.scripts.prepack, undefined, "prepare builds already: no second build on pack");
  assert.match(readFileSync(path.join(ROOT, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
});

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
