/**
 * The client's rules for hostile input, one by one (the hostile HTTP server that exercises them
 * end to end is test/faults/hostile-server.test.ts): exact array values (NaN/Infinity literals,
 * bigints, dtype ranges, cycles, depth), responses checked against shape and dtype and limits
 * checked before allocating, binref reads confined to the output folder, url credentials sent as
 * Basic auth and redacted, option checks, and fromImage's serve rules.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { readBinrefs } from "../../provider/client/binref";
import { TesseractClient } from "../../provider/client/client";
import {
  parseValidationBody,
  printable,
  redactUrlCredentials,
  TesseractError,
  TesseractServerError,
} from "../../provider/client/errors";
import { exactTypedData } from "../../provider/client/exact";
import { serveContainerSpec } from "../../provider/client/from-image";
import { BadInputValue, BadResponse, checkJsonDepth, LimitExceeded } from "../../provider/client/limits";
import { lz4FrameDecompress } from "../../provider/client/lz4";
import { toWireArray } from "../../provider/client/ndarray";
import { encodeRequestBody, toAbstract } from "../../provider/client/request-body";
import { DecodeContext, decodeTree, parseResponseBody } from "../../provider/client/response-body";

const text = (payload: unknown) => encodeRequestBody(payload).chunks.join("");

describe("request values arrive as sent", () => {
  it("NaN and ±Infinity outside arrays are written as Python's json writes them", () => {
    assert.equal(
      text({ inputs: { a: [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], s: Number.NaN } }),
      '{"inputs":{"a":[1,NaN,Infinity,-Infinity],"s":NaN}}',
    );
    // a user string that looks like a placeholder stays a string
    assert.equal(text({ s: "@@pt:x:L0@@" }), '{"s":"@@pt:x:L0@@"}');
  });

  it("bigints are written as exact digits, not rounded numbers", () => {
    assert.equal(
      text({ n: 2n ** 60n + 1n, m: [-(2n ** 63n)] }),
      '{"n":1152921504606846977,"m":[-9223372036854775808]}',
    );
  });

  it("float arrays with NaN keep their bytes even with json encoding", () => {
    const t = encodeRequestBody({ a: new Float64Array([Number.NaN]) }, "json").chunks.join("");
    assert.match(t, /"encoding":"base64"/);
  });

  it("refuses values out of range or not exact for the dtype, naming path and index", () => {
    const refused: [string, unknown[], RegExp][] = [
      ["int8", [127, 128], /element 1 is 128, out of range for int8 \(-128 to 127\)/],
      ["int16", [-32769], /out of range for int16/],
      ["uint16", [65536], /out of range for uint16/],
      ["uint32", [-1], /out of range for uint32/],
      ["uint64", [-1n], /out of range for uint64/],
      ["int64", [2n ** 63n], /out of range for int64/],
      ["int32", [0.5], /not an integer/],
      ["int32", [Number.NaN], /not an integer/],
      ["float32", [3.5e38], /would become infinity/],
      ["float16", [65520], /would become infinity/],
      ["float64", [{}], /not a number/],
      ["bool", ["yes"], /not a boolean/],
    ];
    for (const [dtype, data, says] of refused) {
      assert.throws(
        () => encodeRequestBody({ inputs: { a: { dtype, data } } }),
        (e: unknown) => e instanceof BadInputValue && says.test(e.message) && e.path.startsWith("inputs.a["),
        `${dtype} ${String(data)}`,
      );
    }
  });

  it("accepts every value that fits exactly, including what toPlainArray writes", () => {
    assert.deepEqual([...(exactTypedData("int8", [-128, 127, "5", true], "x") as Int8Array)], [-128, 127, 5, 1]);
    assert.deepEqual(
      [...(exactTypedData("uint64", [2n ** 64n - 1n, "18446744073709551615"], "x") as BigUint64Array)],
      [2n ** 64n - 1n, 2n ** 64n - 1n],
    );
    const f = exactTypedData("float64", ["NaN", "Infinity", "-Infinity", "1.5", 2n], "x") as Float64Array;
    assert.ok(Number.isNaN(f[0]));
    assert.deepEqual([...f.subarray(1)], [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, 2]);
    // float32 rounds (as numpy does) but never overflows silently; infinities stay infinities
    assert.equal(
      (exactTypedData("float32", [0.1, Number.POSITIVE_INFINITY], "x") as Float32Array)[1],
      Number.POSITIVE_INFINITY,
    );
    assert.equal(toWireArray({ dtype: "float16", data: new Float64Array([65504]) })?.data[0], 0x7bff);
  });

  it("refuses a value that contains itself, naming its path, and nesting beyond maxJsonDepth", () => {
    const a: Record<string, unknown> = {};
    a.b = [1, { c: a }];
    assert.throws(
      () => encodeRequestBody({ inputs: { a } }),
      (e: unknown) =>
        e instanceof BadInputValue &&
        e.type === "circular_reference" &&
        /inputs\.a\.b\[1\]\.c contains itself/.test(e.message),
    );
    assert.throws(() => toAbstract({ a }), /inputs\.a\.b\[1\]\.c contains itself/);
    const list: unknown[] = [];
    list.push(list);
    assert.throws(() => encodeRequestBody({ x: { dtype: "float64", data: list } }), /nested more than 64 levels/);
    let deep: unknown = 0;
    for (let i = 0; i < 50; i++) deep = [deep];
    assert.throws(
      () => encodeRequestBody({ deep }, "base64", undefined, 10),
      /more than 10 levels deep \(maxJsonDepth/,
    );
    assert.doesNotThrow(() => encodeRequestBody({ deep }));
    let deeper: unknown = 0;
    for (let i = 0; i < 5000; i++) deeper = [deeper];
    assert.throws(() => toAbstract({ deeper }), /more than 1000 levels deep \(maxJsonDepth/);
    // the same object twice (not a cycle) is fine
    const shared = { x: 1 };
    assert.equal(text({ p: shared, q: [shared] }), '{"p":{"x":1},"q":[{"x":1}]}');
  });
});

describe("responses are checked against their shape and dtype", () => {
  const arr = (shape: number[], dtype: string, data: unknown) => ({ r: { object_type: "array", shape, dtype, data } });
  const b64 = (bytes: number[]) => ({ buffer: Buffer.from(bytes).toString("base64"), encoding: "base64" });

  it("refuses data that does not fill the shape, unknown dtypes and bad shapes", () => {
    assert.throws(
      () => decodeTree(arr([3], "uint8", b64([1, 2]))),
      (e: unknown) => e instanceof BadResponse && /r: .*needs 3 bytes, got 2/.test(e.message),
    );
    assert.throws(
      () => decodeTree(arr([3], "uint8", { buffer: [1, 2], encoding: "json" })),
      /holds 2 values, its shape \[3\] needs 3/,
    );
    assert.throws(() => decodeTree(arr([1], "object", b64([1]))), /dtype "object" is not one of/);
    assert.throws(
      () => decodeTree(arr([1.5], "uint8", b64([1]))),
      /shape \[1.5\] is not a list of non-negative integers/,
    );
    assert.throws(() => decodeTree(arr([1], "uint8", "AQ==")), /data is not \{buffer, encoding\}/);
    assert.throws(() => decodeTree(arr([1], "int8", { buffer: [200], encoding: "json" })), /out of range for int8/);
  });

  it("refuses bad base64 instead of skipping characters", () => {
    assert.throws(
      () => decodeTree(arr([3], "uint8", { buffer: "AQI*", encoding: "base64" })),
      /not valid base64 \(character "\*" at 3\)/,
    );
    assert.throws(() => decodeTree(arr([2], "uint8", { buffer: "AQI", encoding: "base64" })), /not valid base64/);
  });

  it("counts decoded bytes against maxResponseBytes before allocating", () => {
    const ctx = new DecodeContext({ maxBytes: 1000 });
    assert.throws(
      () => decodeTree(arr([2 ** 40], "float64", b64([0])), undefined, ctx),
      (e: unknown) => e instanceof LimitExceeded && e.limit === "maxResponseBytes" && /8 TiB/.test(e.message),
    );
    const zeros = [...Buffer.alloc(800)];
    const two = { a: arr([100], "float64", b64(zeros)).r, b: arr([100], "float64", b64(zeros)).r };
    assert.throws(
      () => decodeTree(two, undefined, new DecodeContext({ maxBytes: 1000 })),
      /with 800 bytes decoded before it/,
    );
  });

  it("refuses nesting beyond maxJsonDepth without overflowing the stack", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    assert.throws(
      () => parseResponseBody(Buffer.from(deep)),
      (e: unknown) => e instanceof LimitExceeded && e.limit === "maxJsonDepth",
    );
    assert.throws(() => checkJsonDepth(JSON.parse(deep), 1000, "x"), /x is nested more than 1000 levels/);
    assert.doesNotThrow(() => parseResponseBody(Buffer.from("[[[[1]]]]"), { maxDepth: 5 }));
    assert.throws(() => parseResponseBody(Buffer.from("[[[[1]]]]"), { maxDepth: 3 }), /maxJsonDepth/);
  });

  it("refuses an lz4 frame that announces more than the array needs before allocating", () => {
    const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x48, 0x70, 0, 0, 0, 0, 1, 0, 0, 0]);
    const { xxh32 } = require("../../provider/client/lz4") as typeof import("../../provider/client/lz4");
    const frame = Buffer.concat([header, Buffer.from([(xxh32(header, 4, 14) >>> 8) & 0xff]), Buffer.alloc(4)]);
    assert.throws(
      () => lz4FrameDecompress(frame, 16),
      /lz4: data is larger than expected \(the frame says 4294967296 bytes/,
    );
  });

  it("refuses JSON text that is not JSON with its start", () => {
    assert.throws(
      () => parseResponseBody(Buffer.from("<html>hi</html>")),
      /not valid JSON .*it starts with "<html>hi<\/html>"/,
    );
  });
});

describe("binref reads are confined to the output folder", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pt-binref-unit-"));
  const out = path.join(dir, "out");
  mkdirSync(path.join(out, "run"), { recursive: true });
  writeFileSync(path.join(out, "run", "a.bin"), Buffer.from([9, 8, 7, 6]));
  writeFileSync(path.join(dir, "secret.bin"), Buffer.from([1, 1, 1, 1]));
  symlinkSync(path.join(dir, "secret.bin"), path.join(out, "run", "link.bin"));
  symlinkSync(path.join(out, "run", "a.bin"), path.join(out, "run", "inner-link.bin"));
  execFileSync("mkfifo", [path.join(out, "run", "pipe.bin")]);
  after(() => rmSync(dir, { recursive: true, force: true }));

  const read = async (buffer: string, signal?: AbortSignal) => {
    const ctx = new DecodeContext({}, out);
    const tree = decodeTree(
      { r: { object_type: "array", shape: [4], dtype: "uint8", data: { buffer, encoding: "binref" } } },
      undefined,
      ctx,
    ) as {
      r: { data: Uint8Array };
    };
    await readBinrefs(ctx.binrefs, out, 1 << 20, signal);
    return [...tree.r.data];
  };

  it("reads regular files inside it, by relative or absolute path or a link that stays inside", async () => {
    assert.deepEqual(await read("run/a.bin"), [9, 8, 7, 6]);
    assert.deepEqual(await read(`${out}/run/a.bin:0`), [9, 8, 7, 6]);
    assert.deepEqual(await read("run/inner-link.bin"), [9, 8, 7, 6]);
  });

  it("refuses escapes, links out, FIFOs (without blocking) and short files", async () => {
    await assert.rejects(read("/etc/passwd"), /points outside the output folder/);
    await assert.rejects(read("../secret.bin"), /points outside the output folder/);
    await assert.rejects(read("run/link.bin"), /through a symbolic link/);
    await assert.rejects(read("run/pipe.bin"), /is a FIFO, not a regular file/);
    await assert.rejects(read("run/a.bin:2"), /the file holds 4 bytes, the array needs 4 at offset 2/);
    await assert.rejects(read("run/missing.bin"), /cannot be read \(ENOENT\)/);
  });

  it("stops at the call's signal", async () => {
    await assert.rejects(read("run/a.bin", AbortSignal.abort(new Error("call timed out"))), /call timed out/);
  });
});

describe("url credentials and secrets", () => {
  it("are sent as Basic auth (percent-decoded, as requests does) and kept out of url and messages", () => {
    const c = new TesseractClient("http://al%40ice:p%3Ass@127.0.0.1:9/x/");
    assert.equal(c.url, "http://127.0.0.1:9/x");
    const headers = (c as unknown as { requestHeaders: Record<string, string> }).requestHeaders;
    assert.equal(headers.authorization, `Basic ${Buffer.from("al@ice:p:ss").toString("base64")}`);
  });

  it("the url's credentials win over an Authorization header, as in requests", () => {
    const c = new TesseractClient("http://u:pw12@h", { headers: { Authorization: "Bearer other" } });
    const headers = (c as unknown as { requestHeaders: Record<string, string> }).requestHeaders;
    assert.equal(headers.authorization, `Basic ${Buffer.from("u:pw12").toString("base64")}`);
    assert.equal(headers.Authorization, undefined);
  });

  it("every TesseractError message and url is redacted", () => {
    assert.equal(
      redactUrlCredentials("see https://u:secret@h:1/p and ws://x@y"),
      "see https://***@h:1/p and ws://***@y",
    );
    const e = new TesseractError("failed at http://u:secret@h/", { url: "http://u:secret@h" });
    assert.ok(!e.message.includes("secret") && !e.url.includes("secret"));
    assert.throws(
      () => new TesseractClient("ftp://u:secret@h"),
      (err: Error) => !err.message.includes("secret"),
    );
    assert.throws(
      () => new TesseractClient("http://u:secret@[::1"),
      (err: Error) => !err.message.includes("secret"),
    );
  });

  it("limit options must be positive numbers", () => {
    assert.throws(
      () => new TesseractClient("h", { maxResponseBytes: 0 }),
      /maxResponseBytes must be a positive number/,
    );
    assert.throws(() => new TesseractClient("h", { headersTimeoutMs: -1 }), /headersTimeoutMs must be 0/);
    assert.doesNotThrow(() => new TesseractClient("h", { headersTimeoutMs: 0, bodyTimeoutMs: 0 }));
  });
});

describe("fromImage follows TesseractService's serve rules", () => {
  it("refuses debug on the host network and a hostIp that is not IPv4", () => {
    assert.throws(
      () => serveContainerSpec("x:1", { network: "host", debug: true }, "id"),
      (e: Error & { property?: string }) =>
        e.property === "debug" && /debugpy would listen on every interface/.test(e.message),
    );
    for (const hostIp of ["not-an-ip", "::1", "127.0.0.256", ""]) {
      assert.throws(
        () => serveContainerSpec("x:1", { hostIp }, "id"),
        (e: Error & { property?: string }) => e.property === "hostIp",
        hostIp,
      );
    }
    assert.doesNotThrow(() => serveContainerSpec("x:1", { network: "host" }, "id"));
    assert.doesNotThrow(() => serveContainerSpec("x:1", { hostIp: "0.0.0.0", debug: true }, "id"));
  });
});

describe("what a server sends is printable in errors", () => {
  const nasty = "\u001b]0;owned\u0007\u001b[2J\u0000\u001f\u008b end";
  const clean = (s: string) => assert.equal(printable(s), s, JSON.stringify(s));

  it("a 500 body with terminal escapes and NULs is shown escaped; newlines stay", () => {
    const err = new TesseractServerError({ url: "http://x", endpoint: "apply", status: 500, body: `line 1\n${nasty}` });
    clean(err.message);
    assert.match(err.message, /line 1\n\\u001b\]0;owned\\u0007/);
  });

  it("a gzip body where JSON was expected: the parser's own message is escaped too", () => {
    const gz = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0x41]);
    assert.throws(
      () => parseResponseBody(gz),
      (e: Error) => {
        clean(e.message);
        return /not valid JSON/.test(e.message);
      },
    );
  });

  it("a 422 body that is not FastAPI's shape falls back to escaped text", () => {
    clean(parseValidationBody(nasty)[0].message);
  });

  it("printable keeps tabs and newlines", () => assert.equal(printable("a\tb\nc"), "a\tb\nc"));
});
