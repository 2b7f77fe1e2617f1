/**
 * Existing stacks: a Kubernetes-served TesseractService's state as versions before typed targets
 * wrote it (the container target's outputs kept as empties: `containers: []`, `hostPorts: []`,
 * `networkCreated: false`, ...) still diffs (no change from the empties), reads (back without them)
 * and deletes through the lifecycle. The cluster is a fake API server on 127.0.0.1 that answers
 * the reads and deletes the target makes; the real cluster runs in test/e2e/kubernetes-service.test.ts.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { diff, read, remove } from "../../provider/resources/tesseract-service-impl";
import { inputsOfState } from "../../provider/serve/kubernetes/kubernetes-target";
import type { KubernetesServiceInputs } from "../../provider/serve/kubernetes/manifests";
import type { StoredKubernetesState } from "../../provider/serve/kubernetes/state";
import { targetInputs } from "../../provider/serve/select";
import { CONTAINER_OUTPUT_KEYS, KUBERNETES_OUTPUT_KEYS } from "../../provider/serve/serve-target";
import { serviceInputsOf } from "../helpers/service-inputs";

process.env.PULUMI_TESSERACT_QUIET = "1";

const NS = "tesseracts";
const ID = "svc-0a1b2c";
const IMAGE = `127.0.0.1:5000/hello@sha256:${"a".repeat(64)}`;
const CLUSTER_URL = `http://${ID}.${NS}.svc.cluster.local:8000`;
/** Outputs only the container target has: what old Kubernetes states carry as empties. */
const CONTAINER_ONLY = CONTAINER_OUTPUT_KEYS.filter((k) => !(KUBERNETES_OUTPUT_KEYS as readonly string[]).includes(k));

/** A fake API server: the Deployment and Service exist, no budget, no pods; records every request. */
class FakeApiServer {
  readonly requests: string[] = [];
  private server: Server = createServer((req, res) => this.answer(req, res));
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").split("?")[0];
    this.requests.push(`${req.method} ${path}`);
    const [status, body] = reply(req.method ?? "GET", path);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }
}

/** The fake API server's answer to one request. */
function reply(method: string, path: string): [number, unknown] {
  if (method === "DELETE") return [200, { kind: "Status", apiVersion: "v1", status: "Success" }];
  if (path === `/apis/apps/v1/namespaces/${NS}/deployments/${ID}`)
    return [
      200,
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: ID, namespace: NS, generation: 1 },
        spec: {
          replicas: 2,
          selector: { matchLabels: { "pulumi-tesseract.service-id": ID } },
          template: { spec: { containers: [{ name: "tesseract", image: IMAGE }] } },
        },
        status: { replicas: 2, readyReplicas: 2 },
      },
    ];
  if (path === `/api/v1/namespaces/${NS}/services/${ID}`)
    return [
      200,
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: ID, namespace: NS },
        spec: { type: "ClusterIP", ports: [{ port: 8000 }] },
      },
    ];
  if (path === `/api/v1/namespaces/${NS}/pods`) return [200, { apiVersion: "v1", kind: "PodList", items: [] }];
  return [404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 }];
}

const api = new FakeApiServer();
let inputs: KubernetesServiceInputs;
let old: StoredKubernetesState;

before(async () => {
  await api.start();
  const kubeconfig = [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: fake, cluster: {server: "${api.url}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: t}}]",
    "contexts: [{name: fake, context: {cluster: fake, user: u}}]",
    "current-context: fake",
    "",
  ].join("\n");
  const typed = targetInputs(serviceInputsOf({ image: IMAGE, replicas: 2, kubernetes: { kubeconfig, namespace: NS } }));
  assert.ok(typed.kubernetes, "a Kubernetes service");
  inputs = typed;
  // Exactly what the previous version stored: the Kubernetes outputs plus the container ones, empty.
  old = {
    ...inputs,
    serviceId: ID,
    engine: api.url,
    url: CLUSTER_URL,
    urls: [CLUSTER_URL],
    namespace: NS,
    deployment: ID,
    service: ID,
    served: {
      serviceId: ID,
      namespace: NS,
      context: "fake",
      server: api.url,
      deployment: ID,
      service: ID,
      image: IMAGE,
      port: 8000,
      clusterUrl: CLUSTER_URL,
      observed: { exists: true, replicas: 2, readyReplicas: 2, image: IMAGE },
    },
    containers: [],
    containerIds: [],
    containerNames: [],
    hostPorts: [],
    debugPorts: [],
    imageIds: [],
    networkCreated: false,
  };
});

after(() => api.stop());

describe("a Kubernetes state written before typed targets (container outputs kept as empties)", () => {
  test("its inputs are the state minus both targets' outputs (what update rolls back to)", () => {
    assert.deepEqual(inputsOfState(old), inputs);
  });

  test("diff: the same inputs are no change; another image rolls in place", async () => {
    assert.deepEqual(await diff(ID, old, { ...inputs }), { changes: false, replaces: [], deleteBeforeReplace: false });
    const rolled = await diff(ID, old, { ...inputs, image: `127.0.0.1:5000/hello@sha256:${"b".repeat(64)}` });
    assert.deepEqual(rolled, { changes: true, replaces: [], deleteBeforeReplace: false });
    const moved = await diff(ID, old, { ...inputs, kubernetes: { ...inputs.kubernetes, namespace: "other" } });
    assert.deepEqual(moved.replaces, ["kubernetes"]);
    const toEngine = await diff(ID, old, { image: "hello:1", serviceName: inputs.serviceName });
    assert.deepEqual(toEngine, { changes: true, replaces: ["kubernetes"], deleteBeforeReplace: false });
  });

  test("read: the objects as found, the state back without the empties", async () => {
    const { id, props } = await read(ID, old);
    assert.equal(id, ID);
    for (const key of CONTAINER_ONLY) assert.equal(key in props, false, `${key} is not stored any more`);
    for (const key of KUBERNETES_OUTPUT_KEYS.filter((k) => k !== "served"))
      assert.deepEqual(props[key], old[key], `${key} is kept`);
    assert.deepEqual(props.served.observed.exists, true);
    assert.equal(props.served.observed.image, IMAGE);
    assert.deepEqual(inputsOfState(props), JSON.parse(JSON.stringify(inputs)), "the inputs are kept (as plain JSON)");
    assert.ok(api.requests.includes(`GET /apis/apps/v1/namespaces/${NS}/deployments/${ID}`), api.requests.join("\n"));
    // Read back again: a state without the empties is no change either.
    assert.deepEqual(await diff(ID, props, { ...inputs }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  test("delete: removes the Deployment, Service, pull Secret and budget it names", async () => {
    api.requests.length = 0;
    await remove(ID, old);
    for (const path of [
      `/apis/apps/v1/namespaces/${NS}/deployments/${ID}`,
      `/api/v1/namespaces/${NS}/services/${ID}`,
      `/api/v1/namespaces/${NS}/secrets/${ID}-pull`,
    ])
      assert.ok(api.requests.includes(`DELETE ${path}`), `DELETE ${path} in:\n${api.requests.join("\n")}`);
    assert.ok(
      api.requests.some((r) => r.startsWith(`DELETE /apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/`)),
      api.requests.join("\n"),
    );
  });
});
