/**
 * No secret in a check failure or an argument error: the resource's secret fields and the values
 * the program marked secret (`__secretInputs`) are never echoed, a failure never names a
 * top-level key holding a secret (the engine would print its value), and known secret strings are
 * scrubbed. The engine path is test/faults/hostile-secrets.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { checkInputs } from "../../provider/common/check";
import { InputSecrets, SECRET_MARKS_KEY } from "../../provider/common/secrets";
import * as taskGroup from "../../provider/resources/task-group-impl";
import * as image from "../../provider/resources/tesseract-image-impl";
import * as service from "../../provider/resources/tesseract-service-impl";
import { runTesseract } from "../../provider/run/run-tesseract";

const SECRET = "pt-unit-s3cr3t-value";
const tasksDir = mkdtempSync(path.join(tmpdir(), "pt-secrets-unit-"));
const src = mkdtempSync(path.join(tmpdir(), "pt-secrets-src-"));
writeFileSync(path.join(src, "tesseract_api.py"), "def apply(inputs):\n    return inputs\n");
writeFileSync(path.join(src, "tesseract_config.yaml"), "name: pt-secrets\nversion: 0.1.0\n");

type Failure = { property: string; reason: string };

/** Asserts failures exist, name `field`, never hold the secret, and never name a top-level key in `secretTop`. */
function refused(failures: Failure[] | undefined, field: string, secretTop: string[]): void {
  assert.ok(failures?.length, "no failure");
  const text = JSON.stringify(failures);
  assert.ok(text.includes(field), `no failure names ${field}: ${text}`);
  assert.ok(!text.includes(SECRET), `secret in failures: ${text}`);
  for (const f of failures) assert.ok(!secretTop.includes(f.property), `failure names top-level ${f.property}`);
}

test("service: a marked environment with a bad key", async () => {
  const r = await service.check(
    {},
    {
      image: "a:1",
      serviceName: "s",
      environment: { API_TOKEN: SECRET, "BAD KEY": "x" },
      [SECRET_MARKS_KEY]: ["environment"],
    },
  );
  refused(r.failures, "environment", ["environment"]);
  assert.ok(!(SECRET_MARKS_KEY in (r.inputs ?? {})), "the marks are returned as inputs");
});

test("service: a marked environment value with a bad type", async () => {
  const r = await service.check(
    {},
    {
      image: "a:1",
      serviceName: "s",
      environment: { API_TOKEN: 42, OTHER: SECRET },
      [SECRET_MARKS_KEY]: ["environment.OTHER"],
    },
  );
  refused(r.failures, "environment.API_TOKEN", ["environment"]);
});

test("service: docker with an unknown key next to keyPem", async () => {
  const r = await service.check(
    {},
    { image: "a:1", serviceName: "s", docker: { host: "tcp://127.0.0.1:1", keyPem: SECRET, bogus: 1 } },
  );
  refused(r.failures, "docker.bogus", ["docker"]);
});

test("service: kubeconfig text and imagePullSecret.password", async () => {
  const r = await service.check(
    {},
    {
      image: "a:1",
      serviceName: "s",
      kubernetes: {
        kubeconfig: `apiVersion: v1\ntoken: ${SECRET}\n`,
        imagePullSecret: { registry: "r", username: "u", password: SECRET, extra: 1 },
        bogus: 2,
      },
    },
  );
  refused(r.failures, "kubernetes", ["kubernetes"]);
});

test("service: registryAuth with an unknown key next to the password, and a bad registry", async () => {
  const r = await service.check(
    {},
    {
      image: `127.0.0.1:5000/x@sha256:${"ab".repeat(32)}`,
      serviceName: "s",
      registryAuth: { registry: "https://127.0.0.1:5000", username: "u", password: SECRET, bogus: 1 },
    },
  );
  refused(r.failures, "registryAuth.bogus", ["registryAuth"]);
  refused(r.failures, "registryAuth.registry", ["registryAuth"]);
});

test("service: a marked non-secret field (labels) with a bad value", async () => {
  const r = await service.check({}, { image: "a:1", serviceName: "s", port: SECRET, [SECRET_MARKS_KEY]: ["port"] });
  refused(r.failures, "port", ["port"]);
});

test("task group: pipIndexUrl with pipNoIndex, and pipExtraIndexUrls[1]", async () => {
  const base = { backend: "local", tasksDir, pip: { package: "pt-x", packageVersion: "1" } };
  const a = await taskGroup.check({}, { ...base, pipIndexUrl: `https://u:${SECRET}@h/simple`, pipNoIndex: true });
  refused(a.failures, "pipIndexUrl", ["pipIndexUrl"]);
  const b = await taskGroup.check({}, { ...base, pipExtraIndexUrls: ["https://ok/simple", `notaurl-${SECRET}`] });
  refused(b.failures, "pipExtraIndexUrls[1]", ["pipExtraIndexUrls"]);
});

test("image: push with an unknown key, docker with an unknown key", async () => {
  const push = { registry: "127.0.0.1:5000", repository: "x", username: "u", password: SECRET, bogus: 1 };
  const a = await image.check({} as never, { srcDir: src, push } as never);
  refused(a.failures, "push", ["push"]);
  const b = await image.check(
    {} as never,
    { srcDir: src, docker: { host: "tcp://127.0.0.1:2", keyPem: SECRET, bogus: 1 } } as never,
  );
  refused(b.failures, "docker.bogus", ["docker"]);
});

test("checkInputs: a marked value is never shown and its top-level key never named", () => {
  const { z } = require("zod") as typeof import("zod");
  const schema = z.strictObject({ token: z.string().regex(/^x/, "must start with x") });
  const r = checkInputs(schema, { token: SECRET, [SECRET_MARKS_KEY]: ["token"] });
  refused(r.failures, "token", ["token"]);
});

test("InputSecrets: covers, scrub, property", () => {
  const s = new InputSecrets({ a: { b: SECRET }, list: ["one-secret", "two"], [SECRET_MARKS_KEY]: ["list.0"] }, [
    "a.b",
  ]);
  assert.ok(s.covers(["a"]) && s.covers(["a", "b"]) && s.covers(["list", 0]) && !s.covers(["list", 1]));
  assert.equal(s.scrub(`x ${SECRET} one-secret`), "x [secret] [secret]");
  assert.equal(s.property("a"), "a[secret]");
  assert.equal(s.property("a", "bogus"), "a.bogus");
  assert.equal(s.property("other"), "other");
});

test("runTesseract: argument errors never show environment values or keyPem", async () => {
  const bad = [
    { image: "x", command: "apply", environment: { T: 42 as unknown as string, U: SECRET } },
    { image: "x", command: "apply", docker: { keyPem: SECRET, bogus: 1 } as never },
    { image: "x", command: "apply", environment: { T: SECRET }, bogus: 1 } as never,
  ];
  for (const args of bad) {
    const err = await runTesseract(args as never).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(err, "accepted");
    assert.ok(!err.message.includes(SECRET), `secret in ${err.message}`);
  }
});

test("plugin: a value given as a secret is treated as secret by check", async () => {
  const { TesseractProvider } = await import("../../provider/plugin/provider");
  const { secretValue } = await import("../../provider/plugin/secrets");
  const p = new TesseractProvider("0.0.0");
  const urn = "urn:pulumi:dev::proj::tesseract:index:TesseractService::svc";
  const r = await p.check(urn, {}, { image: "a:1", user: secretValue(`bad user ${SECRET}`) });
  refused(r.failures as Failure[], "user", ["user"]);
  assert.ok(!("__secretInputs" in (r.inputs ?? {})), "the marks are returned as inputs");
});

test("scrubbingErrors: an error quoting a secret leaves without it", async () => {
  const { scrubbingErrors } = await import("../../provider/common/secrets");
  const secrets = new InputSecrets({ pipIndexUrl: `https://u:${SECRET}@h/simple` }, ["pipIndexUrl"]);
  const err = await scrubbingErrors(secrets, async () => {
    throw new Error(`pip failed: cannot reach https://u:${SECRET}@h/simple`);
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err && !err.message.includes(SECRET) && !String(err.stack).includes(SECRET), err?.message);
  assert.match(err.message, /\[secret\]/);
});
