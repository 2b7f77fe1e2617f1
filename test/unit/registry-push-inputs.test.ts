/**
 * TesseractImage's `push` input is validated at preview (before any build), never echoing the
 * password; the push target helpers. Pushing itself: test/integration/registry-push.test.ts.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { pushTarget, recordedPush } from "../../provider/build/push";
import * as impl from "../../provider/resources/tesseract-image-impl";

const srcDir = path.join(__dirname, "../../examples/tesseracts/hello");

async function failures(push: unknown): Promise<string[]> {
  const res = await impl.check({} as never, { srcDir, push } as never);
  return (res.failures ?? []).map((f) => `${f.property}: ${f.reason}`);
}

describe("push input", () => {
  test("a valid push passes check", async () => {
    assert.deepEqual(await failures({ registry: "127.0.0.1:5000", repository: "team/hello" }), []);
    assert.deepEqual(
      await failures({ registry: "ghcr.io", repository: "a/b-c/d", tag: "1.0", username: "u", password: "p" }),
      [],
    );
  });

  test("bad registry, repository, tag and half credentials fail at preview, naming the field", async () => {
    assert.match(
      (await failures({ registry: "https://ghcr.io", repository: "a" })).join("\n"),
      /push\.registry.*no scheme/,
    );
    assert.match(
      (await failures({ registry: "ghcr.io", repository: "Team/Hello" })).join("\n"),
      /push\.repository.*lowercase/,
    );
    assert.match((await failures({ registry: "ghcr.io", repository: "a", tag: "-x" })).join("\n"), /push\.tag/);
    assert.match(
      (await failures({ registry: "ghcr.io", repository: "a", username: "u" })).join("\n"),
      /both username and password/,
    );
  });

  test("the password never appears in a failure", async () => {
    const f = await failures({ registry: "ghcr.io", repository: "a", username: "u", password: 12345678 });
    assert.ok(f.length > 0);
    assert.ok(!f.join("\n").includes("12345678"), f.join("\n"));
  });

  test("target and recorded push", () => {
    const p = { registry: "r:5000", repository: "t/h", username: "u", password: "secret" };
    assert.deepEqual(pushTarget(p, "0.1.0"), { name: "r:5000/t/h", tag: "0.1.0", reference: "r:5000/t/h:0.1.0" });
    assert.equal(pushTarget({ ...p, tag: "x" }, "0.1.0").reference, "r:5000/t/h:x");
    assert.deepEqual(recordedPush(p), { registry: "r:5000", repository: "t/h", username: "u" });
  });
});
