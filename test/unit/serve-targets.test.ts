/**
 * The ServeTarget seam: which target a service's inputs or state choose, and the container
 * target's lifecycle (diff rules, outputs, healing through diff → update) on the in-memory engine
 * (test/helpers/fake-engine.ts). The Kubernetes target's own behaviour runs against a real
 * cluster in test/e2e/kubernetes-service.test.ts.
 */
// unit: own process (it checks that the Kubernetes modules stay unloaded; other files load them)
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { ContainerServeTarget } from "../../provider/serve/container-target";
import { DockerPlatform } from "../../provider/serve/docker-platform";
import { serveTargetFor } from "../../provider/serve/select";
import type { ServiceOutputs } from "../../provider/serve/serve-target";
import { FakeEngine } from "../helpers/fake-engine";
import { serviceInputsOf } from "../helpers/service-inputs";

process.env.PULUMI_TESSERACT_QUIET = "1";

const inputsOf = serviceInputsOf;

const K8S_MODULE = /serve[\\/]kubernetes[\\/]kubernetes-target/;
const k8sLoaded = () => Object.keys(require.cache).some((k) => K8S_MODULE.test(k));

describe("serveTargetFor", () => {
  test("a service on a Docker engine gets the container target and never loads the Kubernetes one", () => {
    assert.ok(serveTargetFor({ image: "hello:1" }) instanceof ContainerServeTarget);
    assert.ok(serveTargetFor({ image: "hello:1" }, { image: "hello:2", docker: { host: "tcp://h:1" } }));
    assert.equal(k8sLoaded(), false, "the Kubernetes target (and its client) stay unloaded");
  });

  test("`kubernetes` on either side (state or new inputs) chooses the Kubernetes target", () => {
    const k8s = serveTargetFor({ image: "hello:1", kubernetes: { namespace: "default" } });
    assert.equal(k8s instanceof ContainerServeTarget, false);
    assert.equal(serveTargetFor({ image: "hello:1" }, { kubernetes: { namespace: "ns" } }), k8s);
    assert.equal(serveTargetFor({ kubernetes: { namespace: "ns" } }, { image: "hello:1" }), k8s);
    assert.equal(k8sLoaded(), true);
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
    const same = { ...inputsOf({ image: "hello:1", replicas: 1 }) } as unknown as Record<string, unknown>;
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
    const seen = (await target.read(id, outs)) as ServiceOutputs;
    assert.deepEqual(seen.containers.map((c) => c.status).sort(), ["exited", "running"]);
    const d = await target.diff(seen, inputs as unknown as Record<string, unknown>);
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
