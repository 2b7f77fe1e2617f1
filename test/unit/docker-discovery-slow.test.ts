/**
 * Discovery tells slow from absent: a socket that accepts connections but answers `/_ping` late
 * (dockerd busy with a heavy build on 2 cores) is used, and the operation waits for it; "No
 * Docker engine found" only when nothing listens. Fake unix-socket servers (net.createServer);
 * the real engines are test/integration/docker-engines.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { DockerNotFoundError } from "../../provider/docker/errors";
import { createPool, probeDefault, probeSocketState } from "../../provider/docker/transport";
import { SlowEngines } from "../helpers/slow-engine";

const dir = mkdtempSync(path.join(tmpdir(), "pt-discovery-slow-"));
const engines = new SlowEngines(dir);

after(async () => {
  await engines.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a listening socket that answers late is slow, not absent", async () => {
  const host = await engines.start("slow.sock", 1_500);
  const probe = await probeSocketState(host, 300);
  assert.equal(probe.state, "slow");
  assert.match(probe.why ?? "", /no answer within 300 ms/);
});

test("discovery uses the first existing socket even when it is slow, and the operation waits for it", async () => {
  const slow = await engines.start("slow2.sock", 1_000);
  const fast = await engines.start("fast.sock", 0);
  const ep = await probeDefault(undefined, [], 200, [
    { host: `unix://${path.join(dir, "missing.sock")}`, what: "missing" },
    { host: slow, what: "slow engine" },
    { host: fast, what: "fast engine" },
  ]);
  assert.equal(ep.host, slow);
  assert.equal(ep.source, "slow engine");
  // The operation's own timeout (here: none but the test's) applies: the slow answer arrives.
  const pool = createPool(ep);
  try {
    const t0 = Date.now();
    const res = await pool.request({ method: "GET", path: "/_ping", signal: AbortSignal.timeout(10_000) });
    assert.equal(await res.body.text(), "OK");
    assert.ok(Date.now() - t0 >= 900, "answered before the fake's delay");
  } finally {
    await pool.destroy();
  }
});

test("not found only when nothing is there: a missing file, a plain file, a stale socket", async () => {
  const plain = path.join(dir, "plain.sock");
  writeFileSync(plain, "");
  // A socket file nobody listens on (bound, never listening), like a crashed daemon's.
  const stale = path.join(dir, "stale.sock");
  execFileSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  const err = await probeDefault(undefined, ["DOCKER_HOST"], 200, [
    { host: `unix://${path.join(dir, "missing2.sock")}`, what: "missing" },
    { host: `unix://${plain}`, what: "plain file" },
    { host: `unix://${stale}`, what: "stale socket" },
  ]).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(err instanceof DockerNotFoundError, `expected DockerNotFoundError, got ${err}`);
  assert.match(err.message, /no such file/);
  assert.match(err.message, /exists but is not a socket/);
  assert.match(err.message, /stale socket\): connection refused/);
});
