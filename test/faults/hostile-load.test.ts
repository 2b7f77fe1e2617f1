/**
 * The hostile tier's "under load" class: a Docker engine busy enough to answer late (a heavy build
 * and `docker save` on 2 cores) is slow, not absent. Discovery uses an existing socket and the
 * operation waits for it with its own timeout; "No Docker engine found" comes only when nothing
 * is there, and then lists what was tried. Fake engines on unix sockets (net.createServer); the
 * unit file test/unit/docker-discovery-slow.test.ts covers the same functions case by case.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { DockerNotFoundError } from "../../provider/docker/errors";
import { createPool, probeDefault } from "../../provider/docker/transport";
import { Report } from "../helpers/faults/report";
import { SlowEngines } from "../helpers/slow-engine";

const report = new Report("hostile-load");
const dir = mkdtempSync(path.join(tmpdir(), "pt-hostile-load-"));
const engines = new SlowEngines(dir);

after(async () => {
  await engines.close();
  rmSync(dir, { recursive: true, force: true });
});

async function row(name: string, body: () => Promise<string>): Promise<void> {
  const t0 = Date.now();
  report.add("inputsTried");
  try {
    const detail = await body();
    report.add("inputsRefused");
    report.data.faults.push({
      fault: `hostile/load/${name}`,
      result: "pass",
      seconds: (Date.now() - t0) / 1000,
      detail,
    });
  } catch (err) {
    report.data.faults.push({
      fault: `hostile/load/${name}`,
      result: "fail",
      seconds: (Date.now() - t0) / 1000,
      detail: String(err).slice(0, 300),
    });
    throw err;
  } finally {
    report.flush();
  }
}

test("an engine answering /_ping after 2 s (beyond the 200 ms probe) is used and waited for", async () => {
  await row("engine answers late", async () => {
    const busy = await engines.start("busy.sock", 2_000);
    const ep = await probeDefault(undefined, [], 200, [{ host: busy, what: "the local engine" }]);
    assert.equal(ep.host, busy);
    const pool = createPool(ep);
    try {
      const res = await pool.request({ method: "GET", path: "/_ping", signal: AbortSignal.timeout(20_000) });
      assert.equal(await res.body.text(), "OK");
    } finally {
      await pool.destroy();
    }
    return "handled: the slow engine was used and answered";
  });
});

test("nothing there: not found, listing each place tried", async () => {
  await row("no engine at all", async () => {
    const err = await probeDefault(undefined, ["DOCKER_HOST"], 200, [
      { host: `unix://${path.join(dir, "missing.sock")}`, what: "the local engine" },
    ]).catch((e: unknown) => e);
    assert.ok(err instanceof DockerNotFoundError, String(err));
    assert.match(String((err as Error).message), /missing\.sock/);
    return "refused, explained: not found, naming what was tried";
  });
});
