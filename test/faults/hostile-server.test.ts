/**
 * A hostile Tesseract: a small HTTP server on 127.0.0.1, written here on `node:net` so it can
 * break HTTP itself (lying Content-Length, headers that never end), serves one hostile answer per
 * path prefix, and the real `TesseractClient` calls it. Every case is a row
 * `hostile/<class>/<case>` of the faults report and must be refused or handled with a clear error
 * (the right error class, naming the limit or the rule), quickly, with no secret in any message and
 * with memory bounded (RSS growth measured around the bombs). Array inputs the client cannot send
 * exactly are rows too: refused before anything reaches the server.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  TesseractClient,
  TesseractConnectionError,
  TesseractInputError,
  TesseractLimitError,
  TesseractResponseError,
  TesseractServerError,
  TesseractTimeoutError,
} from "../../provider/client";
import { xxh32 } from "../../provider/client/lz4";
import { findSecrets, Report } from "../helpers/faults/report";

const report = new Report("hostile-server");
const work = mkdtempSync(path.join(tmpdir(), "pt-hostile-"));
const outDir = path.join(work, "out");
mkdirSync(outDir);

const USER = "pt-user";
const PASSWORD = "S3cret-Hostile-Pw";
const TOKEN = Buffer.from(`${USER}:${PASSWORD}`, "latin1").toString("base64");
const SECRETS = [PASSWORD, TOKEN, `${USER}:${PASSWORD}`];

// ---- the hostile server ---------------------------------------------------------------------

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}
type Handler = (req: Req, socket: Socket) => void;

const routes = new Map<string, Handler>();
const seen: Req[] = [];
const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();
let server: Server;
let base = "";

function every(ms: number, fn: () => boolean | undefined): void {
  const t = setInterval(() => {
    if (fn() === false) {
      clearInterval(t);
      timers.delete(t);
    }
  }, ms);
  timers.add(t);
}

/** A complete response with Content-Length (unless `headers` says otherwise). */
function reply(socket: Socket, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  const b = typeof body === "string" ? Buffer.from(body) : body;
  const h = { "content-type": "application/json", "content-length": String(b.length), connection: "close", ...headers };
  const head = `HTTP/1.1 ${status} X\r\n${Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  socket.write(head);
  socket.end(b);
}

/** Writes `chunk` as one HTTP/1.1 chunk; false once the socket is gone. */
function writeChunk(socket: Socket, chunk: Buffer | string): boolean {
  if (socket.destroyed) return false;
  const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  socket.write(`${b.length.toString(16)}\r\n`);
  socket.write(b);
  socket.write("\r\n");
  return true;
}

/** Keeps writing `piece` as fast as the client reads, until the client goes away. */
function endless(socket: Socket, status: number, first: string, piece: Buffer): void {
  socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
  writeChunk(socket, first);
  const pump = () => {
    while (!socket.destroyed && writeChunk(socket, piece) && socket.writableLength < 4 * 1024 * 1024) {}
  };
  socket.on("drain", pump);
  pump();
}

function onConnection(socket: Socket): void {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
  socket.on("error", () => undefined);
  let buf = Buffer.alloc(0);
  socket.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const [line, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(":");
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (buf.length < end + 4 + length) return;
    const [method, target] = line.split(" ");
    const req: Req = { method, path: target, headers, body: buf.subarray(end + 4, end + 4 + length) };
    buf = Buffer.alloc(0);
    socket.removeAllListeners("data");
    seen.push(req);
    const name = target.split("/")[1] ?? "";
    const handler = routes.get(name);
    if (!handler) reply(socket, 404, "no such case");
    else handler(req, socket);
  });
}

/** A route: `http://127.0.0.1:<port>/<name>` is the url of a Tesseract that behaves like `handler`. */
function route(name: string, handler: Handler): string {
  routes.set(name, handler);
  return `${base}/${name}`;
}

// ---- wire helpers ---------------------------------------------------------------------------

const array = (shape: number[], dtype: string, data: Record<string, unknown>) => ({
  object_type: "array",
  shape,
  dtype,
  data,
});
const b64 = (bytes: Buffer) => ({ buffer: bytes.toString("base64"), encoding: "base64" });
const f64 = (values: number[]) => Buffer.from(new Float64Array(values).buffer);

/**
 * An LZ4 frame of one block: one literal byte, then one match of `matchLength` bytes (offset 1),
 * its length spelled in 255-bytes, so `matchLength / 255` bytes expand to `matchLength`. The frame
 * header stores `contentSize`.
 */
function lz4Bomb(matchLength: number, contentSize: number): Buffer {
  const header = Buffer.alloc(6 + 8);
  header.writeUInt32LE(0x184d2204, 0);
  header[4] = 0x40 | 0x08; // version 1, content size present
  header[5] = 0x70; // 4 MiB blocks
  header.writeUInt32LE(contentSize % 2 ** 32, 6);
  header.writeUInt32LE(Math.floor(contentSize / 2 ** 32), 10);
  const hc = (xxh32(header, 4, 14) >>> 8) & 0xff;
  let rest = matchLength - 4 - 15;
  const ext = Buffer.alloc(Math.floor(rest / 255) + 1, 255);
  ext[ext.length - 1] = rest % 255;
  rest = 0;
  const block = Buffer.concat([Buffer.from([0x1f, 0x00, 0x01, 0x00]), ext]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(block.length);
  return Buffer.concat([header, Buffer.from([hc]), size, block, Buffer.alloc(4)]);
}

// ---- the report -----------------------------------------------------------------------------

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/**
 * One hostile case: `body` must end with the expected outcome and returns how ("refused: …",
 * "handled: …"); the row records it, any secret in a message is a leak.
 */
async function hostile(
  name: string,
  kind: "refused" | "handled" | "explained",
  body: () => Promise<string>,
): Promise<void> {
  const t0 = Date.now();
  report.data.faultsInjected++;
  report.add("inputsTried");
  let detail: string;
  let result: "pass" | "fail" = "pass";
  try {
    const said = await body();
    const leaked = findSecrets(said, SECRETS);
    if (leaked.length) {
      result = "fail";
      report.add("secretsFound", leaked.length);
      detail = `LEAKED ${leaked.join(", ")}`;
    } else {
      detail = `${kind}: ${said.split("\n")[0].slice(0, 240)}`;
      report.data.faultsSurvived++;
      if (kind === "refused" || kind === "explained") report.add("inputsRefused");
      report.add("inputsExplained");
    }
  } catch (err) {
    result = "fail";
    detail = (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 4).join(" | ");
    const leaked = findSecrets(detail, SECRETS);
    if (leaked.length) {
      report.add("secretsFound", leaked.length);
      detail = `LEAKED ${leaked.join(", ")}`;
    }
  }
  report.data.faults.push({ fault: `hostile/${name}`, result, seconds: (Date.now() - t0) / 1000, detail });
  report.flush();
  assert.equal(result, "pass", `${name}: ${detail}`);
}

/** Runs `call`, expects it to reject with `cls`, checks the message and returns it (with the stack). */
async function refusedWith(
  call: () => Promise<unknown>,
  cls: new (...a: never[]) => Error,
  says: RegExp,
  withinMs = 10_000,
): Promise<string> {
  const t0 = Date.now();
  let caught: unknown;
  await call().then(
    (v) => assert.fail(`accepted: ${JSON.stringify(v)?.slice(0, 200)}`),
    (e) => {
      caught = e;
    },
  );
  const took = Date.now() - t0;
  const err = caught as Error;
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert.match(err.message, says);
  assert.ok(took < withinMs, `took ${took} ms`);
  const cause = (err as { cause?: Error }).cause;
  return `${err.message} (${cls.name}, ${took} ms)${cause ? `\ncause: ${cause.message}` : ""}\n${err.stack ?? ""}`;
}

// ---- the cases ------------------------------------------------------------------------------

before(async () => {
  server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

describe("array inputs the client cannot send as given", () => {
  const echo = () =>
    route("echo", (req, s) => reply(s, 200, JSON.stringify({ seen: req.body.toString("utf8").slice(0, 2000) })));

  test("NaN and Infinity travel as Python's json writes them", async () => {
    await hostile("arrays-in/nan-infinity-sent-exactly", "handled", async () => {
      const c = new TesseractClient(echo());
      try {
        const out = (await c.apply({
          a: [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
          s: Number.NaN,
        })) as {
          seen: string;
        };
        assert.match(out.seen, /"a":\[1,NaN,Infinity,-Infinity\],"s":NaN/);
        const typed = (await c.apply(
          { x: new Float64Array([Number.NaN, Number.POSITIVE_INFINITY]) },
          { encoding: "json" },
        )) as { seen: string };
        assert.match(typed.seen, /"encoding":"base64"/); // float bytes carry them exactly
        return `sent ${out.seen.slice(0, 60)} (NaN/Infinity literals, as Python's json.dumps)`;
      } finally {
        await c.close();
      }
    });
  });

  test("a bigint beyond 2^53 is sent exactly", async () => {
    await hostile("arrays-in/bigint-beyond-2^53-exact", "handled", async () => {
      const c = new TesseractClient(echo());
      try {
        const out = (await c.apply({ n: 2n ** 60n + 1n, v: { dtype: "int64", data: [2n ** 62n + 3n] } })) as {
          seen: string;
        };
        assert.match(out.seen, /"n":1152921504606846977/);
        assert.match(out.seen, /"dtype":"int64","data":\{"buffer":"AwAAAAAAAEA=","encoding":"base64"\}/);
        return "sent 1152921504606846977 as digits and int64 2^62+3 as exact bytes";
      } finally {
        await c.close();
      }
    });
  });

  const refusedInputs: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "int8-300",
      { a: { dtype: "int8", data: [1, 300] } },
      "inputs.a[1]",
      /element 1 is 300, out of range for int8 \(-128 to 127\)/,
    ],
    ["uint8-negative", { a: { dtype: "uint8", data: [-1] } }, "inputs.a[0]", /out of range for uint8/],
    ["int32-fraction", { a: { dtype: "int32", data: [1.5] } }, "inputs.a[0]", /not an integer/],
    ["int64-beyond-2^63", { a: { dtype: "int64", data: [2n ** 63n] } }, "inputs.a[0]", /out of range for int64/],
    ["float32-overflow", { a: { dtype: "float32", data: [1e39] } }, "inputs.a[0]", /would become infinity/],
    [
      "float16-overflow",
      { a: { dtype: "float16", data: new Float64Array([70000]) } },
      "inputs.a[0]",
      /largest finite float16/,
    ],
    ["not-a-number", { a: { dtype: "float64", data: ["abc"] } }, "inputs.a[0]", /not a number/],
  ];
  for (const [name, inputs, property, says] of refusedInputs) {
    test(`refused: ${name}`, async () => {
      await hostile(`arrays-in/${name}`, "refused", async () => {
        const c = new TesseractClient(echo());
        const before = seen.length;
        try {
          const text = await refusedWith(() => c.apply(inputs), TesseractInputError, says);
          assert.equal(seen.length, before, "a request reached the server");
          return text.replace(/^/, `${property}: `);
        } finally {
          await c.close();
        }
      });
    });
  }

  test("a circular input is refused naming its path", async () => {
    await hostile("arrays-in/circular-input", "refused", async () => {
      const c = new TesseractClient(echo());
      const a: Record<string, unknown> = { x: 1 };
      a.self = { back: a };
      try {
        return await refusedWith(
          () => c.apply({ a }),
          TesseractInputError,
          /inputs\.a\.self\.back contains itself \(a circular reference\)/,
        );
      } finally {
        await c.close();
      }
    });
  });

  test("a 200,000-deep input is refused by maxJsonDepth", async () => {
    await hostile("arrays-in/deep-input", "refused", async () => {
      const c = new TesseractClient(echo());
      let deep: unknown = 1;
      for (let i = 0; i < 200_000; i++) deep = [deep];
      try {
        return await refusedWith(
          () => c.apply({ deep }),
          TesseractInputError,
          /more than 1000 levels deep \(maxJsonDepth; fix: raise/,
        );
      } finally {
        await c.close();
      }
    });
  });
});

describe("responses that lie about their arrays", () => {
  const cases: [string, Record<string, unknown> | string, RegExp, Record<string, string>?][] = [
    ["short-data", { r: array([4], "float64", b64(f64([1, 2, 3]))) }, /needs 32 bytes, got 24/],
    [
      "json-data-count",
      { r: array([2, 2], "float64", { buffer: [1, 2, 3], encoding: "json" }) },
      /holds 3 values, its shape \[2, 2\] needs 4/,
    ],
    ["unknown-dtype", { r: array([1], "float128", b64(f64([1, 2]))) }, /dtype "float128" is not one of/],
    [
      "negative-shape",
      { r: array([-1], "float64", b64(f64([1]))) },
      /shape \[-1\] is not a list of non-negative integers/,
    ],
    [
      "bad-base64",
      { r: array([2], "float64", { buffer: "AAAA!AAAAAAAAAAAAAAAAAA", encoding: "base64" }) },
      /not valid base64/,
    ],
    [
      "json-int8-out-of-range",
      { r: array([1], "int8", { buffer: [300], encoding: "json" }) },
      /r: element 0 is 300, out of range for int8/,
    ],
    [
      "unknown-encoding",
      { r: array([1], "float64", { buffer: "x", encoding: "pickle" }) },
      /encoding "pickle" is not supported/,
    ],
    [
      "wrong-content-type",
      "<html><body>Welcome to nginx</body></html>",
      /not valid JSON.*<html>.*content-type text\/html/,
      { "content-type": "text/html" },
    ],
    ["truncated-json", '{"r": {"object_type": "array", "shape": [1', /not valid JSON/],
  ];
  for (const [name, body, says, headers] of cases) {
    test(name, async () => {
      await hostile(`response/${name}`, "refused", async () => {
        const url = route(name, (_req, s) =>
          reply(s, 200, typeof body === "string" ? body : JSON.stringify(body), headers),
        );
        const c = new TesseractClient(url);
        try {
          return await refusedWith(() => c.apply({}), TesseractResponseError, says);
        } finally {
          await c.close();
        }
      });
    });
  }

  test("200,000-deep JSON is refused by maxJsonDepth (apply, health, openapi.json)", async () => {
    await hostile("response/deep-json", "refused", async () => {
      const deep = `${'{"a":'.repeat(200_000)}1${"}".repeat(200_000)}`;
      const c = new TesseractClient(route("deep", (_req, s) => reply(s, 200, deep)));
      try {
        const said = await refusedWith(
          () => c.apply({}),
          TesseractLimitError,
          /nested more than 1000 levels deep \(maxJsonDepth; fix: raise/,
        );
        await refusedWith(() => c.health(), TesseractLimitError, /maxJsonDepth/);
        await refusedWith(() => c.openapiSchema(), TesseractLimitError, /maxJsonDepth/);
        return said;
      } finally {
        await c.close();
      }
    });
  });
});

describe("bombs and endless answers (memory stays bounded)", () => {
  test("a 17 MB lz4 frame whose array claims 4 GiB", async () => {
    await hostile("bounded/lz4-bomb-4GiB", "refused", async () => {
      const frame = lz4Bomb(2 ** 32 - 1, 2 ** 32);
      const body = JSON.stringify({ r: array([2 ** 29], "float64", { ...b64(frame), compression: "lz4" }) });
      const c = new TesseractClient(route("lz4-bomb", (_req, s) => reply(s, 200, body)));
      const rss0 = rssMb();
      try {
        const said = await refusedWith(
          () => c.apply({}),
          TesseractLimitError,
          /4 GiB.*exceeds maxResponseBytes \(2 GiB; fix: raise the maxResponseBytes option/,
        );
        const grew = rssMb() - rss0;
        report.metric("lz4 bomb: frame MB", Math.round(frame.length / 2 ** 20));
        report.metric("lz4 bomb: client RSS growth MB", Math.round(grew));
        assert.ok(grew < 400, `RSS grew ${grew} MB`);
        return `${said.split("\n")[0]}; frame ${(frame.length / 2 ** 20).toFixed(1)} MB, RSS +${grew.toFixed(0)} MB`;
      } finally {
        await c.close();
      }
    });
  });

  test("an lz4 frame header announcing 4 GiB for a 10-value array", async () => {
    await hostile("bounded/lz4-frame-header-lies", "refused", async () => {
      const frame = lz4Bomb(2 ** 20, 2 ** 32);
      const body = JSON.stringify({ r: array([10], "float64", { ...b64(frame), compression: "lz4" }) });
      const c = new TesseractClient(route("lz4-lie", (_req, s) => reply(s, 200, body)));
      try {
        return await refusedWith(
          () => c.apply({}),
          TesseractResponseError,
          /lz4: data is larger than expected \(the frame says 4294967296 bytes, the array needs 80\)/,
        );
      } finally {
        await c.close();
      }
    });
  });

  test("an array shape claiming 8 GiB in a small body (no preallocation)", async () => {
    await hostile("bounded/shape-claims-8GiB", "refused", async () => {
      const body = JSON.stringify({
        r: array([2 ** 30], "float64", { buffer: "A".repeat(80_000), encoding: "base64" }),
      });
      const c = new TesseractClient(route("shape-claim", (_req, s) => reply(s, 200, body)));
      const rss0 = rssMb();
      try {
        const said = await refusedWith(() => c.apply({}), TesseractLimitError, /maxResponseBytes/);
        assert.ok(rssMb() - rss0 < 200);
        return said;
      } finally {
        await c.close();
      }
    });
  });

  test("an endless 200 body stops at maxResponseBytes", async () => {
    await hostile("bounded/endless-body", "refused", async () => {
      const url = route("endless", (_req, s) => endless(s, 200, '{"r": [', Buffer.from("1, ".repeat(20_000))));
      const c = new TesseractClient(url, { maxResponseBytes: 32 * 2 ** 20 });
      const rss0 = rssMb();
      try {
        const said = await refusedWith(
          () => c.apply({}),
          TesseractLimitError,
          /the response body exceeds maxResponseBytes \(32 MiB; fix: raise/,
        );
        const grew = rssMb() - rss0;
        report.metric("endless body: client RSS growth MB", Math.round(grew));
        assert.ok(grew < 300, `RSS grew ${grew} MB`);
        return said;
      } finally {
        await c.close();
      }
    });
  });

  test("an endless error body is read up to maxErrorBodyBytes", async () => {
    await hostile("bounded/endless-error-body", "handled", async () => {
      const url = route("endless-500", (_req, s) =>
        endless(s, 500, "Traceback (most recent call last):\n", Buffer.alloc(65536, "x")),
      );
      const c = new TesseractClient(url);
      const rss0 = rssMb();
      try {
        const said = await refusedWith(
          () => c.apply({}),
          TesseractServerError,
          /HTTP 500[\s\S]*the rest of the error body was not read: more than maxErrorBodyBytes \(64 KiB; raise that option/,
        );
        assert.ok(rssMb() - rss0 < 200);
        return said.replace(/x{20,}/g, "x…");
      } finally {
        await c.close();
      }
    });
  });

  test("a Content-Length of 8 GB is refused before reading", async () => {
    await hostile("bounded/content-length-8GB", "refused", async () => {
      const url = route("cl-8gb", (_req, s) => {
        s.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 8000000000\r\n\r\n{");
      });
      const c = new TesseractClient(url);
      try {
        return await refusedWith(
          () => c.apply({}),
          TesseractLimitError,
          /Content-Length \(7\.5 GiB\) exceeds maxResponseBytes/,
        );
      } finally {
        await c.close();
      }
    });
  });

  test("a Content-Length larger than the body, then close", async () => {
    await hostile("bounded/lying-content-length", "refused", async () => {
      let posts = 0;
      const url = route("cl-lie", (req, s) => {
        if (req.method === "GET") return reply(s, 200, '{"status": "ok"}');
        posts++;
        s.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n");
        s.end('{"r": 1');
      });
      const c = new TesseractClient(url);
      try {
        await c.health(); // a completed exchange first: a cut-off answer must still not be retried
        const said = await refusedWith(
          () => c.apply({}),
          TesseractResponseError,
          /cut off after 7 bytes of the 100000/,
        );
        assert.equal(posts, 1, "the cut-off apply was retried");
        return said;
      } finally {
        await c.close();
      }
    });
  });

  test("health that never sends headers ends at headersTimeoutMs", async () => {
    await hostile("bounded/health-no-headers", "refused", async () => {
      const url = route("silent", () => undefined);
      const c = new TesseractClient(url, { headersTimeoutMs: 800 });
      try {
        return await refusedWith(
          () => c.health(),
          TesseractTimeoutError,
          /did not send the response headers of health within 800 ms \(headersTimeoutMs; fix: raise/,
        );
      } finally {
        await c.close();
      }
    });
  });

  test("slowloris headers (one byte every 100 ms)", async () => {
    await hostile("bounded/slowloris-headers", "refused", async () => {
      const url = route("slowloris", (_req, s) => {
        const text = `HTTP/1.1 200 OK\r\n${"x-pad: a\r\n".repeat(1000)}\r\n{}`;
        let i = 0;
        every(100, () => (s.destroyed || i >= text.length ? false : s.write(text[i++]) || undefined));
      });
      const c = new TesseractClient(url, { headersTimeoutMs: 1500 });
      try {
        return await refusedWith(() => c.health(), TesseractTimeoutError, /headersTimeoutMs/);
      } finally {
        await c.close();
      }
    });
  });

  test("a stalled body ends at bodyTimeoutMs", async () => {
    await hostile("bounded/stalled-body", "refused", async () => {
      const url = route("stall", (_req, s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"r":');
      });
      const c = new TesseractClient(url, { bodyTimeoutMs: 800 });
      try {
        return await refusedWith(() => c.apply({}), TesseractTimeoutError, /paused\) within 800 ms \(bodyTimeoutMs/);
      } finally {
        await c.close();
      }
    });
  });

  test("not HTTP: a broken header line, two different Content-Lengths", async () => {
    await hostile("bounded/invalid-http", "refused", async () => {
      const broken = route("broken-http", (_req, s) => s.end("HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n{}"));
      const twice = route("two-lengths", (_req, s) =>
        s.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 50\r\n\r\n{}"),
      );
      const a = new TesseractClient(broken);
      const b = new TesseractClient(twice);
      try {
        const said = await refusedWith(
          () => a.health(),
          TesseractResponseError,
          /not valid HTTP\/1\.1 \(Response does not match/,
        );
        await refusedWith(() => b.health(), TesseractResponseError, /not valid HTTP\/1\.1|cut off/);
        return said;
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  test("a gzip bomb is not inflated (Content-Encoding is not decoded)", async () => {
    await hostile("bounded/gzip-bomb", "refused", async () => {
      const bomb = gzipSync(Buffer.alloc(256 * 2 ** 20));
      const c = new TesseractClient(route("gzip", (_req, s) => reply(s, 200, bomb, { "content-encoding": "gzip" })));
      const rss0 = rssMb();
      try {
        const said = await refusedWith(
          () => c.apply({}),
          TesseractResponseError,
          /not valid JSON[\s\S]*content-encoding gzip, not decoded/,
        );
        assert.ok(rssMb() - rss0 < 100, "the bomb was inflated");
        return `${said.split("\n")[0]} (${Math.round(bomb.length / 1024)} KiB of gzip for 256 MiB)`;
      } finally {
        await c.close();
      }
    });
  });

  test("a redirect is not followed (credentials stay with their host)", async () => {
    await hostile("secrets/redirect-not-followed", "handled", async () => {
      const before = seen.length;
      const url = route("redirect", (_req, s) => reply(s, 302, "", { location: `${base}/echo/apply` }));
      const c = new TesseractClient(url.replace("http://", `http://${USER}:${PASSWORD}@`));
      try {
        const said = await refusedWith(() => c.apply({}), TesseractServerError, /HTTP 302/);
        assert.equal(seen.length, before + 1, "the redirect was followed");
        return said;
      } finally {
        await c.close();
      }
    });
  });

  test("200 KB of response headers", async () => {
    await hostile("bounded/huge-headers", "refused", async () => {
      const url = route("huge-headers", (_req, s) => reply(s, 200, "{}", { "x-huge": "h".repeat(200_000) }));
      const c = new TesseractClient(url);
      try {
        return await refusedWith(
          () => c.health(),
          TesseractLimitError,
          /response headers exceeds maxHeaderBytes \(16 KiB/,
        );
      } finally {
        await c.close();
      }
    });
  });
});

describe("binref answers that point outside the output folder", () => {
  const binref = (buffer: string) =>
    JSON.stringify({
      r: array([8], "uint8", {
        buffer,
        encoding: "binref",
        ...(/:\d+:\d+$/.test(buffer) ? { compression: "lz4" } : {}),
      }),
    });

  before(() => {
    mkdirSync(path.join(outDir, "run_1"), { recursive: true });
    writeFileSync(path.join(outDir, "run_1", "ok.bin"), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    writeFileSync(path.join(work, "outside.bin"), Buffer.alloc(64, 7));
    symlinkSync("/etc/passwd", path.join(outDir, "run_1", "link.bin"));
    symlinkSync(work, path.join(outDir, "dirlink"));
    execFileSync("mkfifo", [path.join(outDir, "run_1", "fifo.bin")]);
  });

  test("a binref inside the folder is read (control)", async () => {
    await hostile("binref/inside-is-read", "handled", async () => {
      const c = new TesseractClient(
        route("binref-ok", (_req, s) => reply(s, 200, binref("run_1/ok.bin:0"))),
        { outputPath: outDir },
      );
      try {
        const out = (await c.apply({})) as { r: { data: Uint8Array } };
        assert.deepEqual([...out.r.data], [1, 2, 3, 4, 5, 6, 7, 8]);
        const abs = (await new TesseractClient(
          route("binref-abs-ok", (_req, s) => reply(s, 200, binref(`${outDir}/run_1/ok.bin`))),
          {
            outputPath: outDir,
          },
        ).apply({})) as { r: { data: Uint8Array } };
        assert.equal(abs.r.data[7], 8);
        return "read run_1/ok.bin and its absolute path inside outputPath";
      } finally {
        await c.close();
      }
    });
  });

  const escapes: [string, string, RegExp][] = [
    ["absolute-etc-passwd", "/etc/passwd:0", /points outside the output folder/],
    ["dot-dot", "../outside.bin:0", /points outside the output folder/],
    ["symlink-to-etc-passwd", "run_1/link.bin:0", /points outside the output folder .* \(through a symbolic link\)/],
    ["symlinked-directory", "dirlink/outside.bin:0", /points outside the output folder/],
    ["fifo", "run_1/fifo.bin:0", /is a FIFO, not a regular file/],
    ["directory", "run_1:0", /is a directory, not a regular file/],
    ["remote-url", "s3://bucket/x.bin:0", /remote paths are not read/],
    ["beyond-file-end", "run_1/ok.bin:4", /the file holds 8 bytes, the array needs 8 at offset 4/],
  ];
  for (const [name, buffer, says] of escapes) {
    test(name, async () => {
      await hostile(`binref/${name}`, "refused", async () => {
        const c = new TesseractClient(
          route(`binref-${name}`, (_req, s) => reply(s, 200, binref(buffer))),
          { outputPath: outDir },
        );
        try {
          return await refusedWith(() => c.apply({}), TesseractResponseError, says, 3000);
        } finally {
          await c.close();
        }
      });
    });
  }
});

describe("a binref whose compressed size claims 1 TB", () => {
  test("refused by maxResponseBytes before reading", async () => {
    await hostile("binref/compressed-size-claims-1TB", "refused", async () => {
      const body = JSON.stringify({
        r: array([8], "uint8", { buffer: "run_1/ok.bin:0:1000000000000", encoding: "binref", compression: "lz4" }),
      });
      const c = new TesseractClient(
        route("binref-1tb", (_req, s) => reply(s, 200, body)),
        { outputPath: outDir },
      );
      try {
        return await refusedWith(
          () => c.apply({}),
          TesseractLimitError,
          /compressed binref buffer .* exceeds maxResponseBytes/,
        );
      } finally {
        await c.close();
      }
    });
  });
});

describe("secrets in the url", () => {
  test("credentials go as Basic auth and never appear in an error", async () => {
    await hostile("secrets/url-credentials-echoed", "handled", async () => {
      const url = route("creds", (req, s) => {
        // a server that echoes everything it got, credentials included
        reply(
          s,
          500,
          `bad request ${req.headers.authorization} for http://${USER}:${PASSWORD}@host/ (password ${PASSWORD})`,
          {
            "content-type": "text/plain",
          },
        );
      });
      const withCreds = url.replace("http://", `http://${USER}:${encodeURIComponent(PASSWORD)}@`);
      const c = new TesseractClient(withCreds);
      try {
        assert.ok(!c.url.includes(PASSWORD) && !c.url.includes(USER), c.url);
        const said = await refusedWith(() => c.apply({}), TesseractServerError, /HTTP 500/);
        const got = seen.at(-1);
        assert.equal(got?.headers.authorization, `Basic ${TOKEN}`, "credentials not sent as Basic auth");
        const err = await c.apply({}).catch((e: TesseractServerError) => e);
        return `${said}\n${(err as TesseractServerError).body}\n${JSON.stringify(err)}`;
      } finally {
        await c.close();
      }
    });
  });

  test("credentials never appear in a connection error", async () => {
    await hostile("secrets/url-credentials-unreachable", "handled", async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
      const port = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const c = new TesseractClient(`http://${USER}:${PASSWORD}@127.0.0.1:${port}`);
      try {
        return await refusedWith(
          () => c.health(),
          TesseractConnectionError,
          /cannot reach the Tesseract at http:\/\/127\.0\.0\.1/,
        );
      } finally {
        await c.close();
      }
    });
  });

  test("a bad url with credentials is refused without showing them", async () => {
    await hostile("secrets/url-credentials-invalid-url", "refused", async () => {
      try {
        new TesseractClient(`ftp://${USER}:${PASSWORD}@127.0.0.1:1`);
        assert.fail("accepted");
      } catch (err) {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /must be http\(s\)/);
        return err.message;
      }
    });
  });
});

describe("fromImage refuses what TesseractService refuses", () => {
  test("debug on the host network, and a hostIp that is not an IP", async () => {
    await hostile("from-image/debug-on-host-network", "refused", async () => {
      await assert.rejects(
        TesseractClient.fromImage("x:1", { network: "host", debug: true }),
        (e: Error & { property?: string }) => {
          assert.equal(e.property, "debug");
          assert.match(e.message, /debug is not supported with network "host"/);
          return true;
        },
      );
      await assert.rejects(
        TesseractClient.fromImage("x:1", { hostIp: "not-an-ip" }),
        (e: Error & { property?: string }) => {
          assert.equal(e.property, "hostIp");
          assert.match(e.message, /hostIp "not-an-ip" must be an IPv4 address/);
          return true;
        },
      );
      return 'debug with network "host" and hostIp "not-an-ip" refused before any engine call';
    });
  });
});
