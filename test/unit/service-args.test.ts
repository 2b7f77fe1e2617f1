import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { UNKNOWN } from "../../provider/common/unknown";
import { check } from "../../provider/resources/tesseract-service-impl";
import { isImageRef, memoryBytes, validateInputs } from "../../provider/serve/args";

const dir = mkdtempSync(join(tmpdir(), "pt-args-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const base = { image: "hello:0.1.0", serviceName: "svc" };

function failures(extra: Record<string, unknown>) {
  return validateInputs({ ...base, ...extra }, new Set(), dir).failures;
}
function one(extra: Record<string, unknown>, property: string, re: RegExp) {
  const f = failures(extra);
  const hit = f.find((x) => x.property === property);
  assert.ok(hit, `expected a failure on ${property}, got ${JSON.stringify(f)}`);
  assert.match(hit.reason, re);
}

test("defaults are filled and paths made absolute", () => {
  const r = validateInputs({ ...base, volumes: [".:/d"], outputPath: "out" }, new Set(), dir);
  assert.deepEqual(r.failures, []);
  assert.equal(r.inputs?.replicas, 1);
  assert.equal(r.inputs?.hostIp, "127.0.0.1");
  assert.equal(r.inputs?.debug, false);
  assert.equal(r.inputs?.startupTimeout, 30);
  assert.equal(r.inputs?.restartPolicy, "unless-stopped");
  assert.deepEqual(r.inputs?.volumes, [`${dir}:/d:ro`]);
  assert.equal(r.inputs?.outputPath, join(dir, "out"));
});

test("each bad input fails naming the field, the value and the fix", () => {
  one({ port: "80-" }, "port", /range \("8000-8010"\).*got "80-"/);
  one({ port: "99999" }, "port", /outside 1-65535/);
  one({ port: "8080", replicas: 2 }, "port", /offers 1 host port.*2 container/);
  one({ volumes: ["./nope:/x"] }, "volumes[0]", /does not exist/);
  one({ volumes: [`${dir}:/x:rx`] }, "volumes[0]", /mode "rx"/);
  one({ volumes: [`${dir}:/x`, `${dir}:/y`] }, "volumes[1]", /already mounted by volumes\[0\]/);
  one({ volumes: [`${dir}:/tesseract/output_data`], outputPath: "o" }, "volumes[0]", /inputPath\/outputPath/);
  one({ memory: "lots" }, "memory", /512m.*got "lots"/);
  one({ memory: "1m" }, "memory", /at least 6m/);
  one({ gpus: ["x"] }, "gpus[0]", /GPU ids/);
  one({ gpus: "some" }, "gpus", /.+/);
  one({ replicas: 0 }, "replicas", /at least 1/);
  one({ replicas: 1.5 }, "replicas", /whole number/);
  one({ startupTimeout: 0 }, "startupTimeout", /more than 0 seconds/);
  one({ image: "Bad Name" }, "image", /not a valid Docker image reference.*got "Bad Name"/);
  one({ images: ["a:1"] }, "images", /exactly one of `image`/);
  one({ image: undefined }, "image", /required/);
  one({ hostIp: "localhost" }, "hostIp", /IPv4/);
  one({ networkAlias: "a" }, "networkAlias", /needs a user-defined `network`/);
  one({ network: "none" }, "network", /cannot be "none"/);
  one({ restartPolicy: "sometimes" }, "restartPolicy", /unless-stopped/);
  one({ labels: { "pulumi-tesseract.service": "x" } }, "labels", /provider's own keys/);
  one({ outputFormat: "xml" }, "outputFormat", /json\+base64/);
  one({ inputPath: "./missing-in" }, "inputPath", /does not exist/);
  one({ docker: { host: "http://x" } }, "docker.host", /unix:\/\/\//);
});

test("image references and memory sizes", () => {
  for (const ok of [
    "hello",
    "hello:0.1.0",
    "localhost:5000/a/b:c",
    `registry.example.com/x@sha256:${"a".repeat(64)}`,
    `sha256:${"b".repeat(64)}`,
  ])
    assert.ok(isImageRef(ok), ok);
  for (const bad of ["Hello", "a b", "x:", ":tag", "a//b"]) assert.ok(!isImageRef(bad), bad);
  assert.equal(memoryBytes("512m"), 512 * 1024 * 1024);
  assert.equal(memoryBytes("2g"), 2 * 1024 ** 3);
  assert.equal(memoryBytes("1024"), 1024);
});

test("check tolerates preview unknowns (an unknown TesseractImage output)", async () => {
  const r = await check(
    {},
    { image: UNKNOWN, serviceName: "svc", port: "8000-8001", replicas: UNKNOWN, __provider: "x" },
  );
  assert.equal(r.failures, undefined);
  assert.equal((r.inputs as Record<string, unknown>).image, UNKNOWN);
  assert.equal((r.inputs as Record<string, unknown>).replicas, UNKNOWN);
  const bad = await check({}, { image: UNKNOWN, serviceName: "svc", port: "x" });
  assert.equal(bad.failures?.[0].property, "port");
});

test("check never echoes docker key material", async () => {
  const r = await check({}, { ...base, docker: { host: "tcp://127.0.0.1:2376", keyPem: "secret-key-no-pem" } });
  const text = JSON.stringify(r.failures);
  assert.ok(r.failures?.length, text);
  assert.ok(!text.includes("secret-key-no-pem"), text);
});
