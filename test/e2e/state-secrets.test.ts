/**
 * `TesseractImage.docker` and `TesseractService.docker` hold TLS key material: they are Pulumi
 * secrets in the stored state, inputs and outputs alike. A TesseractImage and a TesseractService
 * reach the engine through TLS with client certificates (a TLS front of the local dockerd, with
 * a CA, server and client certificates made by openssl for this test); the checkpoint on disk is
 * then scanned for the PEM text.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import { DockerClient } from "../../provider/docker";
import { TesseractImage, TesseractService } from "../../provider/index";
import { stackCheckpointText } from "../helpers/leaks";
import { createTestStack, type TestStack } from "../helpers/stack";
import { cleanupRun, EXAMPLES, hostCaCertificates } from "../helpers/tesseract-image";
import { makeTlsFiles } from "../helpers/tls-certs";

const run = `secrets-${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), "pt-secrets-"));
const docker = DockerClient.for();
const socket = (process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
let server: tls.Server;
let ts: TestStack | undefined;
const pem: Record<"ca" | "cert" | "key", string> = { ca: "", cert: "", key: "" };

before(async () => {
  // openssl: a CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
  const tlsFiles = makeTlsFiles(path.join(dir, "tls-"));
  const c = {
    ca: tlsFiles.read("ca"),
    serverCert: readFileSync(tlsFiles.serverCert, "utf8"),
    serverKey: readFileSync(tlsFiles.serverKey, "utf8"),
  };
  Object.assign(pem, { ca: c.ca, cert: tlsFiles.read("cert"), key: tlsFiles.read("key") });
  // The engine behind TLS with client authentication: each TLS connection is piped to the local socket.
  server = tls.createServer(
    { key: c.serverKey, cert: c.serverCert, ca: c.ca, requestCert: true, rejectUnauthorized: true },
    (s) => {
      const engine = net.connect(socket);
      s.pipe(engine).pipe(s);
      s.on("error", () => engine.destroy());
      engine.on("error", () => s.destroy());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cpSync(path.join(EXAMPLES, "hello"), path.join(dir, "hello"), { recursive: true });
});

after(async () => {
  await ts?.dispose();
  server?.close();
  await cleanupRun(docker, run);
  rmSync(dir, { recursive: true, force: true });
});

/** The base64 body lines of a PEM: any of them in the state would be a leak. */
const bodyLines = (text: string) => text.split("\n").filter((l) => l.length > 40 && !l.startsWith("-----"));

test("TLS material of TesseractImage.docker and TesseractService.docker never reaches the state in plain", {
  timeout: 900_000,
}, async () => {
  const { port } = server.address() as net.AddressInfo;
  const engine = { host: `tcp://127.0.0.1:${port}`, caPem: pem.ca, certPem: pem.cert, keyPem: pem.key };
  const labels = { "pulumi-tesseract.test": run };
  ts = await createTestStack("secrets", async () => {
    const image = new TesseractImage("hello", {
      srcDir: path.join(dir, "hello"),
      tag: run,
      caCertificates: hostCaCertificates(),
      buildNetwork: "host",
      labels,
      docker: engine,
    });
    const service = new TesseractService("hello", { image, labels, docker: engine });
    return { imageName: image.imageName, url: service.url, engine: service.engine };
  });
  const up = await ts.stack.up({ onOutput: (s) => ts?.output.push(s) });
  assert.equal(up.summary.result, "succeeded", ts.output.join(""));
  assert.equal(up.outputs.engine.value, engine.host, "the service ran through the TLS engine");

  const state = stackCheckpointText("pulumi-tesseract-tests", ts.stack.name);
  for (const [name, text] of Object.entries(pem))
    for (const line of bodyLines(text)) assert.ok(!state.includes(line), `${name} PEM text is in the state in plain`);
  assert.ok(!state.includes("PRIVATE KEY"), "no private key in the state");
  const resources = (JSON.parse(state).checkpoint.latest.resources ?? []) as {
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
  }[];
  const secret = (v: unknown) => typeof v === "object" && v !== null && "4dabf18193072939515e22adb298388d" in v;
  const ours = resources.filter((r) => /:(TesseractImage|TesseractService)$/.test(r.type));
  assert.equal(ours.length, 2, `the image and the service: ${resources.map((r) => r.type).join(", ")}`);
  for (const r of ours) {
    assert.ok(secret(r.inputs?.docker), `${r.type} inputs.docker is a secret: ${JSON.stringify(r.inputs?.docker)}`);
    assert.ok(secret(r.outputs?.docker), `${r.type} outputs.docker is a secret: ${JSON.stringify(r.outputs?.docker)}`);
  }
});
