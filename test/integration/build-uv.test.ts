/**
 * `installer: "uv"`: the build stage takes uv from the package index (`pip install uv`), installs the
 * runtime and the requirements with `uv pip install`, and the image works: examples/tesseracts/
 * vectoradd (numpy from the index) built with uv answers `apply` through runTesseract.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { buildTesseractImage } from "../../provider/build";
import { DockerClient } from "../../provider/docker";
import { runTesseract } from "../../provider/run/run-tesseract";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";

const RUN_ID = `uv-${process.pid}-${Date.now()}`;
const docker = DockerClient.for();
/** The build stage's cache tag carries no test label: removed by name. */
const cacheTags: string[] = [];

after(async () => {
  await cleanupRun(docker, RUN_ID);
  for (const t of cacheTags) await docker.removeImage(t).catch(() => undefined);
});

describe("TesseractImage installer uv", { timeout: 1_200_000 }, () => {
  it("builds vectoradd with uv pip install, and the image runs", async () => {
    const lines: string[] = [];
    const built = await buildTesseractImage(`${EXAMPLES}/vectoradd`, {
      ...hostBuildOptions(RUN_ID),
      tag: `uv-${RUN_ID}`,
      installer: "uv",
      noCache: true,
      onLine: (l: string) => lines.push(l),
    });
    assert.ok(
      lines.some((l) => /uv pip install/.test(l)),
      "the build ran uv pip install",
    );
    const r = await runTesseract({
      image: built.imageName,
      command: "apply",
      args: [JSON.stringify({ inputs: { a: [1, 2], b: [3, 4], s: 2 } })],
      labels: { "pulumi-tesseract.test": RUN_ID },
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).result.data.buffer ?? JSON.parse(r.stdout).result, [5, 8]);
  });
});
