/**
 * `installer: "uv"`: the build stage takes uv from the package index (`pip install uv`), installs the
 * runtime and the requirements with `uv pip install`, and the image works: examples/tesseracts/
 * vectoradd (numpy from the index) built with uv answers `apply` through runTesseract. Its
 * /python-env still has pip (custom_build_steps such as `RUN pip install …` need it) and uv itself
 * stayed in the build stage.
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
    if (built.cacheTag) cacheTags.push(built.cacheTag);
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

    // pip in the venv, no uv anywhere in the image: one shell in a container removed right after
    const id = await docker.createContainer(`uv-probe-${RUN_ID}`, {
      Image: built.imageName,
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["/python-env/bin/python -m pip --version && ! command -v uv && ! test -e /opt/uv && echo probe-ok"],
      Labels: { "pulumi-tesseract.test": RUN_ID },
      AttachStdout: true,
      AttachStderr: true,
    });
    try {
      await docker.startContainer(id);
      const code = await docker.waitContainer(id);
      const logs = await docker.containerLogs(id);
      assert.equal(code, 0, logs);
      assert.match(logs, /pip \d+.*python-env/);
      assert.match(logs, /probe-ok/);
    } finally {
      await docker.removeContainer(id);
    }
  });
});
