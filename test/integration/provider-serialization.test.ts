/**
 * Proves the thin-shim architecture: each resource's provider, serialized exactly as Pulumi
 * serializes it (through the mock monitor's `__provider` input), is small, captures no zod
 * schema, undici object or class instance, and works in a fresh process that loads the
 * implementation by package name — which is what the engine's dynamic-provider plugin does.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const root = path.resolve(__dirname, "../..");
const captured = new Map<string, string>();

before(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        captured.set(args.type, args.inputs.__provider);
        return { id: `${args.name}-id`, state: {} };
      },
      call: () => ({}),
    },
    "serialization",
    "test",
    true,
  );
  // Import after setMocks, as a consumer does: by package name.
  const pkg = require("pulumi-tesseract") as typeof import("../../provider");
  new pkg.TesseractImage("img", { srcDir: "/does/not/exist" });
  new pkg.TesseractService("svc", { image: "missing:latest" });
  new pkg.TaskGroup("tg", { pip: { package: "some-package" } });
  const deadline = Date.now() + 20_000;
  while (captured.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
});

/** Runs a serialized provider's `check` in a fresh Node process, from the repository root. */
function checkInFreshProcess(
  providerText: string,
  news: unknown,
): { failures?: { property: string; reason: string }[] } {
  const script = `
    const text = require("fs").readFileSync(0, "utf8");
    const provider = require("require-from-string")(text).handler();
    provider.check({}, JSON.parse(process.argv[1])).then(
      (r) => process.stdout.write(JSON.stringify(r)),
      (e) => { process.stderr.write(String(e && e.stack || e)); process.exit(2); });`;
  const res = spawnSync(process.execPath, ["-e", script, JSON.stringify(news)], {
    cwd: root,
    input: providerText,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(res.status, 0, `fresh process failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

const cases: { type: string; impl: string; bad: unknown; field: RegExp }[] = [
  {
    type: "pulumi-nodejs:dynamic/tesseract:TesseractImage",
    impl: "tesseract-image-impl",
    bad: { srcDir: "/does/not/exist" },
    field: /srcDir/,
  },
  {
    type: "pulumi-nodejs:dynamic/tesseract:TesseractService",
    impl: "tesseract-service-impl",
    bad: { serviceName: "svc", image: "ok:1", port: "70000" },
    field: /port/,
  },
  {
    type: "pulumi-nodejs:dynamic/fractal:TaskGroup",
    impl: "task-group-impl",
    bad: { pip: { package: "evil;rm -rf /" } },
    field: /package/,
  },
];

for (const c of cases) {
  test(`${c.type.split(":").pop()}: provider serializes to a thin shim`, () => {
    const text = captured.get(c.type);
    assert.ok(text, `no __provider captured for ${c.type}; captured: ${[...captured.keys()].join(", ")}`);
    assert.ok(text.length < 4_000, `serialized provider is ${text.length} chars`);
    assert.match(text, new RegExp(`require\\("pulumi-tesseract/lib/resources/${c.impl}\\.js"\\)`));
    assert.doesNotMatch(text, /ZodObject|ZodType|_zod|undici|Pool\(|class\s+\w+/);
  });

  test(`${c.type.split(":").pop()}: serialized provider validates in a fresh process`, () => {
    const text = captured.get(c.type);
    assert.ok(text);
    const result = checkInFreshProcess(text, c.bad);
    assert.ok(result.failures?.length, `expected check failures, got ${JSON.stringify(result)}`);
    assert.ok(
      result.failures.some((f) => c.field.test(f.property) || c.field.test(f.reason)),
      JSON.stringify(result.failures),
    );
  });
}
