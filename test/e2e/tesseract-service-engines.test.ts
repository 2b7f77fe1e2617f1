// One stack, two Docker engines: the default socket and a second dockerd on a loopback TCP port,
// started here with its own data root, exec root, pidfile and bridge (iptables off).
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { DockerClient } from "../../provider/docker";
import { TesseractService } from "../../provider/resources/tesseract-service";
import { freePort } from "../helpers/serve-runtime";
import { ensureHelloImage } from "../helpers/service-fixture";
import { testWorkspace } from "../helpers/stack";
import { requireVenvBin } from "../helpers/venv";

const ROOT = join(__dirname, "..", "..");
const run = `svceng-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const base = `/tmp/pt-dockerd2-${process.pid}`;
const bridge = `pt2br${process.pid % 10000}`;
let daemon: ChildProcess | undefined;
let host2 = "";
let second: DockerClient | undefined;
let hello = "";
let stack: Stack | undefined;
const first = DockerClient.for();

async function startSecondEngine(): Promise<void> {
  mkdirSync(base, { recursive: true });
  const port = await freePort();
  host2 = `tcp://127.0.0.1:${port}`;
  // the first daemon owns docker0; the second gets its own bridge and leaves iptables alone
  execFileSync("ip", ["link", "add", bridge, "type", "bridge"]);
  execFileSync("ip", ["addr", "add", `10.${200 + (process.pid % 50)}.0.1/24`, "dev", bridge]);
  execFileSync("ip", ["link", "set", bridge, "up"]);
  const log = openSync(join(base, "dockerd.log"), "a");
  daemon = spawn(
    "dockerd",
    [
      "--data-root",
      join(base, "data"),
      "--exec-root",
      join(base, "exec"),
      "--pidfile",
      join(base, "dockerd.pid"),
      "-H",
      host2,
      `--bridge=${bridge}`,
      "--iptables=false",
      "--ip-masq=false",
    ],
    { stdio: ["ignore", log, log] },
  );
  second = DockerClient.for({ host: host2 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await second.version();
      return;
    } catch (err) {
      if (Date.now() > deadline || daemon.exitCode !== null) {
        throw new Error(
          `second dockerd did not start: ${String(err)}\n${readFileSync(join(base, "dockerd.log"), "utf8").slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** `GET /images/{name}/get` on the first engine piped into `POST /images/load` on the second. */
async function copyImage(name: string): Promise<void> {
  const saved = await first.call("GET", `/images/${encodeURIComponent(name)}/get`);
  const res = await second!.call("POST", "/images/load", {
    body: Readable.from(saved.body),
    headers: { "content-type": "application/x-tar" },
    query: { quiet: true },
  });
  const text = await res.body.text();
  assert.doesNotMatch(text, /"error"/, text);
}

before(async () => {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    // type errors elsewhere still emit lib/
  }
  hello = await ensureHelloImage(first);
  await startSecondEngine();
  await copyImage(hello);
});

after(async () => {
  if (stack) {
    await stack.destroy().catch(() => undefined);
    await stack.workspace.removeStack(stack.name).catch(() => undefined);
  }
  for (const c of await first.listContainers({ label: [`pulumi-tesseract.test=${run}`] }))
    await first.removeContainer(c.Id);
  if (second) {
    for (const c of await second.listContainers({ label: [`pulumi-tesseract.test=${run}`] }).catch(() => [])) {
      await second.removeContainer(c.Id).catch(() => false);
    }
    await second.close();
  }
  if (daemon && daemon.exitCode === null) {
    daemon.kill("SIGTERM");
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        daemon?.kill("SIGKILL");
        r();
      }, 20_000);
      daemon!.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
  try {
    execFileSync("ip", ["link", "del", bridge], { stdio: "ignore" });
  } catch {
    // not created
  }
  rmSync(base, { recursive: true, force: true });
  await first.close();
});

test("one stack places services on two engines; each serves, destroy cleans both", async () => {
  stack = await LocalWorkspace.createOrSelectStack(
    {
      stackName: run,
      projectName: "pt-service-engines",
      program: async () => {
        const a = new TesseractService("on-first", { image: hello, labels: LABEL });
        const b = new TesseractService("on-second", {
          image: hello,
          replicas: 2,
          labels: LABEL,
          docker: { host: host2 },
        });
        return { a: a.url, b: b.urls, aEngine: a.engine, bEngine: b.engine, bIds: b.containerIds };
      },
    },
    testWorkspace("pt-service-engines"),
  );
  const up = await stack.up();
  assert.equal(up.outputs.aEngine.value, "unix:///var/run/docker.sock");
  assert.equal(up.outputs.bEngine.value, host2);
  const onSecond = await second!.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
  const onFirst = await first.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
  assert.equal(onSecond.length, 2);
  assert.equal(onFirst.length, 1);
  assert.deepEqual(onSecond.map((c) => c.Id).sort(), [...(up.outputs.bIds.value as string[])].sort());
  const py = requireVenvBin("python");
  for (const url of [up.outputs.a.value as string, ...(up.outputs.b.value as string[])]) {
    const out = execFileSync(py, [
      "-c",
      `from tesseract_core import Tesseract; print(Tesseract.from_url(${JSON.stringify(url)}).apply({"name": "engines"}))`,
    ]).toString();
    assert.match(out, /Hello, engines!/);
  }
  await stack.destroy();
  assert.equal((await second!.listContainers({ label: [`pulumi-tesseract.test=${run}`] })).length, 0);
  assert.equal((await first.listContainers({ label: [`pulumi-tesseract.test=${run}`] })).length, 0);
});
