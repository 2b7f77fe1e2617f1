/**
 * `keepBuildCache: false` on the real engine: after building examples/tesseracts/hello, no cache
 * tag and no new dangling image of this build is left, the image still runs, and removing it
 * leaves nothing. `noCache` makes every build-stage step new, so there is something to remove even
 * when other builds already cached these layers. The shared engine may be busy with other builds:
 * only images named in this build's log count. The unit side is test/unit/build-keep-cache.test.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { BuildLogTracker } from "../../provider/build/log";
import { DockerClient } from "../../provider/docker";
import { DockerApiError } from "../../provider/docker/errors";
import * as impl from "../../provider/resources/tesseract-image-impl";
import { runTesseract } from "../../provider/run/run-tesseract";
import { cleanupRun, EXAMPLES, hostBuildOptions, removeRunContainers } from "../helpers/tesseract-image";

const run = `kc-${process.pid}`;
const docker = new DockerClient();
process.env.PULUMI_TESSERACT_QUIET = "1";

const danglingIds = async () => new Set((await docker.listImages({ dangling: ["true"] })).map((i) => i.Id));

before(async () => {
  await docker.version();
});
after(async () => {
  await removeRunContainers(docker, run);
  await cleanupRun(docker, run);
  await docker.close();
});

test("keepBuildCache: false leaves no cache tag and no dangling image of the build", { timeout: 900_000 }, async () => {
  const before = await danglingIds();
  const lines: string[] = [];
  const built = await impl.buildTesseractImage(path.join(EXAMPLES, "hello"), {
    ...hostBuildOptions(run),
    tag: run,
    noCache: true,
    keepBuildCache: false,
    onLine: (l) => lines.push(l),
  });
  const tracker = new BuildLogTracker();
  for (const l of lines) tracker.feed(l);
  // every image the log names, as 12-hex short IDs (base, build stage, run stage)
  const logged = new Set(lines.flatMap((l) => /^\s*---> ([0-9a-f]{12})\s*$/.exec(l)?.[1] ?? []));

  assert.equal(built.cacheTag, undefined);
  assert.equal(built.buildStageImageId, undefined);
  assert.ok(tracker.stageImage, "the classic builder reported the build stage");
  assert.ok(tracker.createdBeforeLastStage.length > 3, "noCache: the build stage's steps are this build's");
  for (const id of tracker.createdBeforeLastStage) {
    if (!(await docker.inspectImage(id))) continue;
    // Another build on the shared engine may have continued from it (the classic builder takes the
    // newest cached child of identical first steps, e.g. `USER root` on debian): then it has
    // children, Docker refuses (409) and it goes with them. Anything else left is a leak.
    // (It may also go with them between the two calls: false, already gone.)
    const outcome = await docker.removeImage(id, { noprune: true }).then(
      (removed) => (removed ? "left (removed now)" : "gone"),
      (e: unknown) => (e instanceof DockerApiError && e.statusCode === 409 ? "in use by another build" : String(e)),
    );
    assert.ok(outcome === "gone" || outcome === "in use by another build", `build stage image ${id}: ${outcome}`);
  }
  assert.equal(await docker.inspectImage(`pulumi-tesseract-cache/hello:${built.contextHash.slice(0, 16)}`), undefined);
  const cacheTags = (await docker.listImages({ reference: ["pulumi-tesseract-cache/hello"] })).filter((i) =>
    logged.has(i.Id.slice(7, 19)),
  );
  assert.deepEqual(cacheTags, [], "no pulumi-tesseract-cache tag on an image of this build");
  const newDangling = [...(await danglingIds())].filter((id) => !before.has(id));
  assert.deepEqual(
    newDangling.filter((id) => logged.has(id.slice(7, 19))),
    [],
    "no dangling image of this build",
  );

  // the final image lost nothing it needs: its runtime imports the API and answers
  const labels = { "pulumi-tesseract.test": run };
  const check = await runTesseract({ image: built.imageName, command: "check", labels });
  assert.equal(check.exitCode, 0, check.stderr);
  const applied = await runTesseract({
    image: built.imageName,
    command: "apply",
    args: [JSON.stringify({ inputs: { name: "cache" } })],
    labels,
  });
  assert.deepEqual(JSON.parse(applied.stdout), { greeting: "Hello, cache!" });

  // delete: nothing of the build stage is recorded, so only the image and its own layers go
  await impl.removeTesseractImage(built);
  assert.equal(await docker.inspectImage(built.imageId), undefined);
  assert.deepEqual(await docker.listImages({ label: [`pulumi-tesseract.test=${run}`] }), []);
  const stillNew = [...(await danglingIds())].filter((id) => !before.has(id) && logged.has(id.slice(7, 19)));
  assert.deepEqual(stillNew, [], "no dangling image of this build after the removal");
});

test("keepBuildCache must be a boolean", async () => {
  const res = await impl.check({} as never, { srcDir: path.join(EXAMPLES, "hello"), keepBuildCache: 0 } as never);
  assert.ok(
    res.failures?.some((f) => f.property === "keepBuildCache" && /keepBuildCache: must be true/.test(f.reason)),
    JSON.stringify(res.failures),
  );
});
