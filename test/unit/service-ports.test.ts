import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { isPortConflict, isPortFree, parsePort, pickPort, portCount, releasePorts } from "../../provider/serve/ports";

test("parses fixed ports, ranges and the default range", () => {
  assert.deepEqual(parsePort("8080"), { kind: "fixed", port: 8080 });
  assert.deepEqual(parsePort(8080), { kind: "fixed", port: 8080 });
  assert.deepEqual(parsePort("8000-8010"), { kind: "range", start: 8000, end: 8010 });
  assert.deepEqual(parsePort(" 8000 - 8001 "), { kind: "range", start: 8000, end: 8001 });
  assert.deepEqual(parsePort(undefined), { kind: "range", start: 49152, end: 65535 });
  assert.equal(portCount({ kind: "range", start: 8000, end: 8010 }), 11);
  assert.equal(portCount({ kind: "fixed", port: 1 }), 1);
});

test("rejects malformed ports with a fix", () => {
  for (const bad of ["http", "80-", "8000:8001", "-1", "1.5", "8000-8010-8020"]) {
    const r = parsePort(bad);
    assert.ok("error" in r, bad);
    assert.match(r.error, /8080|8000-8010/);
  }
  const outside = parsePort("70000");
  assert.ok("error" in outside && /outside 1-65535/.test(outside.error));
  const zero = parsePort("0");
  assert.ok("error" in zero);
  const reversed = parsePort("9000-8000");
  assert.ok("error" in reversed && /8000-9000/.test(reversed.error), JSON.stringify(reversed));
});

test("picks a free port in a range and skips one that is bound", async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
  const port = (busy.address() as { port: number }).port;
  try {
    assert.equal(await isPortFree(port), false);
    const spec = { kind: "range" as const, start: port, end: port + 3 };
    for (let i = 0; i < 5; i++) {
      const got = await pickPort(spec, { hostIp: "127.0.0.1", probe: true });
      assert.ok(got !== undefined && got !== port && got <= port + 3, String(got));
      releasePorts([got]);
    }
    assert.equal(
      await pickPort({ kind: "range", start: port, end: port }, { hostIp: "127.0.0.1", probe: true }),
      undefined,
    );
  } finally {
    busy.close();
  }
});

test("reserves picked ports until released, so concurrent services do not collide", async () => {
  const spec = { kind: "range" as const, start: 61000, end: 61001 };
  const a = await pickPort(spec, { hostIp: "127.0.0.1", probe: false });
  const b = await pickPort(spec, { hostIp: "127.0.0.1", probe: false });
  const c = await pickPort(spec, { hostIp: "127.0.0.1", probe: false });
  assert.notEqual(a, b);
  assert.equal(c, undefined);
  releasePorts([a, b]);
  assert.ok((await pickPort(spec, { hostIp: "127.0.0.1", probe: false, prefer: 61001 })) === 61001);
  releasePorts([61001]);
});

test("recognises Docker's port-conflict messages", () => {
  assert.ok(
    isPortConflict(
      new Error(
        "driver failed programming external connectivity: Bind for 127.0.0.1:8080 failed: port is already allocated",
      ),
    ),
  );
  assert.ok(isPortConflict(new Error("listen tcp4 127.0.0.1:8080: bind: address already in use")));
  assert.ok(!isPortConflict(new Error("No such image")));
});
