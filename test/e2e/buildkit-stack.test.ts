/**
 * A TesseractImage with `build_config.host_credentials` and `secrets` through the real Pulumi
 * engine (`pulumi up`, then destroy): `builder: "auto"` takes BuildKit, the requirement comes from
 * a private index behind basic auth on 127.0.0.1, and `secrets` (given as a plain value: the
 * resource's own secret list makes it a secret) is a secret in the stored inputs, while its value
 * is nowhere in the checkpoint nor in the engine's output.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { DockerClient } from "../../provider/docker";
import { TesseractImage } from "../../provider/index";
import { stackCheckpointText } from "../helpers/leaks";
import { type PrivateIndex, startPrivateIndex } from "../helpers/private-index";
import { createTestStack, type TestStack } from "../helpers/stack";
import { cleanupRun, EXAMPLES, hostCaCertificates } from "../helpers/tesseract-image";

const run = `bkstack-${process.pid}`;
const TOKEN = `ptStack${Math.random().toString(36).slice(2, 12)}`;
const dir = mkdtempSync(path.join(tmpdir(), "pt-bkstack-"));
const docker = DockerClient.for();
let ts: TestStack | undefined;
let index: PrivateIndex | undefined;

after(async () => {
  await ts?.dispose();
  await index?.stop();
  await cleanupRun(docker, run);
  // BuildKit's cache records of this build (the suite's other builds use the classic builder)
  await docker.pruneBuildCache(undefined, true).catch(() => undefined);
  await docker.close();
  rmSync(dir, { recursive: true, force: true });
});

test("host_credentials + secrets through pulumi up: BuildKit builds, the secret is a secret in state and nowhere in plain", {
  timeout: 900_000,
}, async () => {
  index = await startPrivateIndex("pt-user", TOKEN, { "pt-stack-private": "1.0" });
  const src = path.join(dir, "hello");
  cpSync(path.join(EXAMPLES, "hello"), src, { recursive: true });
  writeFileSync(
    path.join(src, "tesseract_requirements.txt"),
    `--extra-index-url http://127.0.0.1:${index.port}/simple/\npt-stack-private==1.0\n`,
  );
  writeFileSync(
    path.join(src, "tesseract_config.yaml"),
    'name: pt-bkstack\nversion: "0.1.0"\nbuild_config:\n  host_credentials:\n    - {host: 127.0.0.1, secret_id: idx, username: pt-user}\n',
  );
  ts = await createTestStack("bkstack", async () => {
    const image = new TesseractImage("private", {
      srcDir: src,
      tag: run,
      caCertificates: hostCaCertificates(),
      buildNetwork: "host",
      labels: { "pulumi-tesseract.test": run },
      secrets: { idx: TOKEN },
    });
    return { imageName: image.imageName, contextHash: image.contextHash };
  });
  const up = await ts.stack.up({ onOutput: (s) => ts?.output.push(s) });
  assert.equal(up.summary.result, "succeeded", ts.output.join(""));
  assert.ok(
    index.requests().some((l) => /^AUTH \/packages\/pt_stack_private-1\.0/.test(l)),
    index.requests().join("\n"),
  );
  assert.ok(!ts.output.join("").includes(TOKEN), "the engine's output holds the secret");

  const state = stackCheckpointText("pulumi-tesseract-tests", ts.stack.name);
  assert.ok(!state.includes(TOKEN), "the secret is in the state in plain");
  const resources = (JSON.parse(state).checkpoint.latest.resources ?? []) as {
    type: string;
    inputs?: Record<string, unknown>;
  }[];
  const image = resources.find((r) => r.type.endsWith(":TesseractImage"));
  assert.ok(image, resources.map((r) => r.type).join(", "));
  const secret = (v: unknown) => typeof v === "object" && v !== null && "4dabf18193072939515e22adb298388d" in v;
  assert.ok(secret(image.inputs?.secrets), `inputs.secrets is a secret: ${JSON.stringify(image.inputs?.secrets)}`);

  // no change, no rebuild: the preview sees the same context hash
  const preview = await ts.stack.preview({ onOutput: (s) => ts?.output.push(s) });
  assert.equal(preview.changeSummary.update ?? 0, 0, ts.output.join(""));
});
