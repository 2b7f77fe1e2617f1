/**
 * The ServeTarget seam: which target a service's inputs or state choose, and the container
 * target's lifecycle (diff rules, outputs, healing through diff → update) on the in-memory engine
 * (test/helpers/fake-engine.ts). The Kubernetes target's own behaviour runs against a real
 * cluster in test/e2e/kubernetes-service.test.ts.
 */
// unit: own process (it checks that the Kubernetes modules stay unloaded; other files load them)
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { diff } from "../../provider/resources/tesseract-service-impl";
import type { ContainerServiceState } from "../../provider/serve/container-state";
import { ContainerServeTarget } from "../../provider/serve/container-target";
import { DockerPlatform } from "../../provider/serve/docker-platform";
import { targetInputs, withInputsTarget, withStateTarget } from "../../provider/serve/select";
import type { StoredServiceState } from "../../provider/serve/serve-target";
import { FakeEngine } from "../helpers/fake-engine";
import { containerInputsOf, serviceInputsOf } from "../helpers/service-inputs";

process.env.PULUMI_TESSERACT_QUIET = "1";

const inputsOf = containerInputsOf;

const K8S_MODULE = /serve[\\/]kubernetes[\\/]kubernetes-target/;
const k8sLoaded = () => Object.keys(require.cache).some((k) => K8S_MODULE.test(k));

/** A container state as stored (only what the selection looks at matters here). */
const containerState = (extra: Partial<ContainerServiceState> = {}): StoredServiceState => ({
  ...inputsOf({ image: "hello:1" }),
  serviceId: "svc-abc",
  engine: "unix:///var/run/docker.sock",
  url: "http://127.0.0.1:50000",
  urls: ["http://127.0.0.1:50000"],
  containers: [],
  containerIds: [],
  containerNames: [],
  hostPorts: [],
  debugPorts: [],
  imageIds: [],
  networkCreated: false,
  ...extra,
});

describe("the target of a service", () => {
  test("a service on a Docker engine gets the container target and never loads the Kubernetes one", async () => {
    const onEngine = withInputsTarget(serviceInputsOf({ image: "hello:1" }), (target) => target);
    assert.ok(onEngine instanceof ContainerServeTarget);
    assert.ok(withStateTarget(containerState(), (target) => target) instanceof ContainerServeTarget);
    assert.equal(targetInputs(serviceInputsOf({ image: "hello:1" })).kubernetes, undefined);
    // Moving to a cluster replaces without asking the Kubernetes target.
    const moved = await diff("svc-abc", containerState(), { ...inputsOf({ image: "hello:1" }), kubernetes: {} });
    assert.deepEqual(moved, { changes: true, replaces: ["kubernetes"], deleteBeforeReplace: false });
    assert.equal(k8sLoaded(), false, "the Kubernetes target (and its client) stay unloaded");
  });

  test("`kubernetes` in the inputs or the stored state chooses the Kubernetes target", () => {
    const inputs = serviceInputsOf({
      image: `reg.example/hello@sha256:${"a".repeat(64)}`,
      kubernetes: { namespace: "ns" },
    });
    const k8s = withInputsTarget(inputs, (target) => target);
    assert.equal(k8s instanceof ContainerServeTarget, false);
    assert.equal(k8sLoaded(), true);
    const typed = targetInputs(inputs);
    assert.deepEqual(typed.kubernetes, { namespace: "ns" });
    if (!typed.kubernetes) return;
    const served = { serviceId: "svc-abc", namespace: "ns", context: "c", server: "https://127.0.0.1:6443" };
    const state: StoredServiceState = {
      ...typed,
      serviceId: "svc-abc",
      engine: served.server,
      url: "http://svc-abc.ns.svc.cluster.local:8000",
      urls: ["http://svc-abc.ns.svc.cluster.local:8000"],
      namespace: "ns",
      deployment: "svc-abc",
      service: "svc-abc",
      served: {
        ...served,
        deployment: "svc-abc",
        service: "svc-abc",
        image: typed.image ?? "",
        port: 8000,
        clusterUrl: "http://svc-abc.ns.svc.cluster.local:8000",
        observed: { exists: true },
      },
    };
    assert.equal(
      withStateTarget(state, (target) => target),
      k8s,
    );
  });
});

describe("ContainerServeTarget on the fake engine", () => {
  let engine: FakeEngine;
  let target: ContainerServeTarget;

  beforeEach(() => {
    engine = new FakeEngine();
    engine.addImage(["hello:1"]);
    engine.addImage(["hello:2"]);
    const platform = new DockerPlatform({
      engineFor: () => engine,
      waitHealthy: async () => ({ ok: true, seconds: 0 }),
    });
    target = new ContainerServeTarget(platform);
  });

  test("create's outputs list the replicas in order with one url each", async () => {
    const { id, outs } = await target.create(inputsOf({ image: "hello:1", replicas: 2 }));
    assert.equal(outs.serviceId, id);
    assert.deepEqual(
      outs.containers.map((c) => c.key),
      ["0-0", "0-1"],
    );
    assert.equal(outs.urls.length, 2);
    assert.equal(outs.url, outs.urls[0]);
    assert.match(outs.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("diff: replicas update in place, another image replaces, nothing changed is no change", async () => {
    const { outs } = await target.create(inputsOf({ image: "hello:1", replicas: 1 }));
    const same: Record<string, unknown> = { ...inputsOf({ image: "hello:1", replicas: 1 }) };
    assert.deepEqual(await target.diff(outs, same), { changes: false });
    const scaled = await target.diff(outs, { ...same, replicas: 3 });
    assert.equal(scaled.changes, true);
    assert.equal(scaled.replaces, undefined);
    const reimaged = await target.diff(outs, { ...same, image: "hello:2" });
    assert.deepEqual(reimaged.replaces, ["image"]);
  });

  test("a replica that died shows in read, makes diff report a change, and update heals it", async () => {
    const inputs = inputsOf({ image: "hello:1", replicas: 2 });
    const { id, outs } = await target.create(inputs);
    engine.kill(outs.containers[0].id);
    const seen = await target.read(id, outs);
    assert.deepEqual(seen.containers.map((c) => c.status).sort(), ["exited", "running"]);
    const d = await target.diff(seen, { ...inputs });
    assert.deepEqual(d, { changes: true });
    const healed = await target.update(id, seen, inputs);
    assert.deepEqual(
      healed.containers.map((c) => c.status),
      ["running", "running"],
    );
    await target.remove(id, healed);
    assert.equal(engine.containers.size, 0, "remove leaves no container");
  });
});
