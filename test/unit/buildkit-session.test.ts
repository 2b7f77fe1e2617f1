/**
 * The BuildKit session (provider/docker/buildkit-session.ts) against an in-process stand-in for
 * dockerd's side: an HTTP server on a unix socket that checks the `POST /session` upgrade headers,
 * answers 101, and then, as dockerd does, speaks HTTP/2 gRPC as the client on that connection:
 * GetSecret for a known and an unknown id, the health check, and the SSH agent (CheckAgent,
 * ForwardAgent piped to a stand-in agent's unix socket).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { Pool } from "undici";
import { openBuildKitSession } from "../../provider/docker/buildkit-session";
import { bytesField, decodeFields } from "../../provider/docker/protobuf";

const dir = mkdtempSync(path.join(tmpdir(), "pt-session-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One unary gRPC call on `session`: the grpc-status and the response message's bytes. */
function call(
  session: http2.ClientHttp2Session,
  method: string,
  message: Buffer,
): Promise<{ status: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": method,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    let status = "";
    req.on("response", (headers) => {
      if (headers["grpc-status"] !== undefined) status = String(headers["grpc-status"]);
    });
    req.on("trailers", (trailers) => {
      status = String(trailers["grpc-status"]);
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const all = Buffer.concat(chunks);
      resolve({ status, body: all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : Buffer.alloc(0) });
    });
    req.on("error", reject);
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([frame, message]));
  });
}

test("POST /session: the expose headers, then GetSecret (known, unknown) and Health/Check served on the socket", async () => {
  const socketPath = path.join(dir, "engine.sock");
  let seen: http.IncomingHttpHeaders | undefined;
  let path_ = "";
  const client = new Promise<http2.ClientHttp2Session>((resolve) => {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (req, socket: Socket) => {
      seen = req.headers;
      path_ = req.url ?? "";
      socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
      // dockerd is the gRPC client from here on
      resolve(http2.connect("http://localhost", { createConnection: () => socket }));
      server.close();
    });
    server.listen(socketPath);
  });
  await new Promise((r) => setTimeout(r, 50));
  const pool = new Pool("http://localhost", { socketPath });
  const session = await openBuildKitSession(pool, "/v1.41", { secrets: { idx: "s3cret-value" } });
  const h2 = await client;
  try {
    assert.equal(path_, "/v1.41/session");
    assert.equal(seen?.upgrade, "h2c");
    assert.equal(seen?.["x-docker-expose-session-uuid"], session.id);
    assert.equal(seen?.["x-docker-expose-session-name"], "pulumi-tesseract");
    assert.match(String(seen?.["x-docker-expose-session-sharedkey"]), /^[0-9a-f]{32}$/);
    assert.deepEqual(String(seen?.["x-docker-expose-session-grpc-method"]).split(/,\s*/), [
      "/moby.buildkit.secrets.v1.Secrets/GetSecret",
      "/grpc.health.v1.Health/Check",
    ]);

    const known = await call(h2, "/moby.buildkit.secrets.v1.Secrets/GetSecret", bytesField(1, "idx"));
    assert.equal(known.status, "0");
    assert.equal(decodeFields(known.body)[0].bytes?.toString(), "s3cret-value");

    const unknown = await call(h2, "/moby.buildkit.secrets.v1.Secrets/GetSecret", bytesField(1, "nope"));
    assert.equal(unknown.status, "5", "NOT_FOUND");

    const health = await call(h2, "/grpc.health.v1.Health/Check", Buffer.alloc(0));
    assert.equal(health.status, "0");
    assert.equal(decodeFields(health.body)[0].varint, 1n, "SERVING");
    assert.deepEqual(
      [...session.asked],
      [
        ["idx", 1],
        ["nope", 1],
      ],
    );
  } finally {
    h2.destroy();
    await session.close();
    await pool.close();
  }
});

/** Upgrades like dockerd on a new unix socket and resolves with the HTTP/2 client side and the headers seen. */
function standInEngine(name: string): {
  socketPath: string;
  client: Promise<{ h2: http2.ClientHttp2Session; headers: http.IncomingHttpHeaders }>;
} {
  const socketPath = path.join(dir, name);
  const client = new Promise<{ h2: http2.ClientHttp2Session; headers: http.IncomingHttpHeaders }>((resolve) => {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    server.on("upgrade", (req, socket: Socket) => {
      socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
      resolve({ h2: http2.connect("http://localhost", { createConnection: () => socket }), headers: req.headers });
      server.close();
    });
    server.listen(socketPath);
  });
  return { socketPath, client };
}

test("injectSsh: CheckAgent knows only `default`; ForwardAgent pipes BytesMessages to and from the agent's socket", async () => {
  const agentPath = path.join(dir, "agent.sock");
  // a stand-in agent: answers each request with "pong:" + the request
  const agent = net.createServer((c) => c.on("data", (d) => c.write(Buffer.concat([Buffer.from("pong:"), d]))));
  await new Promise<void>((r) => agent.listen(agentPath, r));
  const engine = standInEngine("ssh-engine.sock");
  await new Promise((r) => setTimeout(r, 50));
  const pool = new Pool("http://localhost", { socketPath: engine.socketPath });
  const session = await openBuildKitSession(pool, "/v1.41", { secrets: {}, sshAgentSocket: agentPath });
  const { h2, headers } = await engine.client;
  try {
    assert.match(String(headers["x-docker-expose-session-grpc-method"]), /moby\.sshforward\.v1\.SSH\/ForwardAgent/);
    assert.equal((await call(h2, "/moby.sshforward.v1.SSH/CheckAgent", bytesField(1, "default"))).status, "0");
    assert.equal((await call(h2, "/moby.sshforward.v1.SSH/CheckAgent", bytesField(1, "other"))).status, "5");

    const stream = h2.request({
      ":method": "POST",
      ":path": "/moby.sshforward.v1.SSH/ForwardAgent",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const message = bytesField(1, "ping");
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(message.length, 1);
    stream.write(Buffer.concat([frame, message]));
    const answer = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      stream.on("data", (c: Buffer) => {
        got = Buffer.concat([got, c]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt32BE(1)) resolve(got.subarray(5, 5 + got.readUInt32BE(1)));
      });
      stream.on("error", reject);
    });
    assert.equal(decodeFields(answer)[0].bytes?.toString(), "pong:ping");
    stream.close();
  } finally {
    h2.destroy();
    await session.close();
    await pool.close();
    agent.close();
  }
});

test("an engine that does not upgrade (Podman's API answers 404): the session fails to open", async () => {
  const socketPath = path.join(dir, "podman.sock");
  const server = http.createServer((_req, res) =>
    res.writeHead(404, { "content-type": "text/plain" }).end("not found"),
  );
  await new Promise<void>((r) => server.listen(socketPath, r));
  const pool = new Pool("http://localhost", { socketPath });
  try {
    await assert.rejects(openBuildKitSession(pool, "/v1.41", { secrets: {} }));
  } finally {
    await pool.close();
    server.close();
  }
});
