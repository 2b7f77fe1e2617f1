// TesseractService's typed container options, gpuTransport and skipHealthCheck on the real engine:
// the HostConfig Docker records for them, a call that works through them, and nothing left behind.
import assert from "node:assert/strict";
import type { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { pack } from "tar-stream";
import { TesseractClient } from "../../provider/client/client";
import { UserError } from "../../provider/common/errors";
import { DockerClient } from "../../provider/docker";
import { apply } from "../../provider/functions";
import * as impl from "../../provider/resources/tesseract-service-impl";
import { runTesseract } from "../../provider/run/run-tesseract";
import { waitHealthy } from "../../provider/serve/health";
import { ensureHelloImage } from "../helpers/service-fixture";

process.env.PULUMI_TESSERACT_QUIET = "1";
const run = `svcopt-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const docker = DockerClient.for();
const sleepTag = `pulumi-tesseract-test/sleep:${run}`;
let hello = "";

async function ours() {
  return docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
}

/** Runs create through check, as the engine does; throws check failures as an error. */
async function createService(raw: Record<string, unknown>) {
  const checked = await impl.check({}, { serviceName: "itest-opts", labels: LABEL, ...raw });
  if (checked.failures?.length) throw new UserError(checked.failures.map((f) => f.reason).join("\n"));
  const created = await impl.create(checked.inputs as Record<string, unknown>);
  return { id: created.id as string, outs: created.outs as impl.ContainerServiceState };
}

/** The raw inspect document (the typed one lists only what the provider reads). */
async function hostConfig(id: string): Promise<Record<string, unknown>> {
  const info = (await docker.inspectContainer(id)) as unknown as { HostConfig: Record<string, unknown> };
  return info.HostConfig;
}

before(async () => {
  const p = pack();
  // A "Tesseract" that never answers /health: only skipHealthCheck lets a create succeed.
  p.entry({ name: "Dockerfile" }, 'FROM debian:bookworm-slim\nENV TESSERACT_NAME=fake\nENTRYPOINT ["sleep", "600"]\n');
  p.finalize();
  await docker.build(p as unknown as Readable, { tags: [sleepTag], labels: LABEL }, () => {});
  hello = await ensureHelloImage(docker);
});

after(async () => {
  for (const c of await ours()) await docker.removeContainer(c.Id);
  await docker.removeImage(sleepTag, { force: true });
  await docker.close();
});

test("skipHealthCheck: create returns with running containers that never answer /health", async () => {
  const t0 = Date.now();
  const { id, outs } = await createService({ image: sleepTag, skipHealthCheck: true, startupTimeout: 1 });
  assert.ok(Date.now() - t0 < 20_000, "create did not wait for a health check");
  assert.equal(outs.containers.length, 1);
  const info = await docker.inspectContainer(outs.containers[0].id);
  assert.equal(info?.State.Running, true);
  await impl.remove(id, outs);
  assert.equal((await ours()).length, 0);
});

test("every container option, gpuTransport and skipHealthCheck reach HostConfig; apply works; nothing left", async () => {
  const { id, outs } = await createService({
    image: hello,
    skipHealthCheck: true,
    gpuTransport: "cuda_ipc",
    numWorkers: 1,
    container: {
      shmSize: "128m",
      ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 2048 },
      cpus: 0.5,
      capAdd: ["SYS_PTRACE"],
      capDrop: ["NET_RAW"],
      devices: ["/dev/zero:/dev/pt-zero:r"],
      tmpfs: ["/scratch:size=16m,mode=1777"],
      extraHosts: ["pt-db.internal:10.0.0.5"],
      logConfig: { type: "json-file", config: { "max-size": "10m", "max-file": "2" } },
    },
  });
  try {
    const cid = outs.containers[0].id;
    const hc = await hostConfig(cid);
    assert.equal(hc.ShmSize, 128 * 1024 ** 2);
    assert.deepEqual(hc.Ulimits, [
      { Name: "nofile", Soft: 1024, Hard: 4096 },
      { Name: "nproc", Soft: 2048, Hard: 2048 },
    ]);
    assert.equal(hc.NanoCpus, 500_000_000);
    // Docker records capabilities with or without CAP_ depending on its version.
    const caps = (v: unknown) => ((v as string[] | null) ?? []).map((c) => c.replace(/^CAP_/, ""));
    assert.deepEqual(caps(hc.CapAdd), ["SYS_PTRACE"]);
    assert.deepEqual(caps(hc.CapDrop), ["NET_RAW"]);
    assert.deepEqual(hc.Devices, [
      { PathOnHost: "/dev/zero", PathInContainer: "/dev/pt-zero", CgroupPermissions: "r" },
    ]);
    assert.deepEqual(hc.Tmpfs, { "/scratch": "size=16m,mode=1777" });
    assert.deepEqual(hc.ExtraHosts, ["pt-db.internal:10.0.0.5"]);
    assert.deepEqual(hc.LogConfig, { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } });
    assert.equal(hc.IpcMode, "host");
    const info = await docker.inspectContainer(cid);
    assert.ok(info?.Config.Env?.includes("TESSERACT_GPU_TRANSPORT=cuda_ipc"));

    // skipHealthCheck left the wait to us; the runtime then serves through all of the above.
    const health = await waitHealthy(docker, cid, outs.url, 90);
    const logs = health.ok ? "" : await docker.containerLogs(cid, 40);
    assert.ok(health.ok, `not healthy: ${health.ok ? "" : health.detail}\n${logs}`);
    const res = await apply({ url: outs.url, inputs: { name: "options" } });
    assert.deepEqual(res.outputs, { greeting: "Hello, options!" });
  } finally {
    await impl.remove(id, outs);
  }
  assert.equal((await ours()).length, 0);
});

test("TesseractClient.fromImage and runTesseract: the same settings reach the engine", async () => {
  const t = await TesseractClient.fromImage(hello, {
    labels: LABEL,
    skipHealthCheck: true,
    container: { shmSize: "96m", tmpfs: ["/scratch"], extraHosts: ["pt-db.internal:10.0.0.6"] },
  });
  try {
    const hc = await hostConfig(t.containerId);
    assert.equal(hc.ShmSize, 96 * 1024 ** 2);
    assert.deepEqual(hc.Tmpfs, { "/scratch": "" });
    assert.deepEqual(hc.ExtraHosts, ["pt-db.internal:10.0.0.6"]);
    const health = await waitHealthy(docker, t.containerId, t.url, 90);
    assert.ok(health.ok, health.ok ? "" : health.detail);
    assert.deepEqual(await t.apply({ name: "fromImage" }), { greeting: "Hello, fromImage!" });
  } finally {
    await t.close();
  }
  const run = await runTesseract({
    image: hello,
    command: "apply",
    args: [JSON.stringify({ inputs: { name: "run" } })],
    labels: LABEL,
    container: { ulimits: { nofile: 2048 }, capDrop: ["NET_RAW"], logConfig: { type: "json-file" } },
  });
  assert.equal(run.exitCode, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { greeting: "Hello, run!" });
  assert.equal((await ours()).length, 0);
});
