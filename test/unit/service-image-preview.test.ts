/**
 * During `pulumi preview` of a stack whose TesseractImage is unchanged, the TesseractService's
 * `image` input is known, so the service shows no change. An output missing from a resource's
 * state is unknown during a preview (the Node SDK's rule), and an image without `push` has no
 * `repoDigest` in its state: a reference derived from `repoDigest` made every preview after `up`
 * propose to replace every service (the README quick start's `pulumi preview --expect-no-changes`
 * failed on it).
 */
// unit: own process
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const DIGEST_REF = `127.0.0.1:5000/team/hello@sha256:${"ab".repeat(32)}`;
const registered = new Map<string, Record<string, unknown>>();

pulumi.runtime.setMocks(
  {
    // The state an unchanged TesseractImage has in a preview: what its last `up` stored.
    newResource: (args) => {
      registered.set(args.name, args.inputs);
      if (!args.type.endsWith("TesseractImage")) return { id: `${args.name}-id`, state: args.inputs };
      const state: Record<string, unknown> = { imageName: "built:1.0.0", imageId: "sha256:1" };
      if (args.name === "pushed") state.repoDigest = DIGEST_REF;
      return { id: `${args.name}-id`, state };
    },
    call: () => ({}),
  },
  "image-preview",
  "test",
  true,
);

test("an unchanged TesseractImage gives its service a known image in preview (with and without push)", async () => {
  assert.equal(pulumi.runtime.isDryRun(), true);
  const { TesseractImage, TesseractService } = await import("../../provider");
  const local = new TesseractImage("local", { srcDir: "/src" });
  const pushed = new TesseractImage("pushed", {
    srcDir: "/src",
    push: { registry: "127.0.0.1:5000", repository: "team/hello" },
  });
  new TesseractService("a", { image: local });
  new TesseractService("b", { image: pushed });
  const deadline = Date.now() + 10_000;
  while (!["a", "b"].every((n) => registered.has(n)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(registered.get("a")?.image, "built:1.0.0", "no push: the image name, known");
  assert.equal(registered.get("b")?.image, DIGEST_REF, "push: the digest its state holds");
  // The output itself is not in the state (computed in the program).
  assert.equal(await new Promise((r) => local.servedReference.apply(r)), "built:1.0.0");
});
