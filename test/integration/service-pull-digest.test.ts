/**
 * Build once, push, serve by digest on two Docker engines (issue 25): examples/tesseracts/hello is
 * built once on the shared dockerd, pushed to the TLS + htpasswd test registry, and served by its
 * `registry/repo@sha256:…` digest on (1) the shared dockerd, which has it (no pull), and (2) two
 * private dockerds started here with no image at all, each of which pulls exactly that one image
 * through `X-Registry-Auth`: one build, two pulls. `apply` answers on all three. Refused credentials and an
 * unknown digest fail with ImagePullError naming the input and the fix and leave nothing on the
 * private engine. The private dockerd trusts the registry's CA through
 * /etc/docker/certs.d/<registry>/ca.crt, which scripts/lib/registry.sh installs for the shared one
 * (dockerd reads that folder whatever its data root).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { pushImage } from "../../provider/build/push";
import { UserError } from "../../provider/common/errors";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import { apply } from "../../provider/functions";
import { type BuiltTesseractImage, removeTesseractImage } from "../../provider/resources/tesseract-image-impl";
import * as service from "../../provider/resources/tesseract-service-impl";
import { ImagePullError } from "../../provider/serve/pull";
import { startTestInfra, type TestInfra } from "../helpers/kubernetes";
import { PrivateDockerd } from "../helpers/private-dockerd";
import { buildHelloCopy, cleanupRun } from "../helpers/tesseract-image";

process.env.PULUMI_TESSERACT_QUIET = "1";
const run = `pull-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const repository = `pt-test/pull-${process.pid}`;
const shared = DockerClient.for();
const temp = mkdtempSync("/tmp/pt-pull-");
let infra: { env: TestInfra; stop: () => void } | undefined;
let env: TestInfra;
/** The two private engines (started empty); the first also takes the refusal tests. */
let privates: PrivateDockerd[] = [];
const second = () => privates[0];
let built: BuiltTesseractImage | undefined;
let repoDigest = "";
const created: { id: string; outs: Record<string, unknown> }[] = [];

before(async () => {
  infra = startTestInfra("registry");
  env = infra.env;
  // No base image: the private engine starts empty, so everything it has afterwards was pulled.
  const [a, b, image] = await Promise.all([
    PrivateDockerd.start({ name: "pull", loadBaseImage: false }),
    PrivateDockerd.start({ name: "pull2", loadBaseImage: false }),
    buildHelloCopy(path.join(temp, "hello"), `pull-${process.pid}`, run),
  ]);
  privates = [a, b];
  built = image;
  const pushed = await pushImage(
    shared,
    built.imageId,
    { registry: env.registryTls, repository, username: env.registryUser, password: env.registryPassword },
    "0.1.0",
    new Progress("test", [env.registryPassword]),
  );
  repoDigest = pushed.repoDigest;
});

after(async () => {
  for (const c of created.splice(0)) await service.remove(c.id, c.outs as never).catch(() => undefined);
  await Promise.all(privates.map((p) => p.dispose()));
  for (const img of await shared.listImages()) {
    for (const t of img.RepoTags ?? [])
      if (t.includes(`/${repository}:`)) await shared.removeImage(t).catch(() => false);
  }
  if (built) await removeTesseractImage(built).catch(() => undefined);
  await cleanupRun(shared, run);
  rmSync(temp, { recursive: true, force: true });
  infra?.stop();
});

/** check + create, as the engine runs them; check failures thrown as one error. */
async function serve(raw: Record<string, unknown>) {
  const checked = await service.check({}, { serviceName: `pull-${process.pid}`, labels: LABEL, ...raw });
  if (checked.failures?.length) throw new UserError(checked.failures.map((f) => f.reason).join("\n"));
  const res = await service.create(checked.inputs as Record<string, unknown>);
  created.push({ id: res.id, outs: res.outs as Record<string, unknown> });
  return res;
}

/** Runs fn with the provider's progress lines (stderr, un-quieted) collected. */
async function collectingProgress<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  delete process.env.PULUMI_TESSERACT_QUIET;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), lines };
  } finally {
    process.stderr.write = write;
    process.env.PULUMI_TESSERACT_QUIET = "1";
  }
}

const auth = () => ({ registry: env.registryTls, username: env.registryUser, password: env.registryPassword });

describe("serve a pushed digest on two engines", { concurrency: false }, () => {
  test("the private engine starts empty; refused credentials: ImagePullError on registryAuth", async () => {
    const engine = second().client;
    assert.deepEqual(await engine.listImages(), [], "the private engine has no image before");
    const err = await serve({
      image: repoDigest,
      docker: second().connection,
      registryAuth: { ...auth(), password: "not-the-password" },
    }).catch((e: unknown) => e);
    assert.ok(err instanceof ImagePullError, String(err));
    assert.equal(err.property, "registryAuth");
    assert.match(err.message, /refused the credentials of user tesseract/);
    assert.match(err.message, /fix: check registryAuth\.username and registryAuth\.password/);
    assert.ok(!err.message.includes(env.registryPassword));
    assert.deepEqual(await engine.listImages(), [], "nothing pulled");
    assert.deepEqual(await engine.listContainers({}), [], "nothing created");
  });

  test("an unknown digest: ImagePullError on image, nothing left", async () => {
    const engine = second().client;
    const unknown = `${env.registryTls}/${repository}@sha256:${"0".repeat(64)}`;
    const err = await serve({ image: unknown, docker: second().connection, registryAuth: auth() }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof ImagePullError, String(err));
    assert.equal(err.property, "image");
    assert.match(err.message, /is not in the registry .*: no such manifest/);
    assert.match(err.message, /fix: push the image first/);
    assert.deepEqual(await engine.listImages(), []);
    assert.deepEqual(await engine.listContainers({}), []);
  });

  test("a tag the engine lacks is still never pulled", async () => {
    const err = await serve({
      image: `${env.registryTls}/${repository}:0.1.0`,
      docker: second().connection,
      registryAuth: auth(),
    }).catch((e: unknown) => e);
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, /never pulls images by tag, only pushed digests/);
    assert.deepEqual(await second().client.listImages(), []);
  });

  test("the shared engine serves the digest it built (no pull); apply answers", async () => {
    assert.equal((await shared.inspectImage(repoDigest))?.Id, built!.imageId, "the building engine has the digest");
    const { value: res, lines } = await collectingProgress(() => serve({ image: repoDigest, registryAuth: auth() }));
    assert.ok(!lines.some((l) => /pulling/.test(l)), lines.join("\n"));
    assert.deepEqual(res.outs.imageIds, [built!.imageId]);
    const out = await apply({ url: res.outs.url as string, inputs: { name: "shared" } });
    assert.deepEqual(out.outputs, { greeting: "Hello, shared!" });
  });

  test("both private engines pull exactly that image (one build, two pulls), with progress; apply answers", async () => {
    const { value: served, lines } = await collectingProgress(() =>
      Promise.all(
        privates.map((p) =>
          serve({ image: repoDigest, docker: p.connection, registryAuth: auth(), hostIp: "127.0.0.1" }),
        ),
      ),
    );
    const text = lines.join("\n");
    const escaped = repoDigest.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    for (const [i, p] of privates.entries()) {
      const images = await p.client.listImages();
      assert.equal(
        images.length,
        1,
        `engine ${i + 1}: exactly one image pulled: ${JSON.stringify(images.map((x) => x.RepoDigests))}`,
      );
      assert.equal(
        images[0].Id,
        built!.imageId,
        `engine ${i + 1}: the very image built on the shared engine, not a second build`,
      );
      assert.ok((images[0].RepoDigests ?? []).includes(repoDigest));
      assert.deepEqual(served[i].outs.imageIds, [built!.imageId]);
      assert.match(
        text,
        new RegExp(`pulling ${escaped} on ${p.connection.host?.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} as tesseract`),
      );
      const out = await apply({ url: served[i].outs.url as string, inputs: { name: `private ${i + 1}` } });
      assert.deepEqual(out.outputs, { greeting: `Hello, private ${i + 1}!` });
    }
    assert.equal(text.match(/pulled .*@sha256:[0-9a-f]{64} in [\d.]+ s/g)?.length, 2, "two pulls");
    assert.match(text, /layer [0-9a-f]+: Pull complete/);
    assert.ok(!text.includes(env.registryPassword), "the password is never shown");

    // delete removes the containers and leaves the pulled image (other services may run it).
    for (const [i, p] of privates.entries()) {
      created.splice(
        created.findIndex((c) => c.outs === served[i].outs),
        1,
      );
      await service.remove(served[i].id, served[i].outs as never);
      assert.deepEqual(await p.client.listContainers({}), []);
      assert.equal((await p.client.listImages()).length, 1, "the pulled image stays on the engine");
    }
  });
});
