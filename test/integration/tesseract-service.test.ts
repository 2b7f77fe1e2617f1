// TesseractService provider against the real engine (provider methods called directly).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { pack } from "tar-stream";
import { UserError } from "../../provider/common/errors";
import { DockerClient } from "../../provider/docker";
import { getTesseractServiceLogs } from "../../provider/listing/service-logs";
import * as impl from "../../provider/resources/tesseract-service-impl";
import { ensureHelloImage } from "../helpers/service-fixture";
import { requireVenvBin } from "../helpers/venv";

process.env.PULUMI_TESSERACT_QUIET = "1";
const run = `svc-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const docker = DockerClient.for();
const crashTag = `pulumi-tesseract-test/crash:${run}`;
const sleepTag = `pulumi-tesseract-test/sleep:${run}`;
const dir = mkdtempSync(join(tmpdir(), "pt-svc-"));
let hello = "";

async function tinyImage(tag: string, entrypoint: string[]): Promise<void> {
  const p = pack();
  p.entry(
    { name: "Dockerfile" },
    `FROM debian:bookworm-slim\nENV TESSERACT_NAME=fake\nENTRYPOINT ${JSON.stringify(entrypoint)}\n`,
  );
  p.finalize();
  await docker.build(p as unknown as Readable, { tags: [tag], labels: LABEL }, () => {});
}

async function ours() {
  return docker.listContainers({ label: [`pulumi-tesseract.test=${run}`] });
}

/** Runs create through check, as the engine does; throws check failures as an error. */
async function createService(raw: Record<string, unknown>) {
  const checked = await impl.check({}, { serviceName: "itest", labels: LABEL, ...raw });
  if (checked.failures?.length) throw new UserError(checked.failures.map((f) => f.reason).join("\n"));
  return impl.create(checked.inputs as Record<string, unknown>);
}

before(async () => {
  await Promise.all([
    tinyImage(crashTag, ["sh", "-c", "echo boom-on-start >&2; exit 3"]),
    tinyImage(sleepTag, ["sh", "-c", "sleep 600"]),
  ]);
  hello = await ensureHelloImage(docker);
});

after(async () => {
  for (const c of await ours()) await docker.removeContainer(c.Id);
  for (const n of await docker.listNetworks({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeNetwork(n.Id);
  await docker.removeImage(crashTag, { force: true });
  await docker.removeImage(sleepTag, { force: true });
  rmSync(dir, { recursive: true, force: true });
  await docker.close();
});

test("an image that does not exist: clear error naming `image`, nothing created", async () => {
  const err = await createService({ image: `pulumi-tesseract-test/nope:${run}` }).catch((e) => e);
  assert.ok(err instanceof UserError, String(err));
  assert.match(err.message, /^image: image "pulumi-tesseract-test\/nope:.*" does not exist on the Docker engine/);
  assert.match(err.message, /never pulls/);
  assert.equal((await ours()).length, 0);
});

test("an image that is not a Tesseract is refused", async () => {
  const err = await createService({ image: "debian:bookworm-slim" }).catch((e) => e);
  assert.match(
    String(err),
    /image: image "debian:bookworm-slim" is not a Tesseract: its Config.Env has no TESSERACT_NAME/,
  );
  assert.equal((await ours()).length, 0);
});

test("a malformed port range fails check naming `port`", async () => {
  const r = await impl.check({}, { serviceName: "x", image: hello, port: "8000-" });
  assert.equal(r.failures?.[0].property, "port");
  assert.match(r.failures![0].reason, /^port: must be a port \("8080"\), a range \("8000-8010"\).*\(got "8000-"\)/);
});

test("a volume source that does not exist fails check naming the volume", async () => {
  const r = await impl.check({}, { serviceName: "x", image: hello, volumes: ["./no-such-dir:/data"] });
  assert.equal(r.failures?.[0].property, "volumes[0]");
  assert.match(
    r.failures![0].reason,
    /volumes\[0\]: ".\/no-such-dir:\/data" has source .*no-such-dir, which does not exist/,
  );
});

test("an invalid volume mode fails check naming the volume and the fix", async () => {
  const r = await impl.check({}, { serviceName: "x", image: hello, volumes: [`${dir}:/data:wr`] });
  assert.equal(r.failures?.[0].property, "volumes[0]");
  assert.match(r.failures![0].reason, /has mode "wr", which is neither "ro" nor "rw" \(fix: ".*:\/data:ro"\)/);
});

test("a container that crashes on start: error with its last log lines, container removed", async () => {
  const t0 = Date.now();
  const err = await createService({ image: crashTag }).catch((e) => e);
  assert.ok(err instanceof UserError, String(err));
  assert.match(err.message, /container itest-[0-9a-f]{6}-0 exited with code 3/);
  assert.match(err.message, /input `image` = "pulumi-tesseract-test\/crash/);
  assert.match(err.message, /The container was removed/);
  assert.match(err.message, /boom-on-start/);
  assert.ok(Date.now() - t0 < 10_000, "fails early, not at the startup timeout");
  assert.equal((await ours()).length, 0);
});

test("a container that never answers /health: timeout names startupTimeout, container removed", async () => {
  const err = await createService({ image: sleepTag, startupTimeout: 1.5 }).catch((e) => e);
  assert.match(String(err), /did not answer GET \/health within 1.5 s .*input `startupTimeout` is 1.5 s/);
  assert.equal((await ours()).length, 0);
});

test("a fixed port already in use: clear error naming the port, no retry, nothing left", async () => {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    const err = await createService({ image: hello, port: String(port) }).catch((e) => e);
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, new RegExp(`^port: host port ${port} on 127.0.0.1 is already in use`));
    assert.equal((await ours()).length, 0);
  } finally {
    server.close();
  }
});

test("serve 2 replicas on a new network, apply with tesseract-core's client, heal, scale, delete", async () => {
  const net = `pt-itest-${run}`;
  const outDir = join(dir, "out");
  const { id, outs } = await createService({
    image: hello,
    replicas: 2,
    network: net,
    networkAlias: "hello",
    outputPath: outDir,
  });
  const o = outs as impl.ContainerServiceState;
  assert.equal(o.urls.length, 2);
  assert.equal(o.url, o.urls[0]);
  assert.match(o.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(o.containerNames.every((n) => n.startsWith(`${id}-`)));
  assert.equal(o.networkCreated, true);
  assert.ok(await docker.inspectNetwork(net));

  const py = requireVenvBin("python");
  for (const url of o.urls) {
    const out = execFileSync(py, [
      "-c",
      `from tesseract_core import Tesseract; t=Tesseract.from_url(${JSON.stringify(url)}); print(t.apply({"name": "Pulumi"}))`,
    ]).toString();
    assert.match(out, /Hello, Pulumi!/);
  }
  // the server logs of both replicas, like serverLogs() of a fromImage server
  const logs = await getTesseractServiceLogs({ containerIds: o.containerIds, tail: 50 });
  assert.deepEqual(
    logs.map((l) => l.name),
    o.containerIds,
  );
  for (const l of logs) assert.match(l.logs, /Uvicorn running|Application startup complete/);

  const volumes = (await docker.inspectContainer(o.containerIds[0]))!.Mounts.filter((m) => m.Type === "volume").map(
    (m) => m.Name!,
  );
  assert.ok(volumes.length >= 1, "the image's anonymous VOLUME is created");

  // a replica killed by hand: read reports it, diff sees a change, update recreates it
  await docker.removeContainer(o.containerIds[1]);
  const refreshed = (await impl.read(id, o)).props as impl.ContainerServiceState;
  assert.deepEqual(
    refreshed.containers.map((c) => c.status),
    ["running", "missing"],
  );
  const checked = (
    await impl.check(
      {},
      {
        serviceName: "itest",
        labels: LABEL,
        image: hello,
        replicas: 2,
        network: net,
        networkAlias: "hello",
        outputPath: outDir,
      },
    )
  ).inputs!;
  assert.deepEqual(await impl.diff(id, refreshed, checked), { changes: true });
  const healed = (await impl.update(id, refreshed, checked)).outs as impl.ContainerServiceState;
  assert.equal(healed.containerIds[0], o.containerIds[0], "the healthy replica is kept");
  assert.notEqual(healed.containerIds[1], o.containerIds[1]);
  assert.equal(healed.hostPorts[1], o.hostPorts[1], "the replica comes back on its port");

  // scale up, then down, in place
  const up3 = (await impl.update(id, healed, { ...checked, replicas: 3 })).outs as impl.ContainerServiceState;
  assert.equal(up3.containerIds.length, 3);
  const down1 = (await impl.update(id, up3, { ...checked, replicas: 1, restartPolicy: "always" }))
    .outs as impl.ContainerServiceState;
  assert.deepEqual(down1.containerIds, [o.containerIds[0]]);
  assert.equal((await docker.inspectContainer(o.containerIds[0]))?.Config.Labels?.["pulumi-tesseract.service-id"], id);

  await impl.remove(id, down1);
  assert.equal((await ours()).length, 0);
  assert.equal(await docker.inspectNetwork(net), undefined, "the network it created is removed");
  const left = await docker.listVolumes({});
  for (const v of volumes) assert.ok(!left.some((l) => l.Name === v), `anonymous volume ${v} removed`);
});

test("debug publishes debugpy; a range gives every replica a port from it", async () => {
  const { id, outs } = await createService({ image: hello, replicas: 2, port: "47100-47110", debug: true });
  const o = outs as impl.ContainerServiceState;
  try {
    assert.ok(
      o.hostPorts.every((p) => p >= 47100 && p <= 47110),
      String(o.hostPorts),
    );
    assert.equal(o.debugPorts.length, 2);
    const env = (await docker.inspectContainer(o.containerIds[0]))!.Config.Env ?? [];
    assert.ok(env.includes("TESSERACT_DEBUG=1"));
  } finally {
    await impl.remove(id, o);
  }
  assert.equal((await ours()).length, 0);
});
