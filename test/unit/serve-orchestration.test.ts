/**
 * The Docker serve target's orchestration on an in-memory engine (test/helpers/fake-engine.ts):
 * scaling down, healing dead replicas, network ownership and stray removal. Runs in well under a
 * second; the same behaviours run against a real dockerd in test/integration/tesseract-service.test.ts.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { LABELS } from "../../provider/common/labels";
import { Progress } from "../../provider/common/log";
import type { ServiceInputs } from "../../provider/serve/args";
import type { ContainerServiceState, ServedSet } from "../../provider/serve/container-state";
import { DockerPlatform } from "../../provider/serve/docker-platform";
import { networkOwner } from "../../provider/serve/network";
import { FakeEngine } from "../helpers/fake-engine";
import { serviceInputsOf } from "../helpers/service-inputs";

process.env.PULUMI_TESSERACT_QUIET = "1";
const progress = new Progress("test");

const inputsOf = serviceInputsOf;

function stateOf(inputs: ServiceInputs, served: ServedSet): ContainerServiceState {
  return { ...inputs, ...served } as ContainerServiceState;
}

let engine: FakeEngine;
let target: DockerPlatform;
let healthChecks: number;

beforeEach(() => {
  engine = new FakeEngine();
  engine.addImage(["hello:1"]);
  healthChecks = 0;
  target = new DockerPlatform({
    engineFor: () => engine,
    waitHealthy: async () => {
      healthChecks++;
      return { ok: true, seconds: 0 };
    },
  });
});

describe("scaling", () => {
  test("create starts one health-checked container per replica", async () => {
    const served = await target.create(inputsOf({ image: "hello:1", replicas: 3 }), progress);
    assert.equal(served.containers.length, 3);
    assert.equal(healthChecks, 3);
    assert.deepEqual(served.containers.map((c) => c.key).sort(), ["0-0", "0-1", "0-2"]);
    assert.equal(engine.running(`${LABELS.serviceId}=${served.serviceId}`).length, 3);
  });

  test("scaling down removes the replicas beyond the new count and keeps the others", async () => {
    const served = await target.create(inputsOf({ image: "hello:1", replicas: 3 }), progress);
    const smaller = inputsOf({ image: "hello:1", replicas: 1 });
    const after = await target.update(stateOf(smaller, served), smaller, progress);
    assert.deepEqual(
      after.containers.map((c) => c.key),
      ["0-0"],
    );
    assert.equal(after.containers[0].id, served.containers.find((c) => c.key === "0-0")?.id, "kept, not recreated");
    assert.equal(engine.containers.size, 1, "the scaled-down containers are removed from the engine");
    assert.equal(healthChecks, 3, "no new container was started");
  });

  test("scaling up starts only the missing replicas", async () => {
    const one = inputsOf({ image: "hello:1", replicas: 1 });
    const served = await target.create(one, progress);
    const three = inputsOf({ image: "hello:1", replicas: 3 });
    const after = await target.update(stateOf(three, served), three, progress);
    assert.equal(after.containers.length, 3);
    assert.ok(after.containers.some((c) => c.id === served.containers[0].id));
    assert.equal(engine.containers.size, 3);
  });
});

describe("healing", () => {
  test("read reports a dead replica; update recreates it on the same host port", async () => {
    const inputs = inputsOf({ image: "hello:1", replicas: 2 });
    const served = await target.create(inputs, progress);
    const dead = served.containers[1];
    engine.kill(dead.id);
    const seen = await target.read(stateOf(inputs, served));
    assert.deepEqual(seen.map((c) => c.status).sort(), ["exited", "running"]);
    const after = await target.update(stateOf(inputs, { ...served, containers: seen }), inputs, progress);
    const healed = after.containers.find((c) => c.key === dead.key);
    assert.ok(healed);
    assert.notEqual(healed.id, dead.id, "a new container");
    assert.equal(healed.hostPort, dead.hostPort, "on the port it had");
    assert.equal(engine.containers.has(dead.id), false, "the dead one is gone");
    assert.equal(engine.running(`${LABELS.serviceId}=${served.serviceId}`).length, 2);
  });

  test("a vanished replica is reported missing and recreated", async () => {
    const inputs = inputsOf({ image: "hello:1" });
    const served = await target.create(inputs, progress);
    await engine.removeContainer(served.containers[0].id);
    const seen = await target.read(stateOf(inputs, served));
    assert.equal(seen[0].status, "missing");
    const after = await target.update(stateOf(inputs, { ...served, containers: seen }), inputs, progress);
    assert.equal(after.containers[0].status, "running");
    assert.equal(engine.containers.size, 1);
  });
});

describe("network ownership", () => {
  test("a missing network is created, owned, and removed with the service", async () => {
    const inputs = inputsOf({ image: "hello:1", network: "tnet" });
    const served = await target.create(inputs, progress);
    assert.equal(served.networkCreated, true);
    assert.equal(engine.networks.get("tnet")?.Labels?.[LABELS.networkOwner], networkOwner(inputs));
    await target.remove(stateOf(inputs, served), progress);
    assert.equal(engine.networks.has("tnet"), false);
    assert.equal(engine.containers.size, 0);
  });

  test("an existing network of someone else is used, never removed", async () => {
    await engine.createNetwork("shared", { owner: "someone" });
    const inputs = inputsOf({ image: "hello:1", network: "shared" });
    const served = await target.create(inputs, progress);
    assert.equal(served.networkCreated, false);
    await target.remove(stateOf(inputs, served), progress);
    assert.ok(engine.networks.has("shared"));
  });

  test("a network this service created earlier (replacement) counts as its own", async () => {
    const inputs = inputsOf({ image: "hello:1", network: "mine" });
    await engine.createNetwork("mine", { [LABELS.networkOwner]: networkOwner(inputs) });
    const served = await target.create(inputs, progress);
    assert.equal(served.networkCreated, true);
  });

  test("an owned network still used by other containers is left in place", async () => {
    const inputs = inputsOf({ image: "hello:1", network: "busy" });
    const served = await target.create(inputs, progress);
    const other = await engine.createContainer("other", { Image: "hello:1", HostConfig: { NetworkMode: "busy" } });
    await target.remove(stateOf(inputs, served), progress);
    assert.ok(engine.networks.has("busy"));
    assert.ok(engine.containers.has(other));
  });

  test("a failed create removes the network it created", async () => {
    const failing = new DockerPlatform({
      engineFor: () => engine,
      waitHealthy: async () => ({ ok: false, reason: "exited", detail: "exited with code 1" }),
    });
    await assert.rejects(
      failing.create(inputsOf({ image: "hello:1", network: "short-lived" }), progress),
      /before becoming healthy/,
    );
    assert.equal(engine.networks.has("short-lived"), false);
    assert.equal(engine.containers.size, 0);
  });
});

describe("removal and images", () => {
  test("remove also finds strays of the service by label", async () => {
    const inputs = inputsOf({ image: "hello:1" });
    const served = await target.create(inputs, progress);
    await engine.createContainer("stray", {
      Image: "hello:1",
      Labels: { [LABELS.serviceId]: served.serviceId },
    });
    await target.remove(stateOf(inputs, served), progress);
    assert.equal(engine.containers.size, 0);
  });

  test("an image that is not a Tesseract is refused before anything starts", async () => {
    engine.addImage(["plain:1"], { tesseract: false });
    await assert.rejects(
      target.create(inputsOf({ image: "plain:1" }), progress),
      (err: Error & { property?: string }) => {
        assert.equal(err.property, "image");
        assert.match(err.message, /is not a Tesseract/);
        return true;
      },
    );
    assert.equal(engine.containers.size, 0);
  });

  test("imagesChanged sees an image rebuilt under the same tag", async () => {
    const inputs = inputsOf({ image: "hello:1" });
    const served = await target.create(inputs, progress);
    const state = stateOf(inputs, served);
    assert.equal(await target.imagesChanged(state, ["hello:1"], {}), false);
    engine.addImage(["hello:1"]);
    assert.equal(await target.imagesChanged(state, ["hello:1"], {}), true);
  });
});
