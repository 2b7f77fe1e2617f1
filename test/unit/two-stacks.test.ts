/**
 * What keeps two stacks on one engine and one home folder apart, on an in-memory engine and temp
 * folders: the resource scope from the URN (hidden input / plugin request), holder tags on shared
 * images, per-stack task folders, and the service's own output folder.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { holderTagFor, holdImage } from "../../provider/build/holders";
import { buildTesseractImage, removeTesseractImage } from "../../provider/build/image";
import type { TesseractImageOutputs } from "../../provider/build/inputs";
import { Progress } from "../../provider/common/log";
import {
  currentResource,
  inResource,
  keepUrn,
  parseResourceUrn,
  takeUrn,
} from "../../provider/common/resource-context";
import { defaultTasksDir, deleteLocal } from "../../provider/fractal/local";
import { createOutputDir, removeCreatedOutputDir } from "../../provider/serve/output-dir";
import { FakeEngine } from "../helpers/fake-engine";
import { REPO_ROOT } from "../helpers/stack";

const URN_A = "urn:pulumi:dev::proj::pulumi-nodejs:dynamic/tesseract:TesseractImage::hello";
const URN_B = "urn:pulumi:test::proj::pulumi-nodejs:dynamic/tesseract:TesseractImage::hello";
const HELLO = path.join(REPO_ROOT, "examples/tesseracts/hello");
const tmp = mkdtempSync(path.join(tmpdir(), "pt-two-stacks-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("resource scope", () => {
  test("parses a URN, also under a parent", () => {
    assert.deepEqual(parseResourceUrn("urn:pulumi:st::pr::my:comp:C$pulumi-nodejs:dynamic/fractal:TaskGroup::t::x"), {
      urn: "urn:pulumi:st::pr::my:comp:C$pulumi-nodejs:dynamic/fractal:TaskGroup::t::x",
      stack: "st",
      project: "pr",
      type: "pulumi-nodejs:dynamic/fractal:TaskGroup",
      name: "t::x",
    });
    assert.equal(parseResourceUrn("not-a-urn"), undefined);
    assert.equal(parseResourceUrn(undefined), undefined);
  });

  test("the hidden input is taken off and put back; the scope lasts through async work", async () => {
    const { urn, inputs } = takeUrn({ srcDir: "/x", __urn: URN_A });
    assert.equal(urn, URN_A);
    assert.deepEqual(inputs, { srcDir: "/x" });
    assert.deepEqual(keepUrn(inputs, urn), { srcDir: "/x", __urn: URN_A });
    const plain = { srcDir: "/y" };
    assert.equal(takeUrn(plain).inputs, plain, "no copy without the hidden input");
    const seen = await inResource(URN_A, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return currentResource()?.stack;
    });
    assert.equal(seen, "dev");
    assert.equal(currentResource(), undefined);
  });

  test("progress lines go to the sink, secrets redacted, whatever their kind", () => {
    const lines: string[] = [];
    const p = new Progress("TesseractImage x", ["s3cr3t-token"], (l) => lines.push(l));
    p.info("step with s3cr3t-token");
    p.summary("done");
    p.warn("careful");
    assert.deepEqual(lines, [
      "TesseractImage x: step with [secret]",
      "TesseractImage x: done",
      "TesseractImage x: careful",
    ]);
  });
});

describe("images two stacks share", () => {
  let engine: FakeEngine;
  beforeEach(() => {
    engine = new FakeEngine();
  });
  const outs = (imageId: string, holderTag?: string): TesseractImageOutputs => ({
    imageId,
    imageName: "hello:1.0",
    tags: ["hello:1.0", "hello:latest"],
    name: "hello",
    version: "1.0",
    contextHash: "c".repeat(64),
    endpoints: ["apply"],
    srcDir: "/src",
    cacheTag: "pulumi-tesseract-cache/hello:cccccccccccccccc",
    ...(holderTag ? { holderTag } : {}),
  });

  test("holder tags differ per stack and are only made inside a resource scope", () => {
    const a = holderTagFor("hello", URN_A);
    const b = holderTagFor("hello", URN_B);
    assert.match(a ?? "", /^pulumi-tesseract-holder\/hello:[0-9a-f]{16}$/);
    assert.notEqual(a, b);
    assert.equal(holderTagFor("hello"), undefined);
    assert.equal(
      inResource(URN_A, () => holderTagFor("hello")),
      a,
    );
  });

  test("destroying one stack keeps what the other holds; the last one removes everything", async () => {
    const id = engine.addImage(["hello:1.0", "hello:latest"]);
    engine.addImage(["pulumi-tesseract-cache/hello:cccccccccccccccc"]);
    const a = await holdImage(engine, id, holderTagFor("hello", URN_A));
    const b = await holdImage(engine, id, holderTagFor("hello", URN_B));
    await removeTesseractImage(outs(id, a), [], engine);
    const left = [...(engine.images.get(id)?.tags ?? [])].sort();
    assert.deepEqual(left, ["hello:1.0", "hello:latest", b].sort(), "only A's holder tag went");
    assert.equal(engine.images.size, 2, "the cache image stays for B");
    await removeTesseractImage(outs(id, b), [], engine);
    assert.equal(engine.images.size, 0, "B, the last holder, removes image and cache");
  });

  test("the second stack's build takes the image the first one built (same identity): no build", async () => {
    const base = engine.addImage(["debian:bookworm-slim"], { tesseract: false });
    engine.buildLog = [
      "Step 1/4 : FROM debian:bookworm-slim AS build_stage",
      ` ---> ${base.slice(7, 19)}`,
      "Step 2/4 : RUN pip install tesseract-core[runtime]",
      " ---> 111111111111",
      "Step 3/4 : FROM debian:bookworm-slim AS run_stage",
      ` ---> ${base.slice(7, 19)}`,
      "Step 4/4 : COPY --from=build_stage /python-env /python-env",
      " ---> 222222222222",
    ];
    const opts = { tag: "two", onLine: () => {}, onProgress: () => {} };
    const a = await inResource(URN_A, () => buildTesseractImage(HELLO, opts, engine));
    const lines: string[] = [];
    const b = await inResource(URN_B, () =>
      buildTesseractImage(HELLO, { ...opts, onProgress: (l) => lines.push(l) }, engine),
    );
    assert.equal(engine.calls.filter((c) => c.startsWith("build ")).length, 1, "B built nothing");
    assert.equal(b.imageId, a.imageId);
    assert.equal(b.cacheTag, a.cacheTag, "B records the kept build stage too");
    assert.match(lines.join("\n"), /reused [0-9a-f]{12}, built earlier on this engine/);
    const held = [...(engine.images.get(a.imageId)?.tags ?? [])];
    assert.ok(held.includes(a.holderTag as string) && held.includes(b.holderTag as string), held.join(","));

    await removeTesseractImage(a, [], engine);
    assert.ok(engine.images.has(a.imageId), "A's destroy leaves B's image");
    assert.ok(await engine.inspectImage(a.cacheTag as string), "and its build stage");
    await removeTesseractImage(b, [], engine);
    assert.equal(engine.images.get(a.imageId), undefined, "B's destroy removes the image");
    assert.equal(await engine.inspectImage(a.cacheTag as string), undefined, "and the build stage");

    const again = await inResource(URN_B, () => buildTesseractImage(HELLO, { ...opts, noCache: true }, engine));
    assert.equal(engine.calls.filter((c) => c.startsWith("build ")).length, 2, "noCache builds again");
    assert.ok(again.imageId);
  });

  test("outside a stack (no holder tag to keep it by) nothing is reused", async () => {
    engine.addImage(["debian:bookworm-slim"], { tesseract: false });
    engine.buildLog = ["Step 1/1 : FROM debian:bookworm-slim", " ---> 333333333333"];
    const opts = { tag: "lib", onLine: () => {}, onProgress: () => {} };
    await buildTesseractImage(HELLO, opts, engine);
    await buildTesseractImage(HELLO, opts, engine);
    assert.equal(engine.calls.filter((c) => c.startsWith("build ")).length, 2);
  });

  test("a resource from before holder tags still leaves another stack's image alone", async () => {
    const id = engine.addImage(["hello:1.0", "hello:latest"]);
    const b = await holdImage(engine, id, holderTagFor("hello", URN_B));
    await removeTesseractImage(outs(id), [], engine);
    assert.deepEqual([...(engine.images.get(id)?.tags ?? [])].sort(), ["hello:1.0", "hello:latest", b].sort());
  });
});

describe("task folders per stack", () => {
  test("the default is <base>/<project>/<stack>, the base outside a run", () => {
    const old = process.env.PULUMI_TESSERACT_TASKS_DIR;
    process.env.PULUMI_TESSERACT_TASKS_DIR = path.join(tmp, "tasks");
    try {
      assert.equal(defaultTasksDir(), path.join(tmp, "tasks"));
      assert.equal(
        inResource(URN_A, () => defaultTasksDir()),
        path.join(tmp, "tasks", "proj", "dev"),
      );
      assert.equal(defaultTasksDir({ project: "p/q", stack: ".." }), path.join(tmp, "tasks", "p_q", "_.."));
    } finally {
      if (old === undefined) delete process.env.PULUMI_TESSERACT_TASKS_DIR;
      else process.env.PULUMI_TESSERACT_TASKS_DIR = old;
    }
  });

  test("delete removes the group and the empty stack and project folders, never the base", async () => {
    const old = process.env.PULUMI_TESSERACT_TASKS_DIR;
    const base = path.join(tmp, "tasks2");
    process.env.PULUMI_TESSERACT_TASKS_DIR = base;
    try {
      const dev = path.join(base, "proj", "dev", "pkg", "1.0");
      const test2 = path.join(base, "proj", "test", "pkg", "1.0");
      mkdirSync(path.join(dev, "venv"), { recursive: true });
      mkdirSync(test2, { recursive: true });
      await deleteLocal({ path: dev, origin: undefined } as never);
      assert.equal(existsSync(path.join(base, "proj", "dev")), false);
      assert.equal(existsSync(test2), true, "the other stack's group stays");
      await deleteLocal({ path: test2, origin: undefined } as never);
      assert.equal(existsSync(path.join(base, "proj")), false);
      assert.equal(existsSync(base), true);
    } finally {
      if (old === undefined) delete process.env.PULUMI_TESSERACT_TASKS_DIR;
      else process.env.PULUMI_TESSERACT_TASKS_DIR = old;
    }
  });
});

describe("the service's output folder", () => {
  const quiet = new Progress("TesseractService t", [], () => undefined);

  test("created folders go with the runtime's run_* records; a user's file keeps them", async () => {
    const engine = new FakeEngine();
    const root = path.join(tmp, "example");
    mkdirSync(root);
    const out = path.join(root, "outputs", "dev", "hello");
    const created = createOutputDir(out);
    assert.equal(created, path.join(root, "outputs"));
    assert.equal(createOutputDir(out), undefined, "an existing folder is not ours");
    mkdirSync(path.join(out, "run_abc", "logs"), { recursive: true });
    writeFileSync(path.join(out, "run_abc", "logs", "tesseract.log"), "x");
    await removeCreatedOutputDir(engine, created as string, out, quiet);
    assert.equal(existsSync(path.join(root, "outputs")), false);
    assert.equal(existsSync(root), true);

    const again = createOutputDir(out) as string;
    writeFileSync(path.join(out, "mine.txt"), "user data");
    const lines: string[] = [];
    await removeCreatedOutputDir(engine, again, out, new Progress("s", [], (l) => lines.push(l)));
    assert.equal(existsSync(path.join(out, "mine.txt")), true);
    assert.match(lines.join("\n"), /left the output folder .*mine\.txt/);
  });

  test("another stack's folder under the same created parent stays", async () => {
    const engine = new FakeEngine();
    const root = path.join(tmp, "example2");
    mkdirSync(root);
    const dev = path.join(root, "outputs", "dev", "hello");
    const createdDev = createOutputDir(dev) as string;
    const other = path.join(root, "outputs", "test", "hello");
    const createdOther = createOutputDir(other) as string;
    assert.equal(createdOther, path.join(root, "outputs", "test"));
    await removeCreatedOutputDir(engine, createdDev, dev, quiet);
    assert.equal(existsSync(other), true);
    assert.equal(existsSync(path.join(root, "outputs", "dev")), false);
    await removeCreatedOutputDir(engine, createdOther, other, quiet);
    assert.equal(existsSync(path.join(root, "outputs", "test")), false);
  });
});
