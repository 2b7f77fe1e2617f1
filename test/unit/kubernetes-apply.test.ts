/**
 * Writing a Kubernetes object that exists: read its version and replace it, and when a controller
 * wrote it in between (409 "the object has been modified", as the disruption controller does to a
 * PodDisruptionBudget's status), read and replace again, a bounded number of times. Seen in a full
 * run as an `up` failing on the budget of `test/e2e/kubernetes-service.test.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import type { KubernetesApis } from "../../provider/serve/kubernetes/connection";
import { applyObject } from "../../provider/serve/kubernetes/deployment";

const conflict = () => new k8s.ApiException(409, "Conflict", { message: "the object has been modified" }, {});
const apis = { conn: { namespace: "ns", server: "https://127.0.0.1:1" } } as unknown as KubernetesApis;

/** An object store whose replace is refused `races` times as if a controller had written it meanwhile. */
function store(races: number) {
  let version = 1;
  const replaced: string[] = [];
  return {
    replaced,
    ops: {
      create: async () => {
        throw conflict();
      },
      read: async () => ({ metadata: { name: "pdb", resourceVersion: String(version) } }),
      replace: async (body: { metadata?: k8s.V1ObjectMeta }) => {
        if (races-- > 0) {
          version++;
          throw conflict();
        }
        replaced.push(body.metadata?.resourceVersion ?? "");
      },
    },
  };
}

test("a replace that lost a race with a controller is read and tried again", async () => {
  const s = store(2);
  await applyObject(apis, { metadata: { name: "pdb" } }, s.ops);
  assert.deepEqual(s.replaced, ["3"], "replaced once, with the version read last");
});

test("a replace that keeps losing gives up after a bounded number of rounds, with the API's error", async () => {
  const s = store(1_000);
  await assert.rejects(applyObject(apis, { metadata: { name: "pdb" } }, s.ops), (err: unknown) => {
    assert.ok(err instanceof k8s.ApiException && err.code === 409);
    return true;
  });
  assert.deepEqual(s.replaced, []);
});
