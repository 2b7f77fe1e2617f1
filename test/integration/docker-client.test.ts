import assert from "node:assert/strict";
import type { Readable } from "node:stream";
import { after, test } from "node:test";
import { pack } from "tar-stream";
import { DockerApiError, DockerBuildError, DockerClient, DockerUnreachableError } from "../../provider/docker";

const run = `dc-${process.pid}`;
const docker = new DockerClient();
const tag = `pulumi-tesseract-test/${run}:1`;

function context(dockerfile: string): Readable {
  const p = pack();
  p.entry({ name: "Dockerfile", mtime: new Date(0) }, dockerfile);
  p.finalize();
  return p as unknown as Readable; // a streamx Readable, which undici streams like Node's
}

after(async () => {
  for (const c of await docker.listContainers({
    label: [`pulumi-tesseract.test=${run}`],
  }))
    await docker.removeContainer(c.Id);
  await docker.removeImage(tag, { force: true });
  await docker.close();
});

test("negotiates the API version", async () => {
  assert.match(await docker.version(), /^1\.\d+$/);
});

test("builds, streams the log, and runs a container whose logs are demultiplexed", async () => {
  const lines: string[] = [];
  const id = await docker.build(
    context(`FROM debian:bookworm-slim\nRUN echo built-ok\nCMD ["sh","-c","echo out; echo err >&2"]\n`),
    { tags: [tag], labels: { "pulumi-tesseract.test": run } },
    (l) => lines.push(l),
  );
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.ok(
    lines.some((l) => l.includes("built-ok")),
    lines.join("\n"),
  );
  const image = await docker.inspectImage(tag);
  assert.equal(image?.Id, id);

  const cid = await docker.createContainer(`${run}-c`, {
    Image: tag,
    Labels: { "pulumi-tesseract.test": run },
  });
  await docker.startContainer(cid);
  const deadline = Date.now() + 20_000;
  while ((await docker.inspectContainer(cid))?.State.Running && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  const logs = await docker.containerLogs(cid);
  assert.match(logs, /out\n/);
  assert.match(logs, /err\n/);
  assert.equal(await docker.removeContainer(cid), true);
  assert.equal(await docker.removeContainer(cid), false);
  assert.equal(await docker.inspectContainer(cid), undefined);
});

test("a failing RUN rejects with the failing step and the log tail", async () => {
  const err = await docker
    .build(context("FROM debian:bookworm-slim\nRUN echo before-fail && exit 3\n"), { tags: [`${tag}-bad`] }, () => {})
    .catch((e) => e);
  assert.ok(err instanceof DockerBuildError, String(err));
  assert.match(err.message, /Step 2\/2 : RUN echo before-fail/);
  assert.match(err.message, /before-fail/);
  assert.match(err.message, /non-zero code: 3/);
});

test("a Dockerfile parse error is a DockerApiError with the engine's message", async () => {
  const err = await docker.build(context("FROMM x\n"), { tags: [`${tag}-parse`] }, () => {}).catch((e) => e);
  assert.ok(err instanceof DockerApiError || err instanceof DockerBuildError, String(err));
  assert.match(err.message, /unknown instruction/i);
});

test("an unreachable engine names the address and the fix", async () => {
  const bad = new DockerClient({ host: "unix:///nonexistent/docker.sock" });
  const err = await bad.version().catch((e) => e);
  assert.ok(err instanceof DockerUnreachableError, String(err));
  assert.match(err.message, /unix:\/\/\/nonexistent\/docker.sock/);
  assert.match(err.message, /docker\.host/);
  await bad.close();
});
