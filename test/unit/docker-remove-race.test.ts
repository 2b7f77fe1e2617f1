/**
 * dockerd answers 500 "unrecognized image ID" when images sharing parent layers are removed at the
 * same moment (a stack destroying several TesseractImages in parallel; seen failing a root-stack
 * destroy): `removeImage` retries that answer, and only that one. A fake engine on a unix socket.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { DockerClient } from "../../provider/docker/client";
import { DockerApiError } from "../../provider/docker/errors";

async function fakeEngine(answers: { status: number; message?: string }[]) {
  const dir = mkdtempSync(path.join(tmpdir(), "pt-rm-race-"));
  const socket = path.join(dir, "docker.sock");
  const deletes: string[] = [];
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/_ping")) {
      res.writeHead(200, { "api-version": "1.41" }).end("OK");
      return;
    }
    deletes.push(`${req.method} ${req.url}`);
    const a = answers.shift() ?? { status: 200 };
    res.writeHead(a.status, { "content-type": "application/json" });
    res.end(a.status === 200 ? "[]" : JSON.stringify({ message: a.message }));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const client = new DockerClient({ host: `unix://${socket}` });
  return {
    client,
    deletes,
    close: async () => {
      await client.close();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("a removal raced by a parallel one (500 unrecognized image ID) is retried", async () => {
  const e = await fakeEngine([{ status: 500, message: "unrecognized image ID sha256:5fc72b10a73f" }, { status: 200 }]);
  try {
    assert.equal(await e.client.removeImage("packaged:latest"), true);
    assert.equal(e.deletes.length, 2);
  } finally {
    await e.close();
  }
});

test("other failures are not retried; a race that persists fails after a few tries", async () => {
  const e = await fakeEngine([
    { status: 409, message: "conflict: unable to remove repository reference (must force)" },
    ...Array.from({ length: 5 }, () => ({ status: 500, message: "unrecognized image ID sha256:abc" })),
  ]);
  try {
    await assert.rejects(e.client.removeImage("a:1"), (err) => err instanceof DockerApiError && err.statusCode === 409);
    assert.equal(e.deletes.length, 1);
    await assert.rejects(e.client.removeImage("b:1"), /unrecognized image ID/);
    assert.equal(e.deletes.length, 5);
  } finally {
    await e.close();
  }
});
