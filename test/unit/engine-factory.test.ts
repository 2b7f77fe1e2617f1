/**
 * One way into a container engine (issue 22): every provider module gets its engine from
 * `engineFor` (provider/docker/engine.ts), so that one `useEngineFactory` puts a fake behind the
 * build, serve, run, listing, logs, import and fromImage code at once.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { engineFor, useEngineFactory } from "../../provider/docker/engine";
import { getTesseractImages } from "../../provider/listing/list-tesseracts";
import { getTesseractServiceLogs } from "../../provider/listing/service-logs";
import { FakeEngine } from "../helpers/fake-engine";

const PROVIDER = join(__dirname, "..", "..", "provider");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("no provider module outside provider/docker/ reaches DockerClient: engines come from engineFor", () => {
  const offenders = sources(PROVIDER)
    .filter((f) => !relative(PROVIDER, f).startsWith("docker/"))
    .filter((f) => /\bDockerClient\b/.test(readFileSync(f, "utf8")))
    .map((f) => relative(PROVIDER, f));
  assert.deepEqual(offenders, []);
});

test("useEngineFactory puts one engine behind every module, and restores the real one", async () => {
  const fake = new FakeEngine();
  fake.addImage(["hello:1"]);
  fake.addImage(["not-a-tesseract:1"], { tesseract: false });
  const restore = useEngineFactory(() => fake);
  try {
    assert.equal(engineFor(undefined), fake);
    const images = await getTesseractImages();
    assert.deepEqual(
      images.map((i) => i.tags),
      [["hello:1"]],
    );
    const id = await fake.createContainer("c", {
      Image: "hello:1",
      Labels: { "pulumi-tesseract.service-id": "svc" },
    } as never);
    const logs = await getTesseractServiceLogs({ containerIds: [id] });
    assert.deepEqual(logs, [{ name: id, logs: "" }]);
  } finally {
    restore();
  }
  assert.notEqual(engineFor(undefined), fake);
});
