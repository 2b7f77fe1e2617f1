/**
 * `keepBuildCache` on the in-memory engine (test/helpers/fake-engine.ts), which plays back a
 * classic-builder log and applies Docker's removal rules (children, tags, prune/noprune): kept,
 * the build stage image is tagged and recorded; not kept, the build stage's new images go right
 * after the build and nothing of the final image or of the cache of earlier builds does. The real
 * engine runs the same in test/integration/build-keep-cache.test.ts.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { beforeEach, describe, test } from "node:test";
import { buildTesseractImage, removeTesseractImage } from "../../provider/build/image";
import { prepareBuild } from "../../provider/build/prepare";
import { DockerBuildError } from "../../provider/docker/errors";
import * as impl from "../../provider/resources/tesseract-image-impl";
import { FakeEngine } from "../helpers/fake-engine";
import { REPO_ROOT } from "../helpers/stack";

const HELLO = path.join(REPO_ROOT, "examples/tesseracts/hello");
const short = (id: string) => id.slice(7, 19);

let engine: FakeEngine;
let base: string;
let cached: string;

beforeEach(() => {
  engine = new FakeEngine();
  base = engine.addImage(["debian:bookworm-slim"], { tesseract: false });
  // a build-stage layer an earlier build left: this build takes it from the cache
  cached = engine.addImage([], { tesseract: false, parent: base });
  // build stage: FROM, one cached step, two new ones; run stage: FROM, two new ones
  engine.buildLog = [
    "Step 1/8 : FROM debian:bookworm-slim AS build_stage",
    ` ---> ${short(base)}`,
    "Step 2/8 : RUN python3 -m venv /python-env",
    " ---> Using cache",
    ` ---> ${short(cached)}`,
    "Step 3/8 : RUN pip install tesseract-core[runtime]",
    " ---> 111111111111",
    "Step 4/8 : RUN pip install -r tesseract_requirements.txt",
    " ---> 222222222222",
    "Step 5/8 : FROM debian:bookworm-slim AS run_stage",
    ` ---> ${short(base)}`,
    "Step 6/8 : COPY --from=build_stage /python-env /python-env",
    " ---> 333333333333",
    "Step 7/8 : COPY __tesseract_source__/tesseract_api.py /tesseract/",
    " ---> 444444444444",
    "Successfully built 444444444444",
  ];
});

const build = (keepBuildCache?: boolean) =>
  buildTesseractImage(HELLO, { tag: "kc", keepBuildCache, onLine: () => {}, onProgress: () => {} }, engine);
const exists = (shortId: string) => [...engine.images.keys()].some((id) => id.startsWith(`sha256:${shortId}`));

describe("keepBuildCache", () => {
  test("default: the build stage image is tagged and recorded, and goes on delete", async () => {
    const built = await build();
    const hash16 = built.contextHash.slice(0, 16);
    assert.equal(built.cacheTag, `pulumi-tesseract-cache/hello:${hash16}`);
    assert.equal(built.buildStageImageId, "222222222222");
    assert.ok(exists("111111111111") && exists("222222222222"));
    await removeTesseractImage(built, [], engine);
    for (const id of ["111111111111", "222222222222", "333333333333", "444444444444"]) assert.ok(!exists(id), id);
    assert.ok(engine.images.has(base));
  });

  test("false: the build stage's new images go right away, newest first, without pruning", async () => {
    const built = await build(false);
    assert.equal(built.cacheTag, undefined);
    assert.equal(built.buildStageImageId, undefined);
    assert.ok(!exists("111111111111") && !exists("222222222222"), "the build stage's new images are gone");
    assert.ok(engine.images.has(cached), "a layer taken from the cache belongs to an earlier build: noprune keeps it");
    assert.ok(exists("333333333333"), "the final image's parent stays");
    assert.deepEqual([...(engine.images.get(built.imageId)?.tags ?? [])], ["hello:kc"]);
    const removals = engine.calls.filter((c) => c.startsWith("removeImage"));
    // outside a stack the runtime base image goes with the build (no holder keeps it)
    assert.deepEqual(removals, [
      "removeImage 222222222222 noprune",
      "removeImage 111111111111 noprune",
      `removeImage ${built.tags.length ? engine.calls.find((c) => c.startsWith("build-runtime"))?.split(" ")[1] : ""}`,
    ]);
    assert.ok(
      ![...engine.images.values()].some((i) => i.labels?.["pulumi-tesseract.runtime"]),
      "no runtime image left",
    );
    assert.ok(!engine.calls.some((c) => c.startsWith("tagImage")), "nothing is tagged as a cache");
    // delete: the image and its own layers; the cache of earlier builds and the base stay
    await removeTesseractImage(built, [], engine);
    assert.deepEqual([...engine.images.keys()].sort(), [base, cached].sort());
  });

  test("false: a build stage image someone tagged (another resource's cache) stays", async () => {
    const theirs = engine.addImage(["pulumi-tesseract-cache/other:0123456789abcdef"], {
      tesseract: false,
      parent: base,
    });
    // that resource built the same stage: this build takes all of it from the cache
    const log = engine.buildLog ?? [];
    engine.buildLog = [
      ...log.slice(0, 2),
      "Step 2/4 : RUN pip install -r tesseract_requirements.txt",
      " ---> Using cache",
      ` ---> ${short(theirs)}`,
      ...log.slice(9),
    ];
    const built = await build(false);
    assert.deepEqual([...(engine.images.get(theirs)?.tags ?? [])], ["pulumi-tesseract-cache/other:0123456789abcdef"]);
    assert.equal(built.cacheTag, undefined);
  });

  test("is not part of the content hash: changing it alone does not rebuild", async () => {
    const hash = prepareBuild({ srcDir: HELLO }).contextHash;
    assert.equal(prepareBuild({ srcDir: HELLO, keepBuildCache: false }).contextHash, hash);
    const olds = { contextHash: hash, srcDir: HELLO, cacheTag: `pulumi-tesseract-cache/hello:${hash.slice(0, 16)}` };
    const d = await impl.diff("hello", olds as never, { srcDir: HELLO, keepBuildCache: false });
    assert.equal(d.changes, false);
  });

  test("check refuses a non-boolean, naming the field", async () => {
    const res = await impl.check({} as never, { srcDir: HELLO, keepBuildCache: "no" } as never);
    const failure = res.failures?.find((f) => f.property === "keepBuildCache");
    assert.ok(failure, JSON.stringify(res.failures));
    assert.match(failure.reason, /^keepBuildCache: must be true .* or false .*\(got "no"\)$/);
  });
});

describe("upstream's --forward-ssh-agent, spelled injectSsh here", () => {
  const srcDir = path.join(REPO_ROOT, "examples/tesseracts/hello");
  test("forwardSshAgent is refused at check by name, naming injectSsh", async () => {
    const res = await impl.check({} as never, { srcDir, forwardSshAgent: true } as never);
    assert.equal(res.failures?.length, 1);
    assert.equal(res.failures?.[0].property, "forwardSshAgent");
    assert.match(
      res.failures?.[0].reason ?? "",
      /^forwardSshAgent: .*--forward-ssh-agent is the injectSsh input here \(fix: use injectSsh: true\)/,
    );
  });
  test("the library function refuses it before touching an engine", async () => {
    const engine = new FakeEngine();
    await assert.rejects(
      buildTesseractImage(srcDir, { forwardSshAgent: true } as never, engine),
      (err: Error & { property?: string }) => {
        assert.equal(err.name, "TesseractBuildError");
        assert.equal(err.property, "forwardSshAgent");
        return true;
      },
    );
    assert.equal(engine.images.size, 0);
  });
});

describe("a cached layer removed while the build runs", () => {
  for (const [failing, which] of [
    [1, "the runtime base image's build"],
    [2, "the Tesseract's build"],
  ] as const)
    test(`${which} runs once more (nothing of the first attempt is left), then succeeds`, async () => {
      const realBuild = engine.build.bind(engine);
      let attempts = 0;
      engine.build = async (context, params, onLine) => {
        attempts++;
        if (attempts === failing) {
          onLine("Step 1/2 : FROM debian:bookworm-slim");
          onLine(` ---> ${short(base)}`);
          onLine("Step 2/2 : RUN echo first");
          onLine(" ---> 555555555555");
          engine.addImage([], { tesseract: false, parent: base });
          context.resume();
          throw new DockerBuildError(
            "failed to export image: failed to set parent sha256:abc: unknown parent image ID sha256:abc",
            "Step 2/2 : RUN echo first",
            [],
          );
        }
        return realBuild(context, params, onLine);
      };
      const lines: string[] = [];
      const built = await buildTesseractImage(
        HELLO,
        { tag: "race", onLine: () => {}, onProgress: (l) => lines.push(l) },
        engine,
      );
      assert.equal(attempts, 3, "runtime, Tesseract, and the one that ran once more");
      assert.ok(built.imageId);
      assert.match(lines.join("\n"), /removed meanwhile .*building again/);
    });

  test("any other build failure is not retried", async () => {
    let attempts = 0;
    engine.build = async (context) => {
      attempts++;
      context.resume();
      throw new DockerBuildError(
        "The command '/bin/sh -c false' returned a non-zero code: 1",
        "Step 2/2 : RUN false",
        [],
      );
    };
    await assert.rejects(buildTesseractImage(HELLO, { tag: "fail", onLine: () => {}, onProgress: () => {} }, engine));
    assert.equal(attempts, 1);
  });
});
