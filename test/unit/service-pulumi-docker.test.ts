/**
 * TesseractService accepts images and networks managed with @pulumi/docker (an optional peer,
 * recognised by shape, never imported by the library) and TesseractImage. That the built lib/
 * never loads @pulumi/docker is checked in test/integration/built-package.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const DIGEST_REF = `127.0.0.1:5000/team/hello@sha256:${"ab".repeat(32)}`;

test("docker.Network, docker.Image, docker.RemoteImage and TesseractImage resolve to names (a pushed TesseractImage to its digest)", async () => {
  const registered = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.set(args.name, args.inputs);
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/network:Network") state.name = "user-net";
        if (args.type === "docker:index/remoteImage:RemoteImage") state.name = "vendor/tess:1";
        if (args.type === "docker:index/image:Image") state.imageName = "registry.local/pushed:2";
        if (args.type.endsWith("TesseractImage")) state.imageName = "built:1.0.0";
        if (args.type.endsWith("TesseractImage") && args.name === "pushedbuilt") state.repoDigest = DIGEST_REF;
        return { id: `${args.name}-id`, state };
      },
      call: () => ({}),
    },
    "pd",
    "test",
    false,
  );
  const docker = await import("@pulumi/docker");
  const { TesseractImage, TesseractService } = await import("../../provider");
  const net = new docker.Network("net", {});
  const remote = new docker.RemoteImage("remote", { name: "vendor/tess:1", keepLocally: true });
  const built = new TesseractImage("built", { srcDir: "/src" });
  new TesseractService("a", { image: remote, network: net });
  const pushed = new docker.Image("pushed", { imageName: "registry.local/pushed:2", build: { context: "/src" } });
  new TesseractService("b", { image: built });
  new TesseractService("c", { image: pushed, network: "plain-net" });
  // A TesseractImage with `push` is served by its digest (pulled on engines that lack it).
  const pushedBuilt = new TesseractImage("pushedbuilt", {
    srcDir: "/src",
    push: { registry: "127.0.0.1:5000", repository: "team/hello" },
  });
  new TesseractService("d", { image: pushedBuilt, docker: { host: "tcp://127.0.0.1:2376" } });
  const deadline = Date.now() + 10_000;
  while (!["a", "b", "c", "d"].every((n) => registered.has(n)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(registered.get("a")?.image, "vendor/tess:1");
  assert.equal(registered.get("a")?.network, "user-net");
  assert.equal(registered.get("b")?.image, "built:1.0.0");
  assert.equal(registered.get("c")?.image, "registry.local/pushed:2");
  assert.equal(registered.get("c")?.network, "plain-net");
  assert.equal(registered.get("d")?.image, DIGEST_REF);
});
