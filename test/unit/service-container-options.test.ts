/**
 * The typed equivalents of upstream's `docker_args`, `gpu_transport` and `skip_health_check`: the
 * HostConfig and pod spec each produces, and each refusal at check (field, value, fix). The real
 * engine runs them in test/integration/service-container-options.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serveContainerSpec } from "../../provider/client/from-image";
import { RunTesseractArgumentError, runContainerSpec, runTesseract } from "../../provider/run/run-tesseract";
import { type ServiceInputs, validateInputs } from "../../provider/serve/args";
import { optionsHostConfig, parseDevice, parseExtraHost, parseTmpfs } from "../../provider/serve/container-options";
import { withContainerOptions } from "../../provider/serve/kubernetes/container-options";
import { deployment, type KubernetesServiceInputs } from "../../provider/serve/kubernetes/manifests";
import { containerSpec, serviceEnv } from "../../provider/serve/spec";

const base = { image: "hello:0.1.0", serviceName: "svc" };

function check(extra: Record<string, unknown>) {
  return validateInputs({ ...base, ...extra }, new Set(), "/tmp");
}
function refused(extra: Record<string, unknown>, property: string, re: RegExp) {
  const f = check(extra).failures;
  const hit = f.find((x) => x.property === property);
  assert.ok(hit, `expected a failure on ${property}, got ${JSON.stringify(f)}`);
  assert.match(hit.reason, re);
}

const all = {
  shmSize: "1g",
  ulimits: { nofile: { soft: 1024, hard: 4096 }, nproc: 512 },
  cpus: 0.5,
  capAdd: ["SYS_PTRACE", "cap_net_admin"],
  capDrop: ["NET_RAW"],
  devices: ["/dev/null", "/dev/zero:/dev/z:r"],
  tmpfs: ["/scratch:size=64m,mode=1777", "/cache"],
  extraHosts: ["db.internal:10.0.0.5", "gw:host-gateway", "v6:::1"],
  logConfig: { type: "json-file", config: { "max-size": "10m" } },
};

describe("Docker HostConfig", () => {
  test("every container option maps onto its HostConfig field", () => {
    const r = check({ container: all });
    assert.deepEqual(r.failures, []);
    const spec = containerSpec(r.inputs as ServiceInputs, "svc-1", {
      name: "svc-1-0",
      image: "hello:0.1.0",
      key: "0-0",
      hostPort: 50000,
    });
    const hc = spec.HostConfig!;
    assert.equal(hc.ShmSize, 1024 ** 3);
    assert.deepEqual(hc.Ulimits, [
      { Name: "nofile", Soft: 1024, Hard: 4096 },
      { Name: "nproc", Soft: 512, Hard: 512 },
    ]);
    assert.equal(hc.NanoCpus, 500_000_000);
    assert.deepEqual(hc.CapAdd, ["SYS_PTRACE", "NET_ADMIN"]);
    assert.deepEqual(hc.CapDrop, ["NET_RAW"]);
    assert.deepEqual(hc.Devices, [
      { PathOnHost: "/dev/null", PathInContainer: "/dev/null", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/zero", PathInContainer: "/dev/z", CgroupPermissions: "r" },
    ]);
    assert.deepEqual(hc.Tmpfs, { "/scratch": "size=64m,mode=1777", "/cache": "" });
    assert.deepEqual(hc.ExtraHosts, ["db.internal:10.0.0.5", "gw:host-gateway", "v6:::1"]);
    assert.deepEqual(hc.LogConfig, { Type: "json-file", Config: { "max-size": "10m" } });
    assert.equal(hc.IpcMode, undefined);
    assert.equal(hc.Init, true, "the base HostConfig is kept");
  });

  test("no options: no extra HostConfig fields", () => {
    assert.deepEqual(optionsHostConfig(undefined), {});
    assert.deepEqual(optionsHostConfig({}, "none"), {});
  });

  test("gpuTransport cuda_ipc: IpcMode host and TESSERACT_GPU_TRANSPORT", () => {
    const r = check({ gpuTransport: "cuda_ipc", numWorkers: 1 });
    assert.deepEqual(r.failures, []);
    const i = r.inputs as ServiceInputs;
    assert.equal(optionsHostConfig(i.container, i.gpuTransport).IpcMode, "host");
    assert.ok(serviceEnv(i).includes("TESSERACT_GPU_TRANSPORT=cuda_ipc"));
    assert.ok(!serviceEnv({ ...i, gpuTransport: "none" }).some((e) => e.startsWith("TESSERACT_GPU_TRANSPORT")));
  });

  test("spec parsers", () => {
    assert.deepEqual(parseDevice("/dev/fuse:rw"), {
      PathOnHost: "/dev/fuse",
      PathInContainer: "/dev/fuse",
      CgroupPermissions: "rw",
    });
    assert.deepEqual(parseTmpfs("/t"), ["/t", ""]);
    assert.deepEqual(parseExtraHost("h:[::1]"), ["h", "::1"]);
  });
});

describe("refused at check, naming the field, the value and the fix", () => {
  test("gpuTransport", () => {
    refused({ gpuTransport: "nvlink" }, "gpuTransport", /"none" or "cuda_ipc".*got "nvlink"/);
    refused({ gpuTransport: "cuda_ipc", numWorkers: 2 }, "numWorkers", /one worker only.*got 2.*fix/);
  });
  test("skipHealthCheck must be a boolean", () => {
    refused({ skipHealthCheck: "yes" }, "skipHealthCheck", /boolean/);
  });
  test("each container option", () => {
    refused({ container: { shmSize: "lots" } }, "container.shmSize", /size.*fix: e\.g\. "64m".*got "lots"/);
    refused({ container: { shmSize: "0" } }, "container.shmSize", /more than 0/);
    refused({ container: { ulimits: { nofiles: 10 } } }, "container.ulimits.nofiles", /not a ulimit name.*nofile/);
    refused({ container: { ulimits: { nofile: { soft: 9, hard: 2 } } } }, "container.ulimits.nofile", /soft must not/);
    refused({ container: { ulimits: { nofile: 1.5 } } }, "container.ulimits.nofile", /whole number.*got 1\.5/);
    refused({ container: { cpus: 0 } }, "container.cpus", /at least 0\.01.*got 0/);
    refused({ container: { cpus: 1000 } }, "container.cpus", /more than the \d+ CPU\(s\) of this host/);
    refused({ container: { capAdd: ["NET_FLY"] } }, "container.capAdd[0]", /not a Linux capability.*got "NET_FLY"/);
    refused({ container: { capDrop: ["chown!"] } }, "container.capDrop[0]", /not a Linux capability/);
    refused({ container: { devices: ["dev/fuse"] } }, "container.devices[0]", /"dev\/fuse" host path must be absolute/);
    refused({ container: { devices: ["/dev/null:/n:rx"] } }, "container.devices[0]", /permissions.*rwm/);
    refused({ container: { devices: ["/dev/no-such-device"] } }, "container.devices[0]", /does not exist on this host/);
    refused({ container: { tmpfs: ["scratch"] } }, "container.tmpfs[0]", /absolute container path/);
    refused({ container: { tmpfs: ["/s:size=big"] } }, "container.tmpfs[0]", /"size=big" is not a tmpfs mount option/);
    refused({ container: { tmpfs: ["/s", "/s:ro"] } }, "container.tmpfs[1]", /already given by \[0\]/);
    refused({ container: { extraHosts: ["db"] } }, "container.extraHosts[0]", /"HOST:IP"/);
    refused({ container: { extraHosts: ["db:10.0.0.300"] } }, "container.extraHosts[0]", /not an IPv4\/IPv6/);
    refused({ container: { extraHosts: ["bad_host!:1.2.3.4"] } }, "container.extraHosts[0]", /not a valid host name/);
    refused({ container: { logConfig: { type: "Json File" } } }, "container.logConfig.type", /log driver.*json-file/);
    refused({ container: { logConfig: {} } }, "container.logConfig.type", /expected string/);
    refused({ container: { privileged: true } }, "container", /privileged.*remove it/i);
  });
});

function k8sInputs(extra: Record<string, unknown>): KubernetesServiceInputs {
  const r = validateInputs(
    { image: `127.0.0.1:5000/t/hello@sha256:${"a".repeat(64)}`, serviceName: "s", kubernetes: {}, ...extra },
    new Set(),
    "/tmp",
  );
  assert.deepEqual(r.failures, []);
  return r.inputs as KubernetesServiceInputs;
}

describe("Kubernetes", () => {
  test("cpus, capabilities, extraHosts, shmSize, tmpfs and cuda_ipc map onto the pod spec", () => {
    const i = k8sInputs({
      gpuTransport: "cuda_ipc",
      container: {
        cpus: 1.5,
        capAdd: ["CAP_SYS_PTRACE"],
        capDrop: ["ALL"],
        extraHosts: ["a:10.0.0.1", "b:10.0.0.1", "c:10.0.0.2"],
        shmSize: "1g",
        tmpfs: ["/scratch:size=64m", "/cache"],
      },
    });
    const dep = withContainerOptions(deployment(i, "s-1", "ns", i.image!), i);
    const pod = dep.spec!.template.spec!;
    const c = pod.containers[0];
    assert.equal(c.resources?.limits?.cpu, "1.5");
    assert.deepEqual(c.securityContext?.capabilities, { add: ["SYS_PTRACE"], drop: ["ALL"] });
    assert.deepEqual(pod.hostAliases, [
      { ip: "10.0.0.1", hostnames: ["a", "b"] },
      { ip: "10.0.0.2", hostnames: ["c"] },
    ]);
    assert.equal(pod.hostIPC, true);
    assert.ok(c.env?.some((e) => e.name === "TESSERACT_GPU_TRANSPORT" && e.value === "cuda_ipc"));
    assert.deepEqual(
      pod.volumes?.filter((v) => v.emptyDir),
      [
        { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: String(1024 ** 3) } },
        { name: "tmpfs0", emptyDir: { medium: "Memory", sizeLimit: String(64 * 1024 ** 2) } },
        { name: "tmpfs1", emptyDir: { medium: "Memory", sizeLimit: undefined } },
      ],
    );
    assert.deepEqual(
      c.volumeMounts?.map((m) => [m.name, m.mountPath]),
      [
        ["dshm", "/dev/shm"],
        ["tmpfs0", "/scratch"],
        ["tmpfs1", "/cache"],
      ],
    );
  });

  test("no options: the Deployment is unchanged", () => {
    const i = k8sInputs({});
    assert.deepEqual(
      withContainerOptions(deployment(i, "s-1", "ns", i.image!), i),
      deployment(i, "s-1", "ns", i.image!),
    );
  });

  test("what has no pod-spec meaning is refused by name, with the fix", () => {
    const k = { kubernetes: {}, image: "hello:1" };
    refused(
      { ...k, container: { devices: ["/dev/null"] } },
      "container.devices",
      /not supported with `kubernetes`.*device plugin/,
    );
    refused({ ...k, container: { ulimits: { nofile: 10 } } }, "container.ulimits", /not supported.*fix: remove it/);
    refused({ ...k, container: { logConfig: { type: "local" } } }, "container.logConfig", /not supported.*fix: remove/);
    refused({ ...k, skipHealthCheck: true }, "skipHealthCheck", /not supported with `kubernetes`.*rolloutTimeout/);
    refused({ ...k, container: { cpus: 1 }, kubernetes: { cpu: "1" } }, "container.cpus", /give one of/);
    refused({ ...k, container: { extraHosts: ["h:host-gateway"] } }, "container.extraHosts[0]", /IP address/);
    refused({ ...k, container: { tmpfs: ["/s:size=1m,noexec"] } }, "container.tmpfs[0]", /only size=.*"noexec"/);
    refused({ ...k, gpuTransport: "cuda_ipc", numWorkers: 3 }, "numWorkers", /one worker only/);
  });
});

describe("TesseractClient.fromImage and runTesseract take the same options", () => {
  test("fromImage: HostConfig, env, and the same refusals", () => {
    const spec = serveContainerSpec("hello:1", { container: all, gpuTransport: "cuda_ipc" }, "abc");
    assert.equal(spec.HostConfig?.ShmSize, 1024 ** 3);
    assert.equal(spec.HostConfig?.NanoCpus, 500_000_000);
    assert.equal(spec.HostConfig?.IpcMode, "host");
    assert.deepEqual(spec.HostConfig?.Tmpfs, { "/scratch": "size=64m,mode=1777", "/cache": "" });
    assert.ok(spec.Env?.includes("TESSERACT_GPU_TRANSPORT=cuda_ipc"));
    assert.throws(
      () => serveContainerSpec("hello:1", { container: { capAdd: ["FLY"] } }, "abc"),
      (e: Error & { property?: string }) =>
        e.property === "container.capAdd[0]" &&
        /fromImage: container\.capAdd\[0\]: is not a Linux capability/.test(e.message),
    );
    assert.throws(
      () => serveContainerSpec("hello:1", { gpuTransport: "cuda_ipc", numWorkers: 2 }, "abc"),
      /fromImage: numWorkers: gpuTransport "cuda_ipc" serves with one worker only/,
    );
  });

  test("runTesseract: HostConfig, and refusals before any container is made", async () => {
    const spec = runContainerSpec({ image: "hello:1", command: "apply", container: { ulimits: { nofile: 64 } } }, "r1");
    assert.deepEqual(spec.HostConfig?.Ulimits, [{ Name: "nofile", Soft: 64, Hard: 64 }]);
    const bad = (container: Record<string, unknown>) =>
      runTesseract({
        image: "hello:1",
        command: "apply",
        container,
        docker: { host: "tcp://127.0.0.1:1" },
      } as never);
    await assert.rejects(bad({ tmpfs: ["rel"] }), (e: Error & { property?: string }) => {
      return e instanceof RunTesseractArgumentError && e.property === "container.tmpfs[0]";
    });
    await assert.rejects(bad({ cpus: 4096 }), /runTesseract: container\.cpus/);
  });
});
