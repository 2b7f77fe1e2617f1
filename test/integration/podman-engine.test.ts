/**
 * Debian's Podman (4.3.1) as the engine, for real: its Docker-compatible API builds the hello
 * Tesseract (examples/tesseracts/hello) with the package's own builder, TesseractService serves it,
 * and `apply` answers; discovery finds the service as the rootless Podman socket. Setup notes for
 * Podman on this machine (rlimits, netavark, storage) are in test/helpers/private-podman.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { hostCaCertificates } from "../../provider/build-context/host-ca";
import { UserError } from "../../provider/common/errors";
import { DockerClient } from "../../provider/docker";
import { apply } from "../../provider/functions";
import { buildTesseractImage } from "../../provider/resources/tesseract-image-impl";
import * as service from "../../provider/resources/tesseract-service-impl";
import { probeWithHiddenSockets } from "../helpers/discovery-probe";
import { PrivatePodman } from "../helpers/private-podman";

process.env.PULUMI_TESSERACT_QUIET = "1";
const run = `podman-${process.pid}`;
const LABEL = { "pulumi-tesseract.test": run };
const HELLO = path.join(__dirname, "..", "..", "examples", "tesseracts", "hello");
let podman: PrivatePodman;
let client: DockerClient;
const temps: string[] = [];

before(async () => {
  podman = await PrivatePodman.start();
  client = new DockerClient({ host: podman.host });
});

after(async () => {
  await client?.close();
  await podman?.dispose();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

test("Podman's Docker API builds, serves and answers apply for the hello Tesseract", async () => {
  const ping = await client.version();
  assert.match(ping, /^1\.\d+$/);
  const docker = { host: podman.host };
  const built = await buildTesseractImage(HELLO, {
    tag: run,
    labels: LABEL,
    caCertificates: hostCaCertificates(),
    buildNetwork: "host",
    docker,
    onLine: (l: string) => {
      if (process.env.PT_VERBOSE) process.stderr.write(`[podman build] ${l}\n`);
    },
  });
  assert.match(built.imageId, /^sha256:[0-9a-f]{64}$/);
  assert.equal((await client.inspectImage(built.imageName))?.Id, built.imageId);

  const checked = await service.check({}, { serviceName: run, image: built.imageName, labels: LABEL, docker });
  if (checked.failures?.length) throw new UserError(checked.failures.map((f) => f.reason).join("\n"));
  const created = await service.create(checked.inputs as Record<string, unknown>);
  try {
    assert.equal(created.outs.engine, podman.host);
    const out = await apply({ url: created.outs.url, inputs: { name: "podman" } });
    assert.deepEqual(out.outputs, { greeting: "Hello, podman!" });
  } finally {
    await service.remove(created.id, created.outs);
  }
  assert.deepEqual(await client.listContainers({ label: [`pulumi-tesseract.test=${run}`] }), []);
  assert.equal(await client.removeImage(built.imageName, { force: true }), true);
});

test("discovery finds a Podman service at $XDG_RUNTIME_DIR/podman/podman.sock when no Docker socket answers", () => {
  const dir = mkdtempSync("/tmp/ptf-ns-");
  temps.push(dir);
  const stale = path.join(dir, "stale.sock");
  execFileSync("python3", ["-c", `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  const empty = path.join(dir, "docker-config");
  const out = probeWithHiddenSockets(stale, { XDG_RUNTIME_DIR: podman.xdgRuntimeDir, DOCKER_CONFIG: empty });
  assert.equal(out.host, podman.host, JSON.stringify(out));
  assert.match(out.source ?? "", /rootless Podman/);
  assert.ok(out.id?.startsWith(podman.dir), `Podman's storage root, got ${out.id}`);
});
