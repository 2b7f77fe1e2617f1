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
  assert.equal(pkg.scripts.prepack, "npm run build");
  assert.match(readFileSync(path.join(ROOT, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
});

test("every implementation path the shims require resolves by package name through exports", () => {
  const resources = path.join(ROOT, "provider", "resources");
  const calls = new Map<string, Set<string>>(); // module path -> functions the shim calls
  for (const f of readdirSync(resources).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(path.join(resources, f), "utf8");
    const required = [...new Set([...text.matchAll(/require\("(pulumi-tesseract\/[^"]+)"\)/g)].map((m) => m[1]))];
    if (required.length === 0) continue;
    assert.equal(required.length, 1, `${f}: one implementation module per shim`);
    const methods = [...text.matchAll(/(?:require\("pulumi-tesseract\/[^"]+"\)|\bimpl)\.(\w+)\(/g)].map((m) => m[1]);
    calls.set(required[0], new Set(methods));
  }
  assert.ok(calls.size >= 3, [...calls.keys()].join(", "));
  for (const [p, methods] of calls) {
    const file = require.resolve(p, { paths: [ROOT] });
    assert.equal(path.relative(ROOT, file), p.replace(/^pulumi-tesseract\//, ""));
    const impl = require(file);
    assert.ok(methods.size >= 5, `${p}: ${[...methods].join(", ")}`);
    for (const method of methods) assert.equal(typeof impl[method], "function", `${p} exports ${method}`);
  }
  assert.equal(require.resolve("pulumi-tesseract", { paths: [ROOT] }), path.join(ROOT, "lib", "index.js"));
});
