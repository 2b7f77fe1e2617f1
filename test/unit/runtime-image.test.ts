/**
 * The shared runtime base image (`pulumi-tesseract-runtime:<hash16>`) on the in-memory engine:
 * its identity, one build for concurrent TesseractImages of one run, holder tags per resource, and
 * removal with the last holder (also across stacks), after a failed build and outside a stack.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { buildTesseractImage, releasePreviousBuild, removeTesseractImage } from "../../provider/build/image";
import { prepareBuild } from "../../provider/build/prepare";
import { isRuntimeHolderTag, RUNTIME_LABEL, runtimeHolderTagFor } from "../../provider/build/runtime-image";
import { inResource } from "../../provider/common/resource-context";
import { DockerBuildError } from "../../provider/docker/errors";
import { FakeEngine } from "../helpers/fake-engine";
import { REPO_ROOT } from "../helpers/stack";

const HELLO = path.join(REPO_ROOT, "examples/tesseracts/hello");
const VECTORADD = path.join(REPO_ROOT, "examples/tesseracts/vectoradd");
const urn = (stack: string, name: string) =>
  `urn:pulumi:${stack}::proj::pulumi-nodejs:dynamic/tesseract:TesseractImage::${name}`;
const tmp = mkdtempSync(path.join(tmpdir(), "pt-runtime-image-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CA = `-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n`;

describe("identity", () => {
  const runtimeOf = (src: string, extra: object = {}) => prepareBuild({ srcDir: src, ...extra }).runtime;

  test("the same for Tesseracts that differ only in sources and requirements", () => {
    const a = runtimeOf(HELLO);
    const b = runtimeOf(VECTORADD);
    assert.ok(a && b);
    assert.match(a.image, /^pulumi-tesseract-runtime:[0-9a-f]{16}$/);
    assert.equal(a.hash, b.hash);
    const df = prepareBuild({ srcDir: VECTORADD }).context.dockerfile;
    assert.match(df, new RegExp(`^FROM ${a.image} AS build_stage$`, "m"), "the build stage starts from it");
    assert.doesNotMatch(df, /python3 -m venv/, "the venv comes from the runtime image");
    assert.match(df, /^FROM debian:bookworm-slim AS run_stage$/m, "the run stage still starts from the base image");
    assert.match(df, /^COPY --from=build_stage \/python-env \/python-env$/m);
  });

  test("changes with runtime version, installer, CA certificates, index URLs, platform and base image", () => {
    const base = runtimeOf(HELLO)!.hash;
    const variants = [
      { runtimeVersion: "1.14.0" },
      { installer: "uv" as const },
      { caCertificates: CA },
      { pipIndexUrl: "https://mirror.example/simple" },
      { pipExtraIndexUrls: ["https://extra.example/simple"] },
      { platform: "linux/arm64" },
      { configOverride: { "build_config.base_image": "python:3.12-slim" } },
    ];
    const hashes = variants.map((v) => runtimeOf(HELLO, v)?.hash);
    for (const [k, h] of hashes.entries()) assert.ok(h && h !== base, JSON.stringify(variants[k]));
    assert.equal(new Set(hashes).size, hashes.length);
    assert.equal(runtimeOf(HELLO, { noCache: true, keepBuildCache: false, buildNetwork: "host" })!.hash, base);
  });

  test("none when an index URL carries credentials (the build installs the runtime itself)", () => {
    for (const opts of [
      { pipIndexUrl: "https://user:tok@private.example/simple" },
      { pipExtraIndexUrls: ["https://pypi.org/simple", "https://tok@private.example/simple"] },
    ]) {
      const p = prepareBuild({ srcDir: HELLO, ...opts });
      assert.equal(p.runtime, undefined);
      assert.match(p.context.dockerfile, /^FROM debian:bookworm-slim AS build_stage$/m);
      assert.match(p.context.dockerfile, /python3 -m venv \/python-env/);
      assert.ok(!p.context.entries.some((e) => e.name === "runtime.Dockerfile"));
    }
  });

  test("the runtime Dockerfile is in the context (its hash covers it) and holds no index value", () => {
    const p = prepareBuild({ srcDir: HELLO, pipIndexUrl: "https://mirror.example/simple", caCertificates: CA });
    const entry = p.context.entries.find((e) => e.name === "runtime.Dockerfile");
    assert.equal(entry?.data?.toString(), p.runtime?.dockerfile);
    assert.match(p.runtime!.dockerfile, /^ARG PIP_INDEX_URL$/m);
    assert.doesNotMatch(p.runtime!.dockerfile, /mirror\.example/);
    assert.deepEqual(p.runtime!.buildArgs, { PIP_INDEX_URL: "https://mirror.example/simple" });
    assert.ok(p.runtime!.context.entries.some((e) => e.name === "ca-certificates/pulumi-tesseract-00.crt"));
  });
});

describe("building and holding", () => {
  let engine: FakeEngine;
  const opts = { onLine: () => {}, onProgress: () => {} };
  const copies: string[] = [];
  beforeEach(() => {
    engine = new FakeEngine();
    const base = engine.addImage(["debian:bookworm-slim"], { tesseract: false });
    engine.buildLog = [
      "Step 1/4 : FROM pulumi-tesseract-runtime:x AS build_stage",
      " ---> {runtime}",
      "Step 2/4 : RUN pip install -r tesseract_requirements.txt",
      " ---> {new}",
      "Step 3/4 : FROM debian:bookworm-slim AS run_stage",
      ` ---> ${base.slice(7, 19)}`,
      "Step 4/4 : COPY --from=build_stage /python-env /python-env",
      " ---> {new}",
    ];
  });
  const tesseract = (name: string) => {
    const dir = path.join(tmp, `${name}-${copies.length}`);
    cpSync(HELLO, dir, { recursive: true });
    copies.push(dir);
    return dir;
  };
  const runtimeImages = () => [...engine.images.values()].filter((i) => i.labels?.[RUNTIME_LABEL]);
  const holders = () => runtimeImages().flatMap((i) => [...i.tags].filter(isRuntimeHolderTag));

  test("four Tesseracts built at once in one run install the runtime once, each holding it", async () => {
    const names = ["t1", "t2", "t3", "t4"];
    const built = await Promise.all(
      names.map((n) =>
        inResource(urn("dev", n), () =>
          buildTesseractImage(tesseract(n), { ...opts, tag: n, configOverride: { name: n } }, engine),
        ),
      ),
    );
    assert.equal(engine.runtimeBuilds, 1, "one runtime build for the four");
    assert.equal(runtimeImages().length, 1);
    assert.equal(holders().length, 4, "one runtime holder tag per resource");
    assert.deepEqual(
      holders().sort(),
      built.map((b) => runtimeHolderTagFor(b.holderTag)).sort(),
      "derived from each image holder tag",
    );
    // a later build in the same run finds it by its tag
    await inResource(urn("dev", "t5"), () =>
      buildTesseractImage(tesseract("t5"), { ...opts, tag: "t5", configOverride: { name: "t5" } }, engine),
    );
    assert.equal(engine.runtimeBuilds, 1);

    for (const b of built) await removeTesseractImage(b, [], engine);
    assert.equal(runtimeImages().length, 1, "the fifth resource still holds it");
    assert.equal(holders().length, 1);
  });

  test("deleting the last holder removes it; another stack's image keeps it until then", async () => {
    const src = tesseract("hello");
    const a = await inResource(urn("dev", "hello"), () => buildTesseractImage(src, { ...opts, tag: "x" }, engine));
    const b = await inResource(urn("prod", "hello"), () =>
      buildTesseractImage(src, { ...opts, tag: "y", configOverride: { name: "hello2" } }, engine),
    );
    assert.equal(engine.runtimeBuilds, 1);
    assert.ok(a.cacheTag && b.cacheTag, "the build stages are kept (they are the runtime's children)");
    await removeTesseractImage(a, [], engine);
    assert.equal(runtimeImages().length, 1, "stack prod still holds the runtime");
    assert.ok(await engine.inspectImage([...runtimeImages()[0].tags].find((t) => !isRuntimeHolderTag(t)) ?? "-"));
    await removeTesseractImage(b, [], engine);
    assert.equal(runtimeImages().length, 0, "the last destroy removes it");
    assert.deepEqual(
      [...engine.images.values()].map((i) => [...i.tags]),
      [["debian:bookworm-slim"]],
      "nothing but the base image is left",
    );
  });

  test("keepBuildCache: false keeps the runtime while the resource holds it, and delete removes it", async () => {
    const built = await inResource(urn("dev", "hello"), () =>
      buildTesseractImage(tesseract("hello"), { ...opts, tag: "k", keepBuildCache: false }, engine),
    );
    assert.equal(built.cacheTag, undefined);
    assert.equal(runtimeImages().length, 1);
    await removeTesseractImage(built, [], engine);
    assert.equal(runtimeImages().length, 0);
  });

  test("a rebuild on a new runtime releases the old one", async () => {
    const src = tesseract("hello");
    const old = await inResource(urn("dev", "hello"), () => buildTesseractImage(src, { ...opts, tag: "r" }, engine));
    const oldRuntime = runtimeImages()[0].Id;
    const built = await inResource(urn("dev", "hello"), () =>
      buildTesseractImage(src, { ...opts, tag: "r", runtimeVersion: "1.14.0" }, engine),
    );
    await releasePreviousBuild(old, built, engine, engine);
    assert.equal(engine.runtimeBuilds, 2);
    assert.equal(engine.images.get(oldRuntime), undefined, "the old runtime went with the old build stage");
    assert.equal(runtimeImages().length, 1);
    assert.deepEqual(holders(), [runtimeHolderTagFor(built.holderTag)], "the holder tag moved");
  });

  test("noCache: the noCache builds of one run share one runtime rebuild", async () => {
    const src = tesseract("hello");
    await inResource(urn("dev", "hello"), () => buildTesseractImage(src, { ...opts, tag: "n" }, engine));
    const many = ["a", "b", "c"].map((n) =>
      inResource(urn("dev", n), () =>
        buildTesseractImage(tesseract(n), { ...opts, tag: n, noCache: true, configOverride: { name: n } }, engine),
      ),
    );
    await Promise.all(many);
    const runtimeBuilds = engine.calls.filter((c) => c.startsWith("build-runtime"));
    assert.equal(runtimeBuilds.length, 2, runtimeBuilds.join("\n"));
    assert.match(runtimeBuilds[1], / noCache$/);
  });

  test("a held runtime whose tag a noCache build took is tagged again, not built again", async () => {
    // (noCache rebuilds a runtime once per process and engine: an engine this process has not seen)
    engine.host = "unix:///fake/retag.sock";
    const kept = await inResource(urn("dev", "a"), () =>
      buildTesseractImage(tesseract("a"), { ...opts, tag: "a" }, engine),
    );
    const held = runtimeImages()[0].Id;
    // another stack builds with noCache: a fresh runtime takes the tag, then goes with its holder
    const fresh = await inResource(urn("prod", "b"), () =>
      buildTesseractImage(tesseract("b"), { ...opts, tag: "b", noCache: true, configOverride: { name: "b" } }, engine),
    );
    assert.equal(engine.runtimeBuilds, 2);
    await removeTesseractImage(fresh, [], engine);
    assert.deepEqual(
      runtimeImages().map((i) => i.Id),
      [held],
      "only the runtime stack dev holds is left, without its runtime tag",
    );
    // a third stack's build finds it by its hash and holder, tags it again and builds no runtime
    await inResource(urn("qa", "c"), () =>
      buildTesseractImage(tesseract("c"), { ...opts, tag: "c", configOverride: { name: "c" } }, engine),
    );
    assert.equal(engine.runtimeBuilds, 2, "no third runtime build");
    assert.ok([...(engine.images.get(held)?.tags ?? [])].some((t) => t.startsWith("pulumi-tesseract-runtime:")));
    assert.equal(holders().length, 2, "held by dev and qa");
    await removeTesseractImage(kept, [], engine);
  });

  test("a failed runtime build fails every waiting build, holds nothing, and the next one tries again", async () => {
    engine.runtimeBuildFailure = new DockerBuildError("pip install failed", "Step 5/5 : RUN pip install x", ["log"]);
    const results = await Promise.allSettled(
      ["a", "b"].map((n) =>
        inResource(urn("dev", n), () =>
          buildTesseractImage(tesseract(n), { ...opts, tag: n, configOverride: { name: n } }, engine),
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    assert.equal(engine.runtimeBuilds, 1);
    assert.equal(holders().length, 0);
    await inResource(urn("dev", "a"), () =>
      buildTesseractImage(tesseract("a"), { ...opts, tag: "a", configOverride: { name: "a" } }, engine),
    );
    assert.equal(engine.runtimeBuilds, 2);
  });

  test("a failed Tesseract build drops its hold: the runtime goes when no one else holds it", async () => {
    engine.buildLog = ["Step 1/1 : FROM pulumi-tesseract-runtime:x AS build_stage"]; // names no image: fails
    await assert.rejects(
      inResource(urn("dev", "hello"), () => buildTesseractImage(tesseract("hello"), { ...opts, tag: "f" }, engine)),
    );
    assert.equal(holders().length, 0);
    assert.equal(runtimeImages().length, 0);
  });

  test("outside a stack the runtime goes with the build, unless a resource holds it", async () => {
    const lib = await buildTesseractImage(tesseract("lib"), { ...opts, tag: "lib" }, engine);
    assert.equal(engine.runtimeBuilds, 1);
    assert.equal(
      (await engine.listImages({ label: [RUNTIME_LABEL] })).filter((i) => i.RepoTags?.length).length,
      0,
      "no runtime tag left",
    );
    assert.ok(lib.cacheTag);
    await removeTesseractImage(lib, [], engine);
    assert.equal(runtimeImages().length, 0, "pruned with the build stage");

    await inResource(urn("dev", "held"), () => buildTesseractImage(tesseract("held"), { ...opts, tag: "h" }, engine));
    await buildTesseractImage(tesseract("lib"), { ...opts, tag: "lib2" }, engine);
    assert.equal(holders().length, 1);
    assert.equal(runtimeImages().length, 1, "held by the resource, it stays");
  });
});
