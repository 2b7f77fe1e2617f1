import assert from "node:assert/strict";
import { test } from "node:test";
import { type ContainerServiceState, diff } from "../../provider/resources/tesseract-service-impl";
import type { ContainerServiceInputs } from "../../provider/serve/container-state";
import { containerName, containerSpec, replicaKeys, safeName, serviceEnv } from "../../provider/serve/spec";

const inputs: ContainerServiceInputs = {
  image: "hello:0.1.0",
  replicas: 1,
  hostIp: "127.0.0.1",
  debug: false,
  startupTimeout: 30,
  restartPolicy: "unless-stopped",
  serviceName: "svc",
  stack: "dev",
  project: "p",
};

test("container spec: serve command, init, ports on hostIp, labels, user", () => {
  const spec = containerSpec(
    { ...inputs, numWorkers: 2, memory: "512m", gpus: ["0", "1"], restartPolicy: "on-failure:3" },
    "svc-abc",
    { name: "svc-abc-0", image: "hello:0.1.0", key: "0-0", hostPort: 50000 },
  );
  assert.deepEqual(spec.Cmd, ["serve", "--host", "0.0.0.0", "--port", "8000", "--num-workers", "2"]);
  assert.equal(spec.Entrypoint, undefined, "the image entrypoint is kept");
  assert.equal(spec.HostConfig?.Init, true);
  assert.deepEqual(spec.HostConfig?.PortBindings, { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "50000" }] });
  assert.deepEqual(spec.HostConfig?.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
  assert.equal(spec.HostConfig?.Memory, 512 * 1024 * 1024);
  assert.deepEqual(spec.HostConfig?.DeviceRequests, [{ Driver: "", DeviceIDs: ["0", "1"], Capabilities: [["gpu"]] }]);
  assert.equal(spec.Labels?.["pulumi-tesseract.managed"], "true");
  assert.equal(spec.Labels?.["pulumi-tesseract.service"], "svc");
  assert.equal(spec.Labels?.["pulumi-tesseract.service-id"], "svc-abc");
  assert.equal(spec.Labels?.["pulumi-tesseract.stack"], "dev");
  assert.match(spec.User ?? "", /^\d+:\d+$/);
});

test("env: runtimeConfig booleans, paths, output format, debug", () => {
  const env = serviceEnv({
    ...inputs,
    runtimeConfig: { profiling: true, tracing: false, mlflow_tracking_uri: "x" },
    outputFormat: "json+base64",
    inputPath: "/in",
    outputPath: "s3://bucket/out",
    environment: { A: "1" },
    debug: true,
  });
  for (const e of [
    "A=1",
    "TESSERACT_PROFILING=1",
    "TESSERACT_TRACING=0",
    "TESSERACT_MLFLOW_TRACKING_URI=x",
    "TESSERACT_OUTPUT_FORMAT=json+base64",
    "TESSERACT_INPUT_PATH=/tesseract/input_data",
    "TESSERACT_OUTPUT_PATH=s3://bucket/out",
    "TESSERACT_DEBUG=1",
    "TESSERACT_DEBUGPY_HOST=0.0.0.0",
  ])
    assert.ok(env.includes(e), `${e} in ${env}`);
});

test("mounts, debug port, networks and aliases", () => {
  const spec = containerSpec(
    {
      ...inputs,
      inputPath: "/in",
      outputPath: "/out",
      volumes: ["/v:/v:ro"],
      debug: true,
      network: "tnet",
      networkAlias: "hello",
    },
    "svc-abc",
    { name: "n", image: "i", key: "0-0", hostPort: 50000, debugPort: 50001 },
  );
  assert.deepEqual(spec.HostConfig?.Binds, [
    "/v:/v:ro",
    "/in:/tesseract/input_data:ro",
    "/out:/tesseract/output_data:rw",
  ]);
  assert.deepEqual(spec.HostConfig?.PortBindings?.["5678/tcp"], [{ HostIp: "127.0.0.1", HostPort: "50001" }]);
  assert.equal(spec.HostConfig?.NetworkMode, "tnet");
  assert.deepEqual(spec.NetworkingConfig?.EndpointsConfig, { tnet: { Aliases: ["hello"] } });
  const host = containerSpec({ ...inputs, network: "host" }, "s", {
    name: "n",
    image: "i",
    key: "0-0",
    hostPort: 50002,
  });
  assert.deepEqual(host.Cmd, ["serve", "--host", "127.0.0.1", "--port", "50002"]);
  assert.deepEqual(host.HostConfig?.PortBindings, {});
  assert.equal(host.NetworkingConfig, undefined);
});

test("names and keys", () => {
  assert.equal(safeName("my service/1"), "my-service-1");
  assert.deepEqual(replicaKeys(2, 2), ["0-0", "0-1", "1-0", "1-1"]);
  assert.equal(containerName("svc-abc", "0-1", 1), "svc-abc-1");
  assert.equal(containerName("svc-abc", "1-1", 2), "svc-abc-1-1");
});

function olds(extra: Partial<ContainerServiceState> = {}): ContainerServiceState {
  return {
    ...inputs,
    serviceId: "svc-abc",
    engine: "unix:///var/run/docker.sock",
    containers: [{ key: "0-0", id: "c0", name: "svc-abc-0", image: "hello:0.1.0", hostPort: 50000, status: "running" }],
    url: "http://127.0.0.1:50000",
    urls: ["http://127.0.0.1:50000"],
    containerIds: ["c0"],
    containerNames: ["svc-abc-0"],
    hostPorts: [50000],
    debugPorts: [],
    imageIds: [],
    networkCreated: false,
    ...extra,
  };
}

test("diff: replicas and restart policy update in place; image, port, env replace", async () => {
  const news = { ...inputs } as Record<string, unknown>;
  assert.deepEqual(await diff("svc-abc", olds(), news), { changes: false });
  assert.deepEqual(await diff("svc-abc", olds(), { ...news, replicas: 3 }), { changes: true });
  assert.deepEqual(await diff("svc-abc", olds(), { ...news, restartPolicy: "always" }), { changes: true });
  const img = await diff("svc-abc", olds(), { ...news, image: "hello:0.2.0" });
  assert.deepEqual(img.replaces, ["image"]);
  assert.equal(img.deleteBeforeReplace, false, "auto ports: create before delete");
  const fixed = await diff("svc-abc", olds({ port: "8080" }), { ...news, port: "8080", environment: { A: "1" } });
  assert.deepEqual(fixed.replaces, ["environment"]);
  assert.equal(fixed.deleteBeforeReplace, true, "a fixed port forces delete-before-replace");
  const range = await diff("svc-abc", olds({ port: "8000-8003" }), {
    ...news,
    port: "8000-8003",
    replicas: 2,
    debug: true,
  });
  assert.equal(range.deleteBeforeReplace, false);
  const host = await diff("svc-abc", olds(), { ...news, docker: { host: "tcp://127.0.0.1:2375" } });
  assert.deepEqual(host.replaces, ["docker"]);
});

test("diff: a replica that read found dead is an in-place change", async () => {
  const dead = olds();
  dead.containers[0].status = "missing";
  assert.deepEqual(await diff("svc-abc", dead, { ...inputs }), { changes: true });
});
