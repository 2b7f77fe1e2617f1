/**
 * Tag and image removal rules of TesseractImage on an in-memory engine
 * (test/helpers/fake-engine.ts): only tags that still point at our image are ours, an image
 * something else still references stays, the build-stage cache goes with the image. The same
 * rules run against a real dockerd in test/integration/tesseract-image.test.ts.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { beforeEach, describe, test } from "node:test";
import { releasePreviousBuild, removeTesseractImage } from "../../provider/build/image";
import type { TesseractImageOutputs } from "../../provider/build/inputs";
import { BuildLogTracker } from "../../provider/build/log";
import { BUILD_LABEL_KEYS, prepareBuild } from "../../provider/build/prepare";
import { FakeEngine } from "../helpers/fake-engine";
import { REPO_ROOT } from "../helpers/stack";

let engine: FakeEngine;

function outputs(imageId: string, tags: string[], extra: Partial<TesseractImageOutputs> = {}): TesseractImageOutputs {
  return {
    imageId,
    imageName: tags[0],
    tags,
    name: "hello",
    version: "1.0",
    contextHash: "c".repeat(64),
    endpoints: ["apply"],
    srcDir: "/src",
    ...extra,
  };
}

beforeEach(() => {
  engine = new FakeEngine();
});

describe("removing a TesseractImage", () => {
  test("removes our tags and the image", async () => {
    const id = engine.addImage(["hello:1.0", "hello:latest"]);
    await removeTesseractImage(outputs(id, ["hello:1.0", "hello:latest"]), [], engine);
    assert.equal(engine.images.size, 0);
  });

  test("a tag moved to another image is not ours: it stays", async () => {
    const ours = engine.addImage(["hello:1.0", "hello:latest"]);
    const theirs = engine.addImage(["hello:latest"]); // someone rebuilt `latest`
    await removeTesseractImage(outputs(ours, ["hello:1.0", "hello:latest"]), [], engine);
    assert.equal(engine.images.has(ours), false);
    assert.deepEqual([...(engine.images.get(theirs)?.tags ?? [])], ["hello:latest"]);
  });

  test("an image another tag still references stays, without our tags", async () => {
    const id = engine.addImage(["hello:1.0", "mirror/hello:1.0"]);
    await removeTesseractImage(outputs(id, ["hello:1.0"]), [], engine);
    assert.deepEqual([...(engine.images.get(id)?.tags ?? [])], ["mirror/hello:1.0"]);
  });

  test("an image in use by a container stays, with its last tag (Docker's 409 is not an error)", async () => {
    const id = engine.addImage(["hello:1.0", "hello:latest"]);
    await engine.createContainer("user", { Image: id });
    await removeTesseractImage(outputs(id, ["hello:1.0", "hello:latest"]), [], engine);
    assert.ok(engine.images.has(id));
    // Docker drops the other tags but refuses the last reference of an image a container uses.
    assert.deepEqual([...(engine.images.get(id)?.tags ?? [])], ["hello:latest"]);
  });

  test("kept tags stay; the cache tag and an untagged build stage go", async () => {
    const id = engine.addImage(["hello:1.0", "hello:dev"]);
    const stage = engine.addImage(["pulumi-tesseract-cache/hello:abc"]);
    await removeTesseractImage(
      outputs(id, ["hello:1.0", "hello:dev"], {
        cacheTag: "pulumi-tesseract-cache/hello:abc",
        buildStageImageId: stage,
      }),
      ["hello:dev"],
      engine,
    );
    assert.deepEqual([...(engine.images.get(id)?.tags ?? [])], ["hello:dev"]);
    assert.equal(engine.images.has(stage), false);
  });
});

describe("after a rebuild", () => {
  test("same image, fewer tags: only the dropped tag is removed", async () => {
    const id = engine.addImage(["hello:1.0", "hello:latest"]);
    await releasePreviousBuild(outputs(id, ["hello:1.0", "hello:latest"]), outputs(id, ["hello:1.0"]), engine, engine);
    assert.deepEqual([...(engine.images.get(id)?.tags ?? [])], ["hello:1.0"]);
  });

  test("new image: the old image goes, tags the new build holds are kept", async () => {
    const old = engine.addImage(["hello:0.9"]);
    const fresh = engine.addImage(["hello:1.0"]);
    await releasePreviousBuild(outputs(old, ["hello:0.9"]), outputs(fresh, ["hello:1.0"]), engine, engine);
    assert.equal(engine.images.has(old), false);
    assert.ok(engine.images.has(fresh));
  });
});

describe("build log", () => {
  test("tracks created images and the first stage, not cached or base layers", () => {
    const t = new BuildLogTracker();
    for (const line of [
      "Step 1/6 : FROM python:3.12 AS build",
      " ---> aaaaaaaaaaaa",
      "Step 2/6 : RUN pip install x",
      " ---> Using cache",
      " ---> bbbbbbbbbbbb",
      "Step 3/6 : COPY . /src",
      " ---> cccccccccccc",
      "Step 4/6 : FROM python:3.12",
      " ---> dddddddddddd",
      "Step 5/6 : COPY --from=build /src /src",
      " ---> eeeeeeeeeeee",
    ])
      t.feed(line);
    assert.deepEqual(t.created, ["cccccccccccc", "eeeeeeeeeeee"]);
    assert.equal(t.stageImage, "cccccccccccc");
    // keepBuildCache: false removes these: not in the last stage, so no ancestor of the final image
    assert.deepEqual(t.createdBeforeLastStage, ["cccccccccccc"]);
  });
});

describe("build labels", () => {
  test("every label a build sets besides the user's is a BUILD_LABEL_KEYS key (imports tell them apart by it)", () => {
    const prepared = prepareBuild({ srcDir: path.join(REPO_ROOT, "examples/tesseracts/hello"), labels: { team: "a" } });
    const own = Object.keys(prepared.labels).filter((k) => k !== "team");
    assert.ok(own.length >= 3);
    for (const k of own) assert.ok(BUILD_LABEL_KEYS.has(k), `${k} is set by the build but not in BUILD_LABEL_KEYS`);
    assert.equal(BUILD_LABEL_KEYS.has("team"), false);
  });
});
