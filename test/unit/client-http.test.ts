/**
 * TesseractClient over HTTP against a scripted fake server on 127.0.0.1: headers and body framing,
 * error mapping (422/404/500/connection refused/timeout), keep-alive reuse and the single retry on a
 * stale kept-alive connection.
 */

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { acceptHeader, checkCompression, offeredCompressions } from "../../provider/client/accept";
import { TesseractClient } from "../../provider/client/client";
import {
  TesseractConnectionError,
  TesseractEndpointNotFoundError,
  TesseractError,
  TesseractServerError,
  TesseractTimeoutError,
  TesseractValidationError,
} from "../../provider/client/errors";
import type { NDArray } from "../../provider/client/ndarray";
import { freePort } from "../helpers/serve-runtime";

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

interface Fake {
  url: string;
  server: Server;
  requests: { method?: string; url?: string; headers: IncomingMessage["headers"]; body: Buffer }[];
  sockets: Set<Socket>;
  connections: number;
  handler: Handler;
}

async function startFake(): Promise<Fake> {
  const fake = { requests: [], sockets: new Set<Socket>(), connections: 0 } as unknown as Fake;
  fake.handler = (_req, _body, res) => res.end("{}");
  fake.server = createServer({ keepAlive: true, keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      fake.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      fake.handler(req, body, res);
    });
  });
  fake.server.on("connection", (s: Socket) => {
    fake.connections++;
    fake.sockets.add(s);
    s.on("close", () => fake.sockets.delete(s));
  });
  await new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", r));
  fake.url = `http://127.0.0.1:${(fake.server.address() as { port: number }).port}`;
  return fake;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

describe("TesseractClient over HTTP", () => {
  let fake: Fake;
  let client: TesseractClient;
  before(async () => {
    fake = await startFake();
    client = new TesseractClient(`${fake.url}/`);
  });
  after(async () => {
    await client.close();
    for (const s of fake.sockets) s.destroy();
    await new Promise((r) => fake.server.close(r));
  });

  it("posts base64 arrays with Accept json+base64, content-length and run_id, and decodes the answer", async () => {
    fake.requests.length = 0;
    fake.handler = (_req, _body, res) =>
      json(res, 200, {
        y: {
          object_type: "array",
          shape: [2],
          dtype: "float32",
          data: { buffer: Buffer.from(new Float32Array([1, 2]).buffer).toString("base64"), encoding: "base64" },
        },
      });
    const big = new Float64Array(4096).fill(1.25);
    const out = (await client.apply({ x: big, s: 2 }, { runId: "r1" })) as { y: NDArray };
    assert.deepEqual(Array.from(out.y.data as Float32Array), [1, 2]);
    const req = fake.requests[0];
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/apply?run_id=r1");
    assert.equal(req.headers.accept, "application/json+base64");
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(Number(req.headers["content-length"]), req.body.length);
    const sent = JSON.parse(req.body.toString());
    assert.equal(sent.inputs.s, 2);
    assert.deepEqual(sent.inputs.x.shape, [4096]);
    assert.equal(sent.inputs.x.data.encoding, "base64");
    assert.deepEqual(
      new Float64Array(new Uint8Array(Buffer.from(sent.inputs.x.data.buffer, "base64")).buffer)[4095],
      1.25,
    );
  });

  it("422: lists each field path and reason, and summarises the input instead of dumping it", async () => {
    fake.handler = (_req, _body, res) =>
      json(res, 422, {
        detail: [
          {
            type: "array_shape_mismatch",
            loc: ["body", "inputs", "a"],
            msg: "Array shape mismatch: expected (3,), got (5000,)",
            input: { shape: [5000], dtype: "float64", data: { buffer: "A".repeat(50_000), encoding: "base64" } },
          },
          { type: "extra_forbidden", loc: ["body", "inputs", "zz"], msg: "Extra inputs are not permitted", input: 1 },
        ],
      });
    await assert.rejects(client.apply({ a: new Float64Array(5000), zz: 1 }), (err: unknown) => {
      assert.ok(err instanceof TesseractValidationError);
      assert.equal(err.status, 422);
      assert.equal(err.issues.length, 2);
      assert.match(err.message, /rejected the apply request \(422\)/);
      assert.match(
        err.message,
        /inputs\.a: Array shape mismatch.*\[array_shape_mismatch\] \(got float64 array of shape \[5000\] \(base64\)\)/,
      );
      assert.match(err.message, /inputs\.zz: Extra inputs are not permitted/);
      assert.ok(err.message.length < 600, "input is summarised, not dumped");
      return true;
    });
  });

  it("404 on an optional endpoint says the Tesseract does not implement it, with the url", async () => {
    fake.handler = (_req, _body, res) => json(res, 404, { detail: "Not Found" });
    await assert.rejects(client.jacobian({ a: [1] }, ["a"], ["y"]), (err: unknown) => {
      assert.ok(err instanceof TesseractEndpointNotFoundError);
      assert.equal(err.endpoint, "jacobian");
      assert.match(err.message, new RegExp(`${fake.url} does not implement the jacobian endpoint`));
      return true;
    });
    await assert.rejects(
      client.vectorJacobianProduct({ a: [1] }, ["a"], ["y"], { y: [1] }),
      /does not implement the vector_jacobian_product endpoint/,
    );
    await assert.rejects(
      client.apply({}),
      (err: unknown) => err instanceof TesseractError && /is .* the url of a Tesseract/.test(err.message),
    );
  });

  it("500 carries the server's text", async () => {
    fake.handler = (_req, _body, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end('Traceback (most recent call last):\n  File "tesseract_api.py", line 3\nValueError: boom');
    };
    await assert.rejects(client.apply({ a: [1] }), (err: unknown) => {
      assert.ok(err instanceof TesseractServerError);
      assert.equal(err.status, 500);
      assert.match(err.message, /failed on apply with HTTP 500/);
      assert.match(err.message, /ValueError: boom/);
      return true;
    });
    fake.handler = (_req, _body, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("Internal Server Error");
    };
    await assert.rejects(client.apply({ a: [1] }), /TESSERACT_DEBUG=1/);
  });

  it("reuses one kept-alive connection for sequential calls", async () => {
    fake.handler = (_req, _body, res) => json(res, 200, { status: "ok" });
    const before = fake.connections;
    for (let i = 0; i < 20; i++) await client.health();
    assert.ok(fake.connections - before <= 1, `opened ${fake.connections - before} connections`);
  });

  it("retries once when the server closed a kept-alive connection, and not more", async () => {
    const perSocket = new WeakMap<Socket, number>();
    fake.handler = (req, _body, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n >= 2) {
        req.socket.destroy(); // a stale keep-alive connection: closed without an answer
        return;
      }
      json(res, 200, { status: "ok" });
    };
    const c = new TesseractClient(fake.url);
    try {
      await c.health(); // first connection, first request
      const opened = fake.connections;
      // reused socket is dropped → retried on a fresh connection (a POST: undici does not retry it itself)
      assert.deepEqual(await c.apply({ a: new Float64Array(1000) }), { status: "ok" });
      assert.equal(fake.connections, opened + 1);
      await c.health();
      assert.equal(fake.connections, opened + 2);
      fake.handler = (req) => req.socket.destroy(); // now every attempt fails
      await assert.rejects(c.health(), (err: unknown) => {
        assert.ok(err instanceof TesseractConnectionError);
        assert.match(err.message, new RegExp(`cannot reach the Tesseract at ${fake.url}`));
        return true;
      });
    } finally {
      await c.close();
    }
  });

  it("times out only when asked to", async () => {
    fake.handler = (_req, _body, res) => setTimeout(() => json(res, 200, { status: "ok" }), 1500);
    const c = new TesseractClient(fake.url, { timeoutMs: 200 });
    try {
      await assert.rejects(c.health(), (err: unknown) => {
        assert.ok(err instanceof TesseractTimeoutError);
        assert.match(err.message, /did not answer health within 200 ms/);
        return true;
      });
      // no limit by default: a 1.5 s answer arrives
      assert.deepEqual(await client.health(), { status: "ok" });
    } finally {
      await c.close();
    }
  });

  it("validateInputs checks against /openapi.json before sending", async () => {
    fake.requests.length = 0;
    fake.handler = (req, _body, res) => {
      if (req.url === "/openapi.json") {
        return json(res, 200, {
          paths: { "/apply": {}, "/health": {} },
          components: {
            schemas: {
              Apply_InputSchema: {
                type: "object",
                additionalProperties: false,
                required: ["a"],
                properties: { a: { type: "array", items: { type: "number" } } },
              },
            },
          },
        });
      }
      json(res, 200, {});
    };
    const c = new TesseractClient(fake.url, { validateInputs: true });
    try {
      await assert.rejects(c.apply({ b: 1 }), (err: unknown) => {
        assert.ok(err instanceof TesseractValidationError);
        assert.equal(err.source, "client");
        assert.match(err.message, /inputs\.a: required field is missing/);
        assert.match(err.message, /inputs\.b: unknown field \(allowed: a\)/);
        return true;
      });
      assert.deepEqual(await c.apply({ a: [1, 2] }), {});
      assert.deepEqual(await c.availableEndpoints(), ["apply", "health"]);
      assert.equal(fake.requests.filter((r) => r.url === "/openapi.json").length, 1, "schema fetched once");
      assert.equal(fake.requests.filter((r) => r.url === "/apply").length, 1, "invalid call never sent");
    } finally {
      await c.close();
    }
  });
});

describe("TesseractClient without a server", () => {
  it("connection refused names the url", async () => {
    const port = await freePort();
    const c = new TesseractClient(`127.0.0.1:${port}`);
    try {
      assert.equal(c.url, `http://127.0.0.1:${port}`);
      await assert.rejects(c.apply({ a: [1] }), (err: unknown) => {
        assert.ok(err instanceof TesseractConnectionError);
        assert.equal(err.code, "ECONNREFUSED");
        assert.match(
          err.message,
          new RegExp(`cannot reach the Tesseract at http://127.0.0.1:${port} \\(apply\\): connection refused`),
        );
        return true;
      });
    } finally {
      await c.close();
    }
  });
  it("rejects non-http urls", () => {
    assert.throws(() => new TesseractClient("ftp://x"), /must be http/);
  });
});

describe("Accept header negotiation (compression)", () => {
  it("adds a compression parameter only when one is asked for", () => {
    assert.equal(acceptHeader("json+base64"), "application/json+base64");
    assert.equal(acceptHeader("json+binref", "lz4"), 'application/json+binref; compression="lz4"');
  });
  it("reads what the server offers from its OpenAPI document, nothing from older ones", () => {
    assert.deepEqual(offeredCompressions({ "x-supported-compressions": ["none", "lz4", 3] }), ["none", "lz4"]);
    assert.deepEqual(offeredCompressions({ paths: {} }), []);
  });
  it("refuses an unknown compression by name", () => {
    assert.throws(() => checkCompression("zstd", "compression"), /compression must be "lz4" or "none", got "zstd"/);
    assert.equal(checkCompression(undefined, "compression"), undefined);
  });
});
