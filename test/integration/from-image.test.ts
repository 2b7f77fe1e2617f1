/**
 * TesseractClient.fromImage and the listing functions on the real engine with the hello fixture:
 * the throwaway server answers, debug is off unless asked, `close()` and `await using` remove the
 * container, a failed start leaves nothing behind, and the listing shows the image and the
 * container with its url and who started it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TesseractClient } from "../../provider/client/client";
import { DockerClient } from "../../provider/docker";
import { getTesseractContainers, getTesseractImages } from "../../provider/listing/list-tesseracts";
import { ensureHelloImage } from "../helpers/service-fixture";
import { removeRunContainers } from "../helpers/tesseract-image";

const RUN_ID = `from-image-${process.pid}-${Date.now()}`;
const labels = { "pulumi-tesseract.test": RUN_ID };
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-from-image-"));
let image: string;

async function exists(id: string): Promise<boolean> {
  return (await docker.inspectContainer(id)) !== undefined;
}

before(async () => {
  image = await ensureHelloImage(docker);
});

after(async () => {
  await removeRunContainers(docker, RUN_ID);
  rmSync(dir, { recursive: true, force: true });
});

describe("TesseractClient.fromImage", { timeout: 300_000 }, () => {
  it("serves on a loopback port, answers, debug off, and close() removes the container", async () => {
    const out = join(dir, "out");
    const t = await TesseractClient.fromImage(image, { labels, outputPath: out });
    try {
      assert.match(t.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(await t.health(), { status: "ok" });
      assert.deepEqual(await t.apply({ name: "from image" }), { greeting: "Hello, from image!" });
      // debug off: /test is not served (upstream's from_image always turns debug on)
      assert.ok(!(await t.availableEndpoints()).includes("test"));
      assert.match(await t.serverLogs(), /Uvicorn running|Application startup/);
      assert.ok(
        readdirSync(out).some((f) => f.startsWith("run_")),
        "the runtime writes run_* logs to outputPath",
      );
      // listing sees the container with its url and who started it
      const listed = (await getTesseractContainers()).find((c) => c.id === t.containerId);
      assert.equal(listed?.url, t.url);
      assert.equal(listed?.startedBy, "fromImage");
      assert.equal(listed?.tesseractName, "hello");
    } finally {
      await t.close();
    }
    assert.equal(await exists(t.containerId), false);
    await t.close(); // idempotent
  });

  it("debug on request: /test is served", async () => {
    const t = await TesseractClient.fromImage(image, { labels, debug: true });
    try {
      assert.ok((await t.availableEndpoints()).includes("test"));
    } finally {
      await t.close();
    }
  });

  it("`await using` removes the container at scope exit", async () => {
    let id = "";
    {
      await using t = await TesseractClient.fromImage(image, { labels });
      id = t.containerId;
      assert.equal(await exists(id), true);
    }
    assert.equal(await exists(id), false);
  });

  it("a server that cannot start: a clear error with its log, nothing left behind", async () => {
    await assert.rejects(
      TesseractClient.fromImage(image, {
        labels,
        environment: { TESSERACT_API_PATH: "/nonexistent/tesseract_api.py" },
        startupTimeoutMs: 20_000,
      }),
      /fromImage: hello:pt-service-fixture (exited|did not answer)/,
    );
    assert.deepEqual(await docker.listContainers({ label: [`pulumi-tesseract.test=${RUN_ID}`] }, true), []);
  });

  it("a missing image: a clear error, nothing left behind", async () => {
    await assert.rejects(TesseractClient.fromImage(`pt-missing-${RUN_ID}:x`, { labels }), /never pulled/);
    assert.deepEqual(await docker.listContainers({ label: [`pulumi-tesseract.test=${RUN_ID}`] }, true), []);
  });
});

describe("getTesseractImages", { timeout: 120_000 }, () => {
  it("lists the fixture with name, version, tags and endpoints", async () => {
    const images = await getTesseractImages();
    const hello = images.find((i) => i.tags.includes(image));
    assert.ok(hello, `no ${image} in ${JSON.stringify(images.map((i) => i.tags))}`);
    assert.equal(hello.name, "hello");
    assert.equal(hello.version, "0.1.0");
    assert.equal(hello.description, "Greets whoever it is given.");
    assert.equal(hello.managed, true);
    // the fixture may predate the endpoints label; when present it lists what tesseract_api.py defines
    if (hello.endpoints) assert.deepEqual(hello.endpoints, ["apply"]);
    // not a Tesseract: never listed
    assert.ok(!images.some((i) => i.tags.includes("debian:bookworm-slim")));
  });
});
