/**
 * TesseractImage `extraTags`, the input added as one field of the definition
 * (definitions/tesseract-image.ts; DEVELOPING.md "A resource's definition, end to end"): check
 * refuses a bad reference naming the element and the fix, the tags follow the Tesseract's own,
 * and a change is a change of the image (its context hash). The real engine tags and untags in
 * test/integration/tesseract-image.test.ts.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { prepareBuild } from "../../provider/build/prepare";
import * as impl from "../../provider/resources/tesseract-image-impl";
import { REPO_ROOT } from "../helpers/stack";

const HELLO = path.join(REPO_ROOT, "examples/tesseracts/hello");

test("extraTags: bad references fail at check naming the element and the fix", async () => {
  for (const [ref, why] of [
    ["team/hello", /needs a tag \(fix: name:tag/],
    ["Team/Hello:1", /is not a valid Docker repository name \(fix: lowercase/],
    ["team/hello:-x", /must not start with "\." or "-"/],
  ] as const) {
    const res = await impl.check({} as never, { srcDir: HELLO, extraTags: ["ok/fine:1", ref] } as never);
    const failure = (res.failures ?? []).find((f) => f.property.startsWith("extraTags"));
    assert.ok(failure, `${ref}: ${JSON.stringify(res.failures)}`);
    assert.equal(failure.property, "extraTags[1]");
    assert.match(failure.reason, why);
  }
});

test("extraTags come after the Tesseract's own tags, and change the image's identity", () => {
  const plain = prepareBuild({ srcDir: HELLO });
  const tagged = prepareBuild({ srcDir: HELLO, extraTags: ["team/hello:stable", "hello:latest"] });
  assert.deepEqual(tagged.tags, [...plain.tags, "team/hello:stable"], "own tags first, a repeat once");
  assert.notEqual(tagged.contextHash, plain.contextHash);
});
