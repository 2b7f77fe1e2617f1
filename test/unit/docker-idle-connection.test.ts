/**
 * A pooled connection the engine closed while it sat idle: the next request written on it fails
 * (EPIPE, a reset, "other side closed"; seen as `write EPIPE` from inspectImage after a 30-minute
 * `pulumi up` in the examples test). A read is sent again once on a fresh connection; a write is
 * not (the engine may have acted on it) and fails as an unreachable engine, with the address.
 * A fake engine on a unix socket drops the connection of the first request to each path.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { DockerClient } from "../../provider/docker/client";
import { DockerUnreachableError } from "../../provider/docker/errors";

test("a read on a connection the engine closed is sent again; a write is not", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pt-idle-"));
  const socket = path.join(dir, "docker.sock");
  const seen: string[] = [];
  const dropped = new Set<string>();
  const server = createServer((req, res) => {
    const key = `${req.method} ${decodeURIComponent(req.url ?? "").replace(/^\/v[\d.]+/, "")}`;
    seen.push(key);
    // The first request to a path: the connection is gone (as after an idle timeout).
    if (!req.url?.startsWith("/_ping") && !dropped.has(key)) {
      dropped.add(key);
      return req.socket.destroy();
    }
    if (req.url?.startsWith("/_ping")) return res.writeHead(200, { "api-version": "1.41" }).end("OK");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ Id: "sha256:abc" }));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  const client = new DockerClient({ host: `unix://${socket}` });
  try {
    const img = await client.inspectImage("hello:1");
    assert.equal(img?.Id, "sha256:abc");
    assert.deepEqual(seen, ["GET /_ping", "GET /images/hello:1/json", "GET /images/hello:1/json"]);
    // A write whose connection is dropped is not repeated.
    seen.length = 0;
    await assert.rejects(client.call("POST", "/images/hello:1/tag?repo=x&tag=y"), (err) => {
      assert.ok(err instanceof DockerUnreachableError, String(err));
      assert.match(String(err), /docker\.sock/);
      return true;
    });
    assert.deepEqual(seen, ["POST /images/hello:1/tag?repo=x&tag=y"], "the POST was sent once");
  } finally {
    await client.close();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});
