// TesseractService through the real Pulumi engine (Automation API, inline program, file backend).
// Run `npx tsc -p tsconfig.json` first: the provider shim loads lib/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { DockerClient } from "../../provider/docker";
import { TesseractService } from "../../provider/resources/tesseract-service";
import { ensureHelloImage } from "../helpers/service-fixture";
import { testWorkspace } from "../helpers/stack";
import { requireVenvBin } from "../helpers/venv";

const ROOT = join(__dirname, "..", "..");
const run = `svce2e-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-svc-e2e-"));
const stacks: Stack[] = [];
let hello = "";

async function stack(name: string, program: () => Promise<Record<string, unknown>>): Promise<Stack> {
  const s = await LocalWorkspace.createOrSelectStack(
    { stackName: `${run}-${name}`, projectName: "pt-service-e2e", program },
    testWorkspace("pt-service-e2e"),
  );
  stacks.push(s);
  return s;
}

function pyApply(url: string, name: string): string {
  const py = requireVenvBin("python");
  return execFileSync(py, [
    "-c",
    `from tesseract_core import Tesseract; t=Tesseract.from_url(${JSON.stringify(url)}); print(t.apply({"name": ${JSON.stringify(name)}}))`,
  ]).toString();
}

/** Everything of this run on the engine: containers, networks, and the anonymous volumes seen. */
async function inventory(volumes: string[] = []) {
  const containers = await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
  const networks = await docker.listNetworks({ label: [`pulumi-tesseract.test=${run}`] });
  const all = await docker.listVolumes({});
  return {
    containers: containers.length,
    networks: networks.length,
    volumes: all.filter((v) => volumes.includes(v.Name)).length,
  };
}

before(async () => {
  try {
    execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  } catch {
    // type errors elsewhere still emit lib/; the tests below fail clearly if the shim cannot load
  }
  hello = await ensureHelloImage(docker);
});

after(async () => {
  for (const s of stacks) {
    await s.destroy().catch(() => undefined);
    await s.workspace.removeStack(s.name).catch(() => undefined);
  }
  for (const c of await docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeContainer(c.Id);
  for (const n of await docker.listNetworks({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeNetwork(n.Id);
  rmSync(dir, { recursive: true, force: true });
  await docker.close();
});

test("up serves (apply via tesseract-core), up --refresh recreates a killed container, destroy leaves nothing", async () => {
  const net = `pt-e2e-${run}`;
  const before = await inventory();
  const s = await stack("main", async () => {
    const svc = new TesseractService("hello", {
      image: hello,
      replicas: 2,
      network: net,
      outputPath: join(dir, "out"),
      labels: LABEL,
    });
    return { url: svc.url, urls: svc.urls, ids: svc.containerIds, ports: svc.hostPorts };
  });
  const up = await s.up();
  const url = up.outputs.url.value as string;
  const ids = up.outputs.ids.value as string[];
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(pyApply(url, "engine"), /Hello, engine!/);
  const mid = await inventory();
  assert.equal(mid.containers, before.containers + 2);
  assert.equal(mid.networks, before.networks + 1, "the network was created");
  const volumes = (
    await Promise.all(
      ids.map(async (id) =>
        (await docker.inspectContainer(id))!.Mounts.filter((m) => m.Type === "volume").map((m) => m.Name!),
      ),
    )
  ).flat();
  assert.ok(volumes.length >= 2);

  // no change: nothing to do
  const again = await s.preview();
  assert.equal(again.changeSummary.update ?? 0, 0);
  assert.equal(again.changeSummary.replace ?? 0, 0);

  // kill one replica by hand (a manual kill is not undone by the restart policy);
  // `up --refresh` replaces it, on the same port
  execFileSync("docker", ["kill", ids[0]], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await docker.inspectContainer(ids[0]))?.State.Running, false);
  const healed = await s.up({ refresh: true });
  const newIds = healed.outputs.ids.value as string[];
  assert.notEqual(newIds[0], ids[0]);
  assert.equal(newIds[1], ids[1]);
  assert.equal((await docker.inspectContainer(newIds[0]))?.State.Running, true);
  assert.equal(await docker.inspectContainer(ids[0]), undefined, "the dead container is removed");
  assert.equal(healed.outputs.ports.value[0], up.outputs.ports.value[0]);
  assert.match(pyApply(healed.outputs.url.value as string, "again"), /Hello, again!/);

  await s.destroy();
  const end = await inventory(volumes);
  assert.deepEqual(end, { containers: before.containers, networks: before.networks, volumes: 0 });
});

test("bad input fails at preview with the field, the value and the fix", async () => {
  const s = await stack("bad", async () => {
    new TesseractService("bad", { image: hello, port: "8000-", volumes: [`${dir}:/data:wr`], labels: LABEL });
    return {};
  });
  const err = await s.preview().catch((e) => e);
  const text = String(err?.message ?? err);
  assert.match(text, /port: must be a port \("8080"\), a range \("8000-8010"\)/);
  assert.match(text, /volumes\[0\]: .* has mode "wr"/);
});

test("replacing a 2-replica service (environment change) never leaves it without a healthy replica", async () => {
  const { probeHealth } = await import("../../provider/serve/health");
  let env = "one";
  const s = await stack("rolling", async () => {
    const svc = new TesseractService("rolling", {
      image: hello,
      replicas: 2,
      environment: { GEN: env },
      labels: LABEL,
    });
    return { ids: svc.containerIds };
  });
  const first = await s.up();
  env = "two";
  let polling = true;
  let polls = 0;
  let gaps = 0;
  const poller = (async () => {
    while (polling) {
      const list = (await docker.listContainers(
        { label: ["pulumi-tesseract.service=rolling", `pulumi-tesseract.test=${run}`] },
        false,
      )) as unknown as {
        Ports: { PrivatePort: number; PublicPort?: number }[];
      }[];
      const ports = list.flatMap((c) =>
        c.Ports.filter((p) => p.PrivatePort === 8000 && p.PublicPort).map((p) => p.PublicPort!),
      );
      const healthy = await Promise.all(ports.map((p) => probeHealth(`http://127.0.0.1:${p}`, 500)));
      polls++;
      if (!healthy.some(Boolean)) gaps++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const second = await s.up();
  polling = false;
  await poller;
  assert.equal(second.summary.resourceChanges?.replace, 1);
  const oldIds = first.outputs.ids.value as string[];
  const newIds = second.outputs.ids.value as string[];
  assert.ok(newIds.every((id) => !oldIds.includes(id)));
  for (const id of oldIds) assert.equal(await docker.inspectContainer(id), undefined);
  assert.ok(polls > 5, `polled ${polls} times`);
  assert.equal(gaps, 0, `${gaps} of ${polls} polls saw no healthy replica`);
  await s.destroy();
});
