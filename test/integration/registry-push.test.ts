/**
 * Pushing a built Tesseract image to real registries (Debian's docker-registry 2.8 on 127.0.0.1,
 * started by scripts/kubernetes.sh): TLS from a test CA with htpasswd auth, plain HTTP, and each
 * bad input (refused credentials, unreachable registry, a registry refusing pushes). A failed push
 * keeps the built image and leaves no registry tag behind.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import { pushImage, type RegistryPush } from "../../provider/build/push";
import { UserError } from "../../provider/common/errors";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import {
  type BuiltTesseractImage,
  buildTesseractImage,
  removeTesseractImage,
} from "../../provider/resources/tesseract-image-impl";
import { startTestInfra, type TestInfra } from "../helpers/kubernetes";
import { cleanupRun, EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";

process.env.PULUMI_TESSERACT_QUIET = "1";
const run = `push-${process.pid}`;
const docker = new DockerClient();
const repository = `pt-test/hello-${process.pid}`;
let infra: { env: TestInfra; stop: () => void };
let env: TestInfra;
let built: BuiltTesseractImage;
const lines: string[] = [];
const progress = new Progress("test", []);
// Progress writes nothing while quiet; record what would be shown.
// (steps through `info`, the outcome through `summary`).
progress.info = (m: string) => void lines.push(m);
progress.summary = (m: string) => void lines.push(m);

before(async () => {
  infra = startTestInfra("registry");
  env = infra.env;
  built = await buildTesseractImage(path.join(EXAMPLES, "hello"), {
    ...hostBuildOptions(run),
    tag: `push-${process.pid}`,
    onLine: () => {},
  });
});

after(async () => {
  for (const img of await docker.listImages()) {
    for (const t of img.RepoTags ?? [])
      if (t.includes(`/${repository}:`)) await docker.removeImage(t).catch(() => false);
  }
  if (built) await removeTesseractImage(built).catch(() => undefined);
  await cleanupRun(docker, run);
  await docker.close();
  infra?.stop();
});

/** The manifest digest the registry serves for `repo:tag` (HEAD /v2/<repo>/manifests/<tag>). */
async function registryDigest(registry: string, repo: string, tag: string, tls: boolean): Promise<string | undefined> {
  const headers: Record<string, string> = {
    accept: "application/vnd.docker.distribution.manifest.v2+json",
  };
  if (tls)
    headers.authorization = `Basic ${Buffer.from(`${env.registryUser}:${env.registryPassword}`).toString("base64")}`;
  const dispatcher = new Agent({ connect: tls ? { ca: readFileSync(env.registryCa, "utf8") } : {} });
  try {
    const res = await request(`${tls ? "https" : "http"}://${registry}/v2/${repo}/manifests/${tag}`, {
      method: "HEAD",
      headers,
      dispatcher,
    });
    await res.body.dump();
    return res.statusCode === 200 ? String(res.headers["docker-content-digest"]) : undefined;
  } finally {
    await dispatcher.close();
  }
}

describe("push to a real registry", { concurrency: false }, () => {
  test("TLS + htpasswd: pushes, reports layers, returns the registry's digest", { timeout: 300_000 }, async () => {
    lines.length = 0;
    const push: RegistryPush = {
      registry: env.registryTls,
      repository,
      username: env.registryUser,
      password: env.registryPassword,
    };
    const res = await pushImage(docker, built.imageId, push, "0.1.0", progress);
    assert.match(
      res.repoDigest,
      new RegExp(`^${env.registryTls.replace(/\./g, "\\.")}/${repository}@sha256:[0-9a-f]{64}$`),
    );
    assert.equal(res.reference, `${env.registryTls}/${repository}:0.1.0`);
    const digest = await registryDigest(env.registryTls, repository, "0.1.0", true);
    assert.equal(`${env.registryTls}/${repository}@${digest}`, res.repoDigest, "the registry serves that digest");
    assert.ok(
      lines.some((l) => /^pushing .* as tesseract$/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      // "Layer already exists" or "Mounted from <repo>" when another run or test pushed the same
      // base layers to this registry first.
      lines.some((l) => /^layer [0-9a-f]+: (Pushed|Layer already exists|Mounted from \S+)$/.test(l)),
      `layer progress is reported:\n${lines.join("\n")}`,
    );
    assert.ok(lines.some((l) => /^pushed .*@sha256:/.test(l)));
    assert.ok(!lines.join("\n").includes(env.registryPassword), "the password is never shown");
    const info = await docker.inspectImage(built.imageId);
    assert.ok(info?.RepoDigests?.includes(res.repoDigest), "the engine records the repo digest");
    // A second push of the same image sends no layer again.
    lines.length = 0;
    const again = await pushImage(docker, built.imageId, { ...push, tag: "again" }, "0.1.0", progress);
    assert.equal(again.repoDigest, res.repoDigest);
    assert.ok(!lines.some((l) => /: Pushed$/.test(l)), lines.join("\n"));
  });

  test("plain HTTP registry the engine trusts on 127.0.0.0/8, without credentials", { timeout: 300_000 }, async () => {
    const res = await pushImage(
      docker,
      built.imageId,
      { registry: env.registryHttp, repository, tag: "plain" },
      "x",
      progress,
    );
    const digest = await registryDigest(env.registryHttp, repository, "plain", false);
    assert.equal(res.repoDigest, `${env.registryHttp}/${repository}@${digest}`);
  });

  async function failedPush(push: RegistryPush): Promise<UserError> {
    const err = await pushImage(docker, built.imageId, push, "0.1.0", progress).then(
      () => assert.fail("the push should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UserError, String(err));
    assert.ok(err.message.includes(push.registry), `names the registry: ${err.message}`);
    assert.match(err.message, /The built image is kept locally/);
    assert.ok(await docker.inspectImage(built.imageId), "the built image is kept");
    assert.equal(
      await docker.inspectImage(`${push.registry}/${push.repository}:${push.tag ?? "0.1.0"}`),
      undefined,
      "the registry tag is removed again",
    );
    assert.ok(!err.message.includes(env.registryPassword));
    return err;
  }

  test("refused credentials", { timeout: 120_000 }, async () => {
    const err = await failedPush({
      registry: env.registryTls,
      repository,
      tag: "bad-creds",
      username: env.registryUser,
      password: "not-the-password",
    });
    assert.match(err.message, /credentials of user tesseract were refused/);
    assert.match(err.message, /fix: check push\.username and push\.password/);
  });

  test("no credentials for a registry that requires them", { timeout: 120_000 }, async () => {
    const err = await failedPush({ registry: env.registryTls, repository, tag: "anonymous" });
    assert.match(err.message, /requires credentials/);
  });

  test("unreachable registry", { timeout: 120_000 }, async () => {
    const err = await failedPush({ registry: "127.0.0.1:1", repository, tag: "nowhere" });
    assert.match(err.message, /cannot be reached/);
    assert.match(err.message, /connection refused/);
  });

  test("a registry that refuses pushes (read-only)", { timeout: 120_000 }, async () => {
    const err = await failedPush({ registry: env.registryReadonly, repository, tag: "ro" });
    assert.match(err.message, /refused the push/);
    assert.match(err.message, /405|Method not allowed/i);
  });
});
