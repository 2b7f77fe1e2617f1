/**
 * Per-request lz4 (`compression` option) against the real tesseract-core 1.15 runtime, seen through
 * a recording proxy: the Accept header the client sends, and whether the arrays the server answers
 * with are really compressed. The proxy can also hide `x-supported-compressions` from
 * `/openapi.json`, which is what a runtime older than 1.15 serves: the client must then ask for
 * nothing the server cannot parse.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { TesseractClient } from "../../provider/client/client";
import type { NDArray } from "../../provider/client/ndarray";
import { type ServedRuntime, serveRuntime } from "../helpers/serve-runtime";

interface Seen {
  accept?: string;
  compressed: boolean;
}

/** A pass-through HTTP proxy in front of `target` that records each POST's Accept and answer. */
async function recordingProxy(target: string, opts: { hideCompressions?: boolean } = {}) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !["host", "content-length", "connection"].includes(k)),
        ) as Record<string, string>,
        body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
      });
      let body = Buffer.from(await upstream.arrayBuffer());
      if (req.url === "/openapi.json" && opts.hideCompressions) {
        const doc = JSON.parse(body.toString("utf8"));
        delete doc["x-supported-compressions"];
        body = Buffer.from(JSON.stringify(doc));
      }
      if (req.method === "POST")
        seen.push({ accept: req.headers.accept, compressed: /"compression":\s*"lz4"/.test(body.toString("latin1")) });
      res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const big = Float64Array.from({ length: 200_000 }, (_, i) => (i % 977) / 3);
const payload = {
  a: [1, 2],
  b: [3, 4],
  s: 1,
  passthrough: { big: { shape: [big.length], dtype: "float64", data: big } },
};

function assertRoundTrip(out: unknown): void {
  const got = (out as { passthrough: { big: NDArray } }).passthrough.big;
  assert.deepEqual(got.shape, [big.length]);
  assert.ok(Buffer.from((got.data as Float64Array).buffer).equals(Buffer.from(big.buffer)), "values differ");
}

describe("TesseractClient asks per request for lz4 (tesseract-core 1.15 runtime)", { timeout: 300_000 }, () => {
  let plain: ServedRuntime;
  let compressing: ServedRuntime;
  before(async () => {
    [plain, compressing] = await Promise.all([
      serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64" } }),
      serveRuntime({ env: { TESSERACT_OUTPUT_FORMAT: "json+base64", TESSERACT_COMPRESSION: "lz4" } }),
    ]);
  });
  after(async () => {
    await plain?.stop();
    await compressing?.stop();
  });

  it("a server that offers lz4 answers compressed arrays when the client asks, and plain ones otherwise", async () => {
    const proxy = await recordingProxy(plain.url);
    const client = new TesseractClient(proxy.url, { compression: "lz4" });
    try {
      assertRoundTrip(await client.apply(payload));
      assertRoundTrip(await client.apply(payload, { compression: "none" }));
      const plainClient = new TesseractClient(proxy.url);
      assertRoundTrip(await plainClient.apply(payload));
      await plainClient.close();
      assert.deepEqual(proxy.seen, [
        { accept: 'application/json+base64; compression="lz4"', compressed: true },
        { accept: 'application/json+base64; compression="none"', compressed: false },
        { accept: "application/json+base64", compressed: false },
      ]);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('"none" turns off the compression of a server started with TESSERACT_COMPRESSION=lz4', async () => {
    const proxy = await recordingProxy(compressing.url);
    const client = new TesseractClient(proxy.url, { compression: "none" });
    try {
      assertRoundTrip(await client.apply(payload));
      assertRoundTrip(await client.apply(payload, { compression: "lz4" }));
      assert.deepEqual(
        proxy.seen.map((s) => s.compressed),
        [false, true],
      );
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("a server that does not advertise compressions (older runtimes) gets the plain Accept header", async () => {
    const proxy = await recordingProxy(plain.url, { hideCompressions: true });
    const client = new TesseractClient(proxy.url, { compression: "lz4" });
    try {
      assertRoundTrip(await client.apply(payload));
      assert.deepEqual(proxy.seen, [{ accept: "application/json+base64", compressed: false }]);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it("an unknown compression is refused before any request", () => {
    assert.throws(
      () => new TesseractClient(plain.url, { compression: "gzip" as never }),
      /compression must be "lz4" or "none", got "gzip"/,
    );
  });
});
