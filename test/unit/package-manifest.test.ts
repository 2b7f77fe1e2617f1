/**
 * The package manifest and lock keep the promises of docs/packaging.md: the lock holds every
 * platform's optional packages (so `npm ci` passes on any machine), `@pulumi/docker` is only an
 * optional peer. (That every implementation path the provider shims put into stack state resolves
 * through the `exports` map by package name needs the built lib/: test/integration/built-package.test.ts.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
