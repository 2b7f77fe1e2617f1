/**
 * The Kubernetes target's objects as pure functions of the inputs, and its check rules (these run
 * at preview, before anything is created). The objects are exercised on a real cluster in
 * test/e2e/kubernetes-service.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ServiceInputs, validateInputs } from "../../provider/serve/args";
import {
  deployment,
  dnsLabel,
  type KubernetesServiceInputs,
  labelValue,
  pullSecret,
  service,
} from "../../provider/serve/kubernetes/manifests";

function inputs(extra: Record<string, unknown> = {}): KubernetesServiceInputs {
  const { inputs, failures } = validateInputs(
    { image: `127.0.0.1:5000/t/hello@sha256:${"a".repeat(64)}`, serviceName: "hello svc", kubernetes: {}, ...extra },
    new Set(),
    "/tmp",
  );
  assert.deepEqual(failures, []);
  return inputs as KubernetesServiceInputs;
}

function failures(extra: Record<string, unknown>): string[] {
  return validateInputs(
    { image: "hello:1", serviceName: "s", kubernetes: {}, ...extra },
    new Set(),
    "/tmp",
  ).failures.map((f) => `${f.property}: ${f.reason}`);
}

describe("Kubernetes objects", () => {
  test("Deployment: replicas, image, serve args, env, probes, zero-downtime rollouts, labels", () => {
    const i = inputs({
      replicas: 3,
      numWorkers: 2,
      runtimeConfig: { profiling: true },
      outputFormat: "json+base64",
      environment: { A: "1" },
      labels: { team: "imaging" },
      stack: "dev",
      project: "p",
      kubernetes: { cpu: "500m", rolloutTimeout: 120, nodeSelector: { gpu: "yes" } },
    });
    const d = deployment(i, "hello-svc-abc123", "ns1", i.image as string);
    assert.equal(d.metadata?.namespace, "ns1");
    assert.equal(d.spec?.replicas, 3);
    assert.deepEqual(d.spec?.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    assert.equal(d.spec?.progressDeadlineSeconds, 120);
    assert.deepEqual(d.spec?.selector.matchLabels, { "pulumi-tesseract.service-id": "hello-svc-abc123" });
    const pod = d.spec?.template;
    assert.equal(pod?.metadata?.labels?.["pulumi-tesseract.service-id"], "hello-svc-abc123");
    assert.equal(pod?.metadata?.labels?.["pulumi-tesseract.stack"], "dev");
    assert.equal(pod?.metadata?.labels?.["pulumi-tesseract.service"], "hello-svc");
    assert.equal(pod?.metadata?.labels?.team, "imaging");
    assert.deepEqual(pod?.spec?.nodeSelector, { gpu: "yes" });
    const c = pod?.spec?.containers[0];
    assert.equal(c?.image, i.image);
    assert.deepEqual(c?.args, ["serve", "--host", "0.0.0.0", "--port", "8000", "--num-workers", "2"]);
    assert.deepEqual(c?.env, [
      { name: "A", value: "1" },
      { name: "TESSERACT_PROFILING", value: "1" },
      { name: "TESSERACT_OUTPUT_FORMAT", value: "json+base64" },
    ]);
    for (const probe of [c?.readinessProbe, c?.livenessProbe, c?.startupProbe]) {
      assert.deepEqual(probe?.httpGet, { path: "/health", port: "http" });
    }
    assert.equal(c?.startupProbe?.failureThreshold, 30, "startupTimeout seconds of 1 s probes");
    assert.deepEqual(c?.resources, { limits: { cpu: "500m" }, requests: { cpu: "500m" } });
    assert.equal(c?.securityContext, undefined, "the image's own user applies");
    assert.equal(pod?.spec?.imagePullSecrets, undefined);
  });

  test("memory in Docker syntax becomes bytes; N GPU ids become N nvidia.com/gpu; numeric user", () => {
    const i = inputs({ memory: "512m", gpus: ["0", "1"], user: "1000:2000" });
    const c = deployment(i, "x", "default", "img").spec?.template.spec?.containers[0];
    assert.deepEqual(c?.resources, {
      limits: { memory: String(512 * 1024 ** 2), "nvidia.com/gpu": "2" },
      requests: { memory: String(512 * 1024 ** 2) },
    });
    assert.deepEqual(c?.securityContext, { runAsUser: 1000, runAsGroup: 2000 });
  });

  test("volumes: absolute node paths are hostPath, names are PVCs; inputPath/outputPath mounted", () => {
    const i = inputs({ volumes: ["/data/in:/in:ro", "results:/out:rw"], inputPath: "/srv/in", outputPath: "/srv/out" });
    const spec = deployment(i, "x", "default", "img").spec?.template.spec;
    assert.deepEqual(spec?.volumes, [
      { name: "v0", hostPath: { path: "/data/in", type: "" } },
      { name: "v1", persistentVolumeClaim: { claimName: "results", readOnly: false } },
      { name: "v2", hostPath: { path: "/srv/in", type: "" } },
      { name: "v3", hostPath: { path: "/srv/out", type: "DirectoryOrCreate" } },
    ]);
    assert.deepEqual(spec?.containers[0].volumeMounts, [
      { name: "v0", mountPath: "/in", readOnly: true },
      { name: "v1", mountPath: "/out", readOnly: false },
      { name: "v2", mountPath: "/tesseract/input_data", readOnly: true },
      { name: "v3", mountPath: "/tesseract/output_data", readOnly: false },
    ]);
  });

  test("Service: ClusterIP by default on port 8000, or the given port and type", () => {
    const s = service(inputs(), "x", "ns");
    assert.equal(s.spec?.type, "ClusterIP");
    assert.deepEqual(s.spec?.ports, [{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }]);
    const s2 = service(inputs({ port: 9000, kubernetes: { serviceType: "NodePort" } }), "x", "ns");
    assert.equal(s2.spec?.type, "NodePort");
    assert.equal(s2.spec?.ports?.[0].port, 9000);
  });

  test("pull Secret: dockerconfigjson with the credentials, referenced by the pods", () => {
    const i = inputs({ kubernetes: { imagePullSecret: { registry: "127.0.0.1:5000", username: "u", password: "p" } } });
    const secret = pullSecret(i, "x", "ns");
    assert.equal(secret?.type, "kubernetes.io/dockerconfigjson");
    const cfg = JSON.parse(Buffer.from(secret?.data?.[".dockerconfigjson"] ?? "", "base64").toString());
    assert.deepEqual(cfg.auths["127.0.0.1:5000"], {
      username: "u",
      password: "p",
      auth: Buffer.from("u:p").toString("base64"),
    });
    assert.deepEqual(deployment(i, "x", "ns", "img").spec?.template.spec?.imagePullSecrets, [{ name: "x-pull" }]);
  });

  test("names and label values are made valid", () => {
    assert.equal(dnsLabel("My_Service.1"), "my-service-1");
    assert.equal(dnsLabel("123"), "tesseract");
    assert.equal(labelValue("-a b/c-"), "a-b-c");
    assert.equal(labelValue("x".repeat(80)).length, 63);
  });
});

describe("check rules of the Kubernetes target", () => {
  test("Docker-only inputs are refused, naming the input and the fix", () => {
    const f = failures({
      docker: { host: "unix:///x.sock" },
      network: "n",
      hostIp: "0.0.0.0",
      restartPolicy: "always",
    });
    for (const key of ["docker", "network", "hostIp", "restartPolicy"]) {
      assert.ok(
        f.some((r) => r.startsWith(`${key}: ${key}: applies to the Docker target only`)),
        `${key}: ${f.join("\n")}`,
      );
    }
    assert.match(failures({ images: ["a:1", "b:1"], image: undefined }).join("\n"), /serves one image per service/);
  });

  test('gpus "all", a port range, bad namespace, bad PVC name, unknown fields', () => {
    assert.match(failures({ gpus: "all" }).join("\n"), /schedules GPUs by count/);
    assert.match(failures({ port: "8000-8010" }).join("\n"), /the Service's port, one number/);
    assert.match(failures({ kubernetes: { namespace: "Bad_NS" } }).join("\n"), /kubernetes\.namespace.*namespace name/);
    assert.match(failures({ volumes: ["Data_1:/d"] }).join("\n"), /not a PersistentVolumeClaim name/);
    assert.match(failures({ kubernetes: { nope: 1 } }).join("\n"), /kubernetes/);
    assert.match(failures({ kubernetes: { serviceType: "Ingress" } }).join("\n"), /ClusterIP/);
  });

  test("node paths are not looked up on this machine; defaults of Docker-only inputs pass", () => {
    const v = validateInputs(
      { image: "hello:1", serviceName: "s", kubernetes: {}, inputPath: "/does/not/exist/here", hostIp: "127.0.0.1" },
      new Set(),
      "/tmp",
    );
    assert.deepEqual(v.failures, []);
    assert.equal((v.inputs as ServiceInputs).inputPath, "/does/not/exist/here");
  });

  test("kubeconfig content is never echoed in a failure", () => {
    const secret = "apiVersion: v1\nclusters: []\n# secret-token-123";
    const f = failures({ kubernetes: { kubeconfig: secret, serviceType: 1 } });
    assert.ok(f.length > 0);
    assert.ok(!f.join("\n").includes("secret-token-123"), f.join("\n"));
  });
});
