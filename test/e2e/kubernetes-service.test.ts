/**
 * TesseractService on a real single-node Kubernetes cluster (scripts/kubernetes.sh: v1.34.4, its own
 * containerd) pulling from the real test registry (TLS + htpasswd through an image pull Secret; no
 * image import shortcut), through the real Pulumi engine: 3 replicas, `apply` through the
 * package's functions (port-forward through the API server), a zero-downtime rolling update after
 * a change to tesseract_api.py, healing, drift, destroy leaving nothing; and each bad input.
 * Run `npx tsc -p tsconfig.json` first: the provider shim loads lib/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import * as tar from "tar-stream";
import { pushImage } from "../../provider/build/push";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import { apply } from "../../provider/functions/apply";
import { getTesseractServiceLogs } from "../../provider/listing/service-logs";
import { TesseractImage } from "../../provider/resources/tesseract-image";
import {
  type BuiltTesseractImage,
  buildTesseractImage,
  removeTesseractImage,
} from "../../provider/resources/tesseract-image-impl";
import { TesseractService } from "../../provider/resources/tesseract-service";
import { type KubernetesEndpoint, openServiceForward } from "../../provider/serve/kubernetes/forward";
import { kubectl, startTestInfra, type TestInfra } from "../helpers/kubernetes";
import { testWorkspace } from "../helpers/stack";
import { EXAMPLES, hostBuildOptions } from "../helpers/tesseract-image";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROOT = join(__dirname, "..", "..");
const run = `k8s-${process.pid}`;
const namespace = `pt-e2e-${process.pid}`;
const repo = `pt-test/hello-k8s-${process.pid}`;
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-k8s-e2e-"));
const stacks: Stack[] = [];
const built: BuiltTesseractImage[] = [];
let infra: { env: TestInfra; stop: () => void } | undefined;
let env: TestInfra;
let v1 = "";
const src = join(dir, "hello");
const src2 = join(dir, "hello-v2");
let neverReady = "";
const quiet = new Progress("test", []);

async function stack(name: string, program: () => Promise<Record<string, unknown>>): Promise<Stack> {
  const s = await LocalWorkspace.createOrSelectStack(
    { stackName: `${run}-${name}`, projectName: "pt-k8s-e2e", program },
    testWorkspace("pt-k8s-e2e"),
  );
  stacks.push(s);
  return s;
}

/** Builds a Tesseract folder and pushes it to the TLS registry; returns the repo digest. */
async function buildAndPush(srcDir: string, tag: string): Promise<string> {
  const b = await buildTesseractImage(srcDir, { ...hostBuildOptions(run), tag, onLine: () => {} });
  built.push(b);
  const pushed = await pushImage(
    docker,
    b.imageId,
    { registry: env.registryTls, repository: repo, tag, username: env.registryUser, password: env.registryPassword },
    tag,
    quiet,
  );
  return pushed.repoDigest;
}

/** The manifest digest the TLS registry serves for `repo:tag`. */
function registryDigest(tag: string): string | undefined {
  const out = execFileSync("curl", [
    "-sI",
    "--cacert",
    env.registryCa,
    "-u",
    `${env.registryUser}:${env.registryPassword}`,
    "-H",
    "Accept: application/vnd.docker.distribution.manifest.v2+json",
    `https://${env.registryTls}/v2/${repo}/manifests/${tag}`,
  ]).toString();
  return /docker-content-digest: (\S+)/i.exec(out)?.[1];
}

/** An image whose process runs but never serves: for the rollout-timeout case. */
async function buildNeverReady(): Promise<string> {
  const pack = tar.pack();
  pack.entry(
    { name: "Dockerfile" },
    'FROM debian:bookworm-slim\nENTRYPOINT ["sh", "-c", "echo never-ready: not listening; sleep 3600", "--"]\n',
  );
  pack.finalize();
  const tag = `${env.registryHttp}/pt-test/never-ready-${process.pid}:1`;
  await docker.build(Readable.from(pack), { tags: [tag], labels: { "pulumi-tesseract.test": run } }, () => {});
  const [name, t] = [tag.slice(0, tag.lastIndexOf(":")), "1"];
  const digest = await docker.pushImage(name, t, { serveraddress: env.registryHttp }, () => {});
  return `${name}@${digest}`;
}

/** The `kubernetes` input (call inside a program: the kubeconfig content is a secret). */
function kubernetesInput(extra: Record<string, unknown> = {}) {
  return {
    kubeconfig: pulumi.secret(readFileSync(env.kubeconfig, "utf8")),
    namespace,
    imagePullSecret: { registry: env.registryTls, username: env.registryUser, password: env.registryPassword },
    rolloutTimeout: 300,
    ...extra,
  };
}

/** Every object of the stack `s` left in the namespace (by the stack label). */
function leftovers(stackName: string): string {
  return kubectl(env, [
    "-n",
    namespace,
    "get",
    "deployments,replicasets,pods,services,secrets,poddisruptionbudgets",
    "-l",
    `pulumi-tesseract.stack=${stackName}`,
    "-o",
    "name",
  ]).trim();
}

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  infra = startTestInfra("cluster");
  env = infra.env;
  kubectl(env, ["create", "namespace", namespace]);
  // The Tesseract the stack builds and pushes, and the same with a changed tesseract_api.py.
  cpSync(join(EXAMPLES, "hello"), src, { recursive: true });
  cpSync(join(EXAMPLES, "hello"), src2, { recursive: true });
  const api = join(src2, "tesseract_api.py");
  writeFileSync(api, readFileSync(api, "utf8").replace('f"Hello, {inputs.name}!"', 'f"Hi again, {inputs.name}!"'));
  // For the bad-input cases: an image the cluster can pull, pushed without the stack.
  v1 = await buildAndPush(src, "bad-cases");
  neverReady = await buildNeverReady();
});

after(async () => {
  for (const s of stacks) {
    await s.destroy().catch(() => undefined);
    await s.workspace.removeStack(s.name).catch(() => undefined);
  }
  if (env) kubectl(env, ["delete", "namespace", namespace, "--wait=true", "--timeout=120s"], 150_000);
  for (const b of built) await removeTesseractImage(b).catch(() => undefined);
  for (const img of await docker.listImages()) {
    for (const t of img.RepoTags ?? [])
      if (t.includes(`/${repo}:`) || t.includes(`never-ready-${process.pid}`))
        await docker.removeImage(t).catch(() => false);
  }
  for (const img of await docker.listImages({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeImage(img.Id, { force: true }).catch(() => false);
  rmSync(dir, { recursive: true, force: true });
  await docker.close();
  infra?.stop();
  if (infra) {
    // Nothing of the cluster may stay on the host once the file that started it is done.
    const left = execFileSync("bash", [join(ROOT, "scripts/kubernetes.sh"), "status"], { encoding: "utf8" });
    if (/cluster up/.test(left) && !process.env.PT_K8S_KEEP)
      process.stderr.write(`cluster still up after stop: ${left}`);
  }
});

describe("a TesseractService on Kubernetes", { concurrency: false }, () => {
  let s: Stack;
  let endpoint: KubernetesEndpoint;
  let repoDigest = "";
  let pushedReference = "";

  test("builds, pushes, serves 3 replicas pulled from the registry; apply works through the functions", {
    timeout: 900_000,
  }, async () => {
    s = await stack("main", async () => {
      const img = new TesseractImage("hello-img", {
        srcDir: process.env.PT_K8S_SRC as string,
        tag: `k8s-${process.pid}`,
        ...hostBuildOptions(run),
        push: {
          registry: env.registryTls,
          repository: repo,
          username: env.registryUser,
          password: pulumi.secret(env.registryPassword),
        },
      });
      const svc = new TesseractService("hello", {
        image: img,
        replicas: 3,
        runtimeConfig: { profiling: false },
        memory: "512m",
        labels: { "pulumi-tesseract.test": run },
        kubernetes: kubernetesInput(),
      });
      return {
        url: svc.url,
        endpoint: svc.endpoint,
        namespace: svc.namespace,
        deployment: svc.deployment,
        service: svc.service,
        engine: svc.engine,
        repoDigest: img.repoDigest,
        pushedReference: img.pushedReference,
      };
    });
    process.env.PT_K8S_SRC = src;
    const lines: string[] = [];
    const up = await s.up({ onOutput: (l) => lines.push(l) });
    const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    assert.equal(out.namespace, namespace);
    assert.match(out.deployment as string, /^hello-[0-9a-f]{6}$/);
    assert.equal(out.service, out.deployment);
    assert.equal(out.url, `http://${out.service}.${namespace}.svc.cluster.local:8000`);
    assert.equal(out.engine, env.apiServer);
    assert.ok(up.outputs.endpoint.secret, "the endpoint carries the kubeconfig content: a secret");
    assert.match(lines.join(""), /rollout of hello-[0-9a-f]{6}: \d\/3 replicas ready/, "rollout progress is shown");
    endpoint = out.endpoint as KubernetesEndpoint;
    repoDigest = out.repoDigest as string;
    pushedReference = out.pushedReference as string;
    const tag = `k8s-${process.pid}`;
    assert.equal(repoDigest, `${env.registryTls}/${repo}@${registryDigest(tag)}`, "the registry serves the digest");

    const dep = JSON.parse(
      kubectl(env, ["-n", namespace, "get", "deployment", out.deployment as string, "-o", "json"]),
    );
    assert.equal(dep.status.readyReplicas, 3);
    assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.image, repoDigest, "pods run the pushed image by digest");
    assert.equal(c.readinessProbe.httpGet.path, "/health");
    assert.equal(c.livenessProbe.httpGet.path, "/health");
    assert.equal(c.resources.limits.memory, String(512 * 1024 ** 2));
    assert.ok(c.env.some((e: { name: string }) => e.name === "TESSERACT_PROFILING"));
    const pods = JSON.parse(
      kubectl(env, [
        "-n",
        namespace,
        "get",
        "pods",
        "-l",
        `pulumi-tesseract.service-id=${out.deployment}`,
        "-o",
        "json",
      ]),
    );
    assert.equal(pods.items.length, 3);
    for (const p of pods.items) {
      // imageID is the digest the kubelet pulled from the registry.
      assert.equal(p.status.containerStatuses[0].imageID, repoDigest);
      assert.equal(p.metadata.labels["pulumi-tesseract.stack"], s.name);
    }

    const res = await apply({ url: endpoint, inputs: { name: "kubernetes" } });
    assert.deepEqual(res.outputs, { greeting: "Hello, kubernetes!" });

    // each pod's server log, read through the API server
    const logs = await getTesseractServiceLogs({ endpoint, tail: 50 });
    assert.equal(logs.length, 3);
    for (const l of logs) assert.match(l.logs, /Uvicorn running|Application startup complete/, l.name);

    // Through the Service: connections spread over the replicas.
    const fwd = await openServiceForward(endpoint);
    try {
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`${fwd.url}/health`, { headers: { connection: "close" } });
        assert.equal(r.status, 200);
      }
      assert.equal(fwd.connections.size, 3, `connections per pod: ${JSON.stringify([...fwd.connections])}`);
    } finally {
      await fwd.close();
    }
    const again = await s.preview();
    assert.equal(again.changeSummary.update ?? 0, 0, "no change: nothing to do");
  });

  test("rolling update after a change to tesseract_api.py: a poller sees no failed call", {
    timeout: 600_000,
  }, async () => {
    let failures: string[] = [];
    const seen = new Set<string>();
    let calls = 0;
    let polling = true;
    const poller = (async () => {
      const deadline = Date.now() + 500_000;
      while (polling && Date.now() < deadline) {
        calls++;
        try {
          const r = await apply({ url: endpoint, inputs: { name: "poll" }, timeoutMs: 30_000 });
          seen.add(String(r.outputs.greeting));
        } catch (err) {
          failures.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    process.env.PT_K8S_SRC = src2;
    const up = await s.up();
    assert.notEqual(up.outputs.repoDigest.value, repoDigest, "the changed image was pushed");
    assert.equal(up.summary.resourceChanges?.update, 2, "image and service updated in place (no replacement)");
    // Keep polling briefly after the rollout: the old pods are gone now.
    await new Promise((r) => setTimeout(r, 2_000));
    polling = false;
    await poller;
    assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);
    assert.ok(calls > 5, `the poller made ${calls} calls`);
    assert.ok(seen.has("Hello, poll!") && seen.has("Hi again, poll!"), [...seen].join(", "));
    const res = await apply({ url: endpoint, inputs: { name: "v2" } });
    assert.deepEqual(res.outputs, { greeting: "Hi again, v2!" });
    failures = [];
  });

  test("a pod deleted by hand is replaced by the Deployment", { timeout: 300_000 }, async () => {
    const dep = endpoint.service;
    const names = kubectl(env, [
      "-n",
      namespace,
      "get",
      "pods",
      "-l",
      `pulumi-tesseract.service-id=${dep}`,
      "-o",
      "name",
    ])
      .trim()
      .split("\n");
    kubectl(env, ["-n", namespace, "delete", names[0], "--wait=false"]);
    kubectl(env, ["-n", namespace, "rollout", "status", `deployment/${dep}`, "--timeout=180s"], 200_000);
    // `rollout status` may answer before the Deployment's status counts the deleted pod: poll (bounded).
    const readyNow = () =>
      JSON.parse(kubectl(env, ["-n", namespace, "get", "deployment", dep, "-o", "json"])).status.readyReplicas;
    let ready = readyNow();
    for (let i = 0; i < 120 && ready !== 3; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      ready = readyNow();
    }
    assert.equal(ready, 3);
    const res = await apply({ url: endpoint, inputs: { name: "healed" } });
    assert.deepEqual(res.outputs, { greeting: "Hi again, healed!" });
  });

  test("refresh reports drift (scaled by hand); up restores the declared replicas", { timeout: 300_000 }, async () => {
    kubectl(env, ["-n", namespace, "scale", `deployment/${endpoint.service}`, "--replicas=1"]);
    await s.refresh();
    const preview = await s.preview();
    assert.equal(preview.changeSummary.update, 1, "drift shows as an update");
    await s.up();
    const d = JSON.parse(kubectl(env, ["-n", namespace, "get", "deployment", endpoint.service, "-o", "json"]));
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.status.readyReplicas, 3);
  });

  test("destroy removes every object of the stack and the local tags; the registry keeps its history", {
    timeout: 300_000,
  }, async () => {
    assert.notEqual(leftovers(s.name), "", "objects exist before destroy");
    await s.destroy();
    assert.equal(leftovers(s.name), "", "nothing of the stack is left in the namespace");
    assert.equal(await docker.inspectImage(pushedReference), undefined, "the local push tag is removed");
    assert.ok(registryDigest(`k8s-${process.pid}`), "the registry still has the pushed image");
  });
});

describe("placement, annotations, requests and a PodDisruptionBudget", { concurrency: false }, () => {
  test("are applied, drift on each shows on refresh, up restores them, destroy leaves nothing", {
    timeout: 400_000,
  }, async () => {
    const host = kubectl(env, ["get", "nodes", "-o", "jsonpath={.items[0].metadata.labels.kubernetes\\.io/hostname}"]);
    assert.ok(host, "the node has a hostname label");
    const s = await stack("sched", async () => {
      const svc = new TesseractService("sched", {
        image: v1,
        replicas: 1,
        memory: "512m",
        labels: { "pulumi-tesseract.test": run },
        kubernetes: kubernetesInput({
          nodeSelector: { "kubernetes.io/hostname": host },
          tolerations: [{ key: "pulumi-tesseract.test/dedicated", operator: "Exists", effect: "NoSchedule" }],
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 10,
                  preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [host] }] },
                },
              ],
            },
          },
          podAnnotations: { "example.com/team": "imaging" },
          serviceAnnotations: { "example.com/owner": "platform" },
          requests: { cpu: "50m", memory: "64Mi" },
          podDisruptionBudget: { minAvailable: 1 },
        }),
      });
      return { deployment: svc.deployment };
    });
    const up = await s.up();
    const name = up.outputs.deployment.value as string;
    const get = (kind: string) => JSON.parse(kubectl(env, ["-n", namespace, "get", kind, name, "-o", "json"]));
    const pod = get("deployment").spec.template;
    assert.deepEqual(pod.spec.nodeSelector, { "kubernetes.io/hostname": host });
    assert.deepEqual(pod.spec.tolerations, [
      { key: "pulumi-tesseract.test/dedicated", operator: "Exists", effect: "NoSchedule" },
    ]);
    assert.equal(pod.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight, 10);
    assert.equal(pod.metadata.annotations["example.com/team"], "imaging");
    assert.deepEqual(pod.spec.containers[0].resources.requests, { cpu: "50m", memory: "64Mi" });
    assert.equal(pod.spec.containers[0].resources.limits.memory, String(512 * 1024 ** 2));
    assert.equal(get("service").metadata.annotations["example.com/owner"], "platform");
    const pdb = get("poddisruptionbudget");
    assert.equal(pdb.spec.minAvailable, 1);
    assert.equal(pdb.metadata.labels["pulumi-tesseract.stack"], s.name);
    assert.deepEqual(pdb.spec.selector.matchLabels, { "pulumi-tesseract.service-id": name });

    // By hand: a node selector key, a Service annotation and the budget.
    const patch = (kind: string, body: unknown) =>
      kubectl(env, ["-n", namespace, "patch", kind, name, "--type", "merge", "-p", JSON.stringify(body)]);
    patch("deployment", { spec: { template: { spec: { nodeSelector: { "example.com/extra": "x" } } } } });
    kubectl(env, ["-n", namespace, "annotate", "service", name, "example.com/owner=someone", "--overwrite"]);
    patch("poddisruptionbudget", { spec: { minAvailable: 0 } });
    await s.refresh();
    const state = (await s.exportStack()).deployment as {
      resources?: { type: string; outputs?: Record<string, unknown> }[];
    };
    const svcState = state.resources?.find(
      (r) => r.type.endsWith(":TesseractService") && r.outputs?.deployment === name,
    )?.outputs as {
      served: { observed: { drift?: string[] } };
    };
    assert.deepEqual(svcState.served.observed.drift, ["nodeSelector", "serviceAnnotations", "podDisruptionBudget"]);
    const preview = await s.preview();
    assert.equal(preview.changeSummary.update, 1, "drift shows as an update");

    await s.up();
    assert.deepEqual(get("deployment").spec.template.spec.nodeSelector, { "kubernetes.io/hostname": host });
    assert.equal(get("service").metadata.annotations["example.com/owner"], "platform");
    assert.equal(get("poddisruptionbudget").spec.minAvailable, 1);
    const again = await s.preview();
    assert.equal(again.changeSummary.update ?? 0, 0, "no drift left after up");

    await s.destroy();
    assert.equal(leftovers(s.name), "", "nothing of the stack is left, the budget included");
  });
});

describe("bad inputs fail clearly and leave nothing", { concurrency: false }, () => {
  async function failingUp(
    name: string,
    kubernetes: Record<string, unknown> | (() => Record<string, unknown>),
    image?: string,
  ): Promise<string> {
    const s = await stack(name, async () => {
      if (typeof kubernetes === "function") kubernetes = kubernetes();
      const svc = new TesseractService("bad", {
        image: image ?? v1,
        replicas: 2,
        startupTimeout: 600,
        kubernetes,
      });
      return { url: svc.url };
    });
    const err = await s.up().then(
      () => assert.fail("up should fail"),
      (e: unknown) => String(e),
    );
    assert.equal(leftovers(s.name), "", `nothing left in the namespace for ${name}`);
    assert.ok(!err.includes(env.registryPassword), "no secret in the error");
    return err;
  }

  test("unreachable API server", { timeout: 120_000 }, async () => {
    const kc = readFileSync(env.kubeconfig, "utf8").replace(env.apiServer, "https://127.0.0.1:1");
    const err = await failingUp("unreachable", { kubeconfig: kc, namespace });
    assert.match(err, /cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1/);
  });

  test("unknown context", { timeout: 120_000 }, async () => {
    const err = await failingUp("context", () => kubernetesInput({ context: "no-such-context" }));
    assert.match(err, /the kubeconfig has no context "no-such-context" \(it has: pulumi-tesseract-test/);
  });

  test("unknown namespace", { timeout: 120_000 }, async () => {
    const err = await failingUp("namespace", () => kubernetesInput({ namespace: "no-such-namespace" }));
    assert.match(err, /the namespace "no-such-namespace" does not exist/);
  });

  test("an image the cluster cannot pull: the error names the pull failure", { timeout: 300_000 }, async () => {
    const missing = `${env.registryTls}/pt-test/missing-${process.pid}@sha256:${"0".repeat(64)}`;
    const err = await failingUp("unpullable", () => kubernetesInput(), missing);
    assert.match(err, /ErrImagePull|ImagePullBackOff/);
    assert.match(err, /Failed to pull image|not found/);
    assert.match(err, /The Deployment, Service and Secret were removed/);
  });

  test("a rollout that never becomes ready: timeout with events and logs", { timeout: 300_000 }, async () => {
    const err = await failingUp(
      "never-ready",
      () => kubernetesInput({ rolloutTimeout: 25, imagePullSecret: undefined }),
      neverReady,
    );
    assert.match(err, /not every replica became ready within 25 s/);
    assert.match(err, /Startup probe failed|Unhealthy/, "the pods' events are in the error");
    assert.match(err, /never-ready: not listening/, "the pods' last log lines are in the error");
  });
});
