/**
 * The Kubernetes target's placement and upkeep inputs (nodeSelector, tolerations, affinity,
 * annotations, requests, PodDisruptionBudget, podSpecPatch): the objects each one produces, each
 * refusal at check (naming the field, the value and the fix), and the drift comparison `refresh`
 * relies on. Pure functions; the real cluster is in test/e2e/kubernetes-service.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type * as k8s from "@kubernetes/client-node";
import { validateInputs } from "../../provider/serve/args";
import {
  expectedScheduling,
  type KubernetesServed,
  schedulingDriftOf,
} from "../../provider/serve/kubernetes/deployment";
import {
  CONTAINER_NAME,
  deployment,
  disruptionBudget,
  type KubernetesServiceInputs,
  service,
} from "../../provider/serve/kubernetes/manifests";
import { hopelessPod, PULL_AUTH_GRACE_SECONDS } from "../../provider/serve/kubernetes/rollout";
import { canonical, deepMerge, observeScheduling, schedulingDrift } from "../../provider/serve/kubernetes/scheduling";
import { isQualifiedName, quantityValue } from "../../provider/serve/kubernetes/scheduling-inputs";

const IMAGE = `127.0.0.1:5000/t/hello@sha256:${"a".repeat(64)}`;

function inputs(kubernetes: Record<string, unknown>, extra: Record<string, unknown> = {}): KubernetesServiceInputs {
  const { inputs, failures } = validateInputs(
    { image: IMAGE, serviceName: "hello", kubernetes, ...extra },
    new Set(),
    "/tmp",
  );
  assert.deepEqual(failures, []);
  return inputs as KubernetesServiceInputs;
}

function failures(kubernetes: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  return validateInputs({ image: "hello:1", serviceName: "s", kubernetes, ...extra }, new Set(), "/tmp").failures.map(
    (f) => `${f.property}: ${f.reason}`,
  );
}

function refused(kubernetes: Record<string, unknown>, pattern: RegExp, extra: Record<string, unknown> = {}): void {
  const f = failures(kubernetes, extra);
  assert.ok(
    f.some((x) => pattern.test(x)),
    `expected a failure matching ${pattern}, got ${JSON.stringify(f)}`,
  );
}

const GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };
const AFFINITY = {
  nodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 50, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
    ],
  },
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 10,
        podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "x" } } },
      },
    ],
  },
};

describe("objects of the scheduling inputs", () => {
  test("nodeSelector, tolerations and affinity land in the pod spec as given", () => {
    const i = inputs({
      nodeSelector: { "kubernetes.io/hostname": "node-1" },
      tolerations: [GPU_TOLERATION, { key: "dedicated", value: "ml", effect: "NoExecute", tolerationSeconds: 30 }],
      affinity: AFFINITY,
    });
    const spec = deployment(i, "hello-abc123", "ns", IMAGE).spec?.template.spec;
    assert.deepEqual(spec?.nodeSelector, { "kubernetes.io/hostname": "node-1" });
    assert.deepEqual(spec?.tolerations, [
      GPU_TOLERATION,
      { key: "dedicated", value: "ml", effect: "NoExecute", tolerationSeconds: 30 },
    ]);
    assert.deepEqual(spec?.affinity, AFFINITY);
  });

  test("without them the pod spec has none", () => {
    const spec = deployment(inputs({}), "hello-abc123", "ns", IMAGE).spec?.template.spec;
    assert.equal(spec?.nodeSelector, undefined);
    assert.equal(spec?.tolerations, undefined);
    assert.equal(spec?.affinity, undefined);
    assert.equal(service(inputs({}), "hello-abc123", "ns").metadata?.annotations, undefined);
    assert.equal(disruptionBudget(inputs({}), "hello-abc123", "ns"), undefined);
  });

  test("pod annotations beside the provider's image annotation (which wins); service annotations", () => {
    const i = inputs({
      podAnnotations: { "prometheus.io/scrape": "true", "pulumi-tesseract.image": "not-this" },
      serviceAnnotations: { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" },
    });
    const d = deployment(i, "hello-abc123", "ns", IMAGE);
    assert.deepEqual(d.spec?.template.metadata?.annotations, {
      "prometheus.io/scrape": "true",
      "pulumi-tesseract.image": IMAGE,
    });
    assert.deepEqual(service(i, "hello-abc123", "ns").metadata?.annotations, {
      "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    });
  });

  test("requests apart from limits; requests alone; default requests = limits", () => {
    const both = deployment(
      inputs({ cpu: "2", requests: { cpu: "250m", memory: "256Mi" } }, { memory: "1g" }),
      "h",
      "ns",
      IMAGE,
    ).spec?.template.spec?.containers[0].resources;
    assert.deepEqual(both, {
      limits: { memory: String(1024 ** 3), cpu: "2" },
      requests: { memory: "256Mi", cpu: "250m" },
    });
    const alone = deployment(inputs({ requests: { cpu: "100m" } }), "h", "ns", IMAGE).spec?.template.spec?.containers[0]
      .resources;
    assert.deepEqual(alone, { requests: { cpu: "100m" } });
    const dflt = deployment(inputs({ cpu: "1" }), "h", "ns", IMAGE).spec?.template.spec?.containers[0].resources;
    assert.deepEqual(dflt, { limits: { cpu: "1" }, requests: { cpu: "1" } });
  });

  test("PodDisruptionBudget: minAvailable or maxUnavailable, labelled like the other objects, selecting the pods", () => {
    const i = inputs({ podDisruptionBudget: { minAvailable: 1 } }, { replicas: 2, stack: "dev", project: "p" });
    const pdb = disruptionBudget(i, "hello-abc123", "ns") as k8s.V1PodDisruptionBudget;
    assert.equal(pdb.apiVersion, "policy/v1");
    assert.equal(pdb.kind, "PodDisruptionBudget");
    assert.equal(pdb.metadata?.name, "hello-abc123");
    assert.equal(pdb.metadata?.namespace, "ns");
    assert.equal(pdb.metadata?.labels?.["pulumi-tesseract.stack"], "dev");
    assert.equal(pdb.metadata?.labels?.["pulumi-tesseract.managed"], "true");
    assert.deepEqual(pdb.spec, {
      selector: { matchLabels: { "pulumi-tesseract.service-id": "hello-abc123" } },
      minAvailable: 1,
    });
    const pct = disruptionBudget(inputs({ podDisruptionBudget: { maxUnavailable: "25%" } }), "h", "ns");
    assert.deepEqual(pct?.spec?.maxUnavailable, "25%");
    assert.equal(pct?.spec?.minAvailable, undefined);
  });

  test("podSpecPatch: deep merge, containers merged by name, a sidecar appended, null removes", () => {
    const i = inputs({
      podSpecPatch: {
        priorityClassName: "high",
        securityContext: { fsGroup: 1000 },
        automountServiceAccountToken: null,
        containers: [
          { name: CONTAINER_NAME, workingDir: "/work", securityContext: { readOnlyRootFilesystem: true } },
          { name: "sidecar", image: "busybox:1", args: ["sleep", "infinity"] },
        ],
      },
    });
    const spec = deployment(i, "h", "ns", IMAGE).spec?.template.spec as k8s.V1PodSpec;
    assert.equal(spec.priorityClassName, "high");
    assert.deepEqual(spec.securityContext, { fsGroup: 1000 });
    assert.equal("automountServiceAccountToken" in spec, false);
    assert.equal(spec.terminationGracePeriodSeconds, 15, "what the patch does not name stays");
    assert.equal(spec.containers.length, 2);
    const main = spec.containers[0];
    assert.equal(main.name, CONTAINER_NAME);
    assert.equal(main.image, IMAGE, "the image stays the provider's");
    assert.equal(main.workingDir, "/work");
    assert.deepEqual(main.securityContext, { readOnlyRootFilesystem: true });
    assert.ok(main.readinessProbe, "probes stay");
    assert.equal(spec.containers[1].name, "sidecar");
  });

  test("deepMerge leaves its arguments alone and replaces unnamed lists", () => {
    const base = { a: { b: 1, c: [1, 2] }, l: [{ name: "x", v: 1 }] };
    const copy = structuredClone(base);
    const out = deepMerge(base, { a: { c: [3] }, l: [{ name: "x", w: 2 }] });
    assert.deepEqual(base, copy);
    assert.deepEqual(out, { a: { b: 1, c: [3] }, l: [{ name: "x", v: 1, w: 2 }] });
  });
});

describe("refusals at check: field, value and fix", () => {
  test("tolerations", () => {
    refused(
      { tolerations: [{ key: "a", operator: "Is" }] },
      /kubernetes\.tolerations\[0\]\.operator: must be "Equal" \(default\) or "Exists" \(got "Is"\)/,
    );
    refused(
      { tolerations: [{ key: "a", operator: "Exists", value: "v" }] },
      /tolerations\[0\]: operator Exists takes no value \(got value "v"; fix: remove value/,
    );
    refused(
      { tolerations: [{ value: "v" }] },
      /tolerations\[0\]: a toleration without key must have operator "Exists".*fix:/,
    );
    refused(
      { tolerations: [{ key: "a", effect: "NoSchedule", tolerationSeconds: 5 }] },
      /tolerationSeconds applies to effect NoExecute only \(got effect "NoSchedule"; fix: set effect/,
    );
    refused(
      { tolerations: [{ key: "a", effect: "Never" }] },
      /tolerations\[0\]\.effect: must be "NoSchedule", "PreferNoSchedule" or "NoExecute".*\(got "Never"\)/,
    );
    refused(
      { tolerations: [{ key: "bad key!" }] },
      /tolerations\[0\]\.key: is not a valid taint key.*fix: e\.g\. "nvidia\.com\/gpu".*\(got "bad key!"\)/,
    );
    refused({ tolerations: [{ key: "a", toleration: 1 }] }, /tolerations\[0\].*toleration.*fix: remove it/);
  });

  test("affinity structure", () => {
    refused(
      { affinity: { nodeAfinity: {} } },
      /kubernetes\.affinity.*nodeAfinity.*fix: remove it, or correct its spelling/,
    );
    refused(
      {
        affinity: {
          nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] },
        },
      },
      /affinity\.nodeAffinity\.preferredDuringSchedulingIgnoredDuringExecution\[0\]\.weight: must be 1 to 100 \(got 0\)/,
    );
    refused(
      { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } },
      /nodeSelectorTerms: needs at least one term/,
    );
    refused(
      { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {} }] } } },
      /podAntiAffinity\.requiredDuringSchedulingIgnoredDuringExecution\[0\]\.topologyKey: .*fix: e\.g\. "kubernetes\.io\/hostname"/,
    );
    refused(
      {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 1, preference: { matchExpressions: [{ key: "a", operator: "Has" }] } },
            ],
          },
        },
      },
      /matchExpressions\[0\]\.operator: must be one of In, NotIn, Exists, DoesNotExist, Gt, Lt \(got "Has"\)/,
    );
  });

  test("annotation and label keys, label values", () => {
    refused(
      { podAnnotations: { "-bad": "x" } },
      /kubernetes\.podAnnotations.*is not a valid annotation key.*fix: e\.g\. "prometheus\.io\/scrape"/,
    );
    refused(
      { serviceAnnotations: { "Bad_Prefix/x": "y" } },
      /kubernetes\.serviceAnnotations.*is not a valid annotation key/,
    );
    refused(
      { podAnnotations: { a: 1 } },
      /kubernetes\.podAnnotations\.a: must be a string \(fix: quote it\) \(got 1\)/,
    );
    refused({ nodeSelector: { "a b": "x" } }, /kubernetes\.nodeSelector.*is not a valid label key/);
    refused(
      { nodeSelector: { a: "not ok" } },
      /kubernetes\.nodeSelector\.a: must be a Kubernetes label value.*\(got "not ok"\)/,
    );
    assert.ok(isQualifiedName("example.com/a.b-c_d"));
    assert.ok(!isQualifiedName("a/b/c"));
    assert.ok(!isQualifiedName(`${"a".repeat(64)}`));
  });

  test("requests: quantities, and at most the limits", () => {
    refused(
      { requests: { cpu: "half" } },
      /kubernetes\.requests\.cpu: must be a Kubernetes quantity \(fix: e\.g\. "250m" or "1"\) \(got "half"\)/,
    );
    refused(
      { requests: { memory: "1gb" } },
      /kubernetes\.requests\.memory: must be a Kubernetes quantity.*"256Mi".*\(got "1gb"\)/,
    );
    refused({ requests: { gpu: "1" } }, /kubernetes\.requests.*gpu.*fix: remove it/);
    refused(
      { cpu: "500m", requests: { cpu: "1" } },
      /kubernetes\.requests\.cpu: "1" is more than the limit kubernetes\.cpu = "500m" \(fix: request at most the limit\)/,
    );
    refused(
      { requests: { memory: "1Gi" } },
      /kubernetes\.requests\.memory: "1Gi" is more than the limit memory = "512m"/,
      { memory: "512m" },
    );
    refused({ requests: { cpu: "2" } }, /kubernetes\.requests\.cpu: "2" is more than the limit container\.cpus = 1 /, {
      container: { cpus: 1 },
    });
    assert.deepEqual(failures({ cpu: "1", requests: { cpu: "1000m", memory: "512Mi" } }, { memory: "512m" }), []);
  });

  test("podDisruptionBudget: exactly one, a count or a percentage", () => {
    refused(
      { podDisruptionBudget: {} },
      /kubernetes\.podDisruptionBudget: needs exactly one of minAvailable or maxUnavailable \(fix:/,
    );
    refused(
      { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } },
      /needs exactly one of minAvailable or maxUnavailable/,
    );
    refused(
      { podDisruptionBudget: { minAvailable: "half" } },
      /podDisruptionBudget\.minAvailable: must be a number of pods or a percentage \(fix: e\.g\. 1 or "50%"\)/,
    );
    refused(
      { podDisruptionBudget: { maxUnavailable: -1 } },
      /podDisruptionBudget\.maxUnavailable: must be 0 or more \(got -1\)/,
    );
    refused(
      { podDisruptionBudget: { maxUnavailable: "150%" } },
      /podDisruptionBudget\.maxUnavailable: "150%" is more than 100%/,
    );
    refused(
      { podDisruptionBudget: { minAvailable: 3 } },
      /minAvailable: 3 is more than replicas = 2: .*fix: at most 1/,
      { replicas: 2 },
    );
  });

  test("podSpecPatch: what has its own input or is the provider's is refused", () => {
    refused(
      { podSpecPatch: { nodeSelector: {} } },
      /kubernetes\.podSpecPatch\.nodeSelector: not patchable \(fix: use kubernetes\.nodeSelector\)/,
    );
    refused(
      { podSpecPatch: { tolerations: [] } },
      /podSpecPatch\.tolerations: not patchable \(fix: use kubernetes\.tolerations\)/,
    );
    refused(
      { podSpecPatch: { hostAliases: [] } },
      /podSpecPatch\.hostAliases: not patchable \(fix: use container\.extraHosts\)/,
    );
    for (const key of ["image", "ports", "startupProbe", "readinessProbe", "livenessProbe", "args", "command"]) {
      refused(
        { podSpecPatch: { containers: [{ name: CONTAINER_NAME, [key]: "x" }] } },
        new RegExp(`podSpecPatch\\.containers\\[0\\]\\.${key}: managed by the provider \\(fix: remove it`),
      );
    }
    refused(
      { podSpecPatch: { containers: { name: "x" } } },
      /podSpecPatch\.containers: must be a list of containers merged by name/,
    );
    refused({ podSpecPatch: { containers: [{ image: "busybox" }] } }, /podSpecPatch\.containers\[0\]: needs a name/);
    assert.deepEqual(failures({ podSpecPatch: { containers: [{ name: "sidecar", image: "busybox:1" }] } }), []);
  });
});

describe("drift as refresh sees it", () => {
  const k = {
    nodeSelector: { "kubernetes.io/hostname": "node-1" },
    tolerations: [{ key: "dedicated", value: "ml", effect: "NoSchedule" }],
    affinity: AFFINITY,
    podAnnotations: { team: "imaging" },
    serviceAnnotations: { owner: "platform" },
    requests: { cpu: "0.5" },
    podDisruptionBudget: { minAvailable: 1 },
  };
  const i = inputs(k, { replicas: 2, memory: "512m" });
  const served = {
    serviceId: "hello-abc123",
    namespace: "ns",
    image: IMAGE,
    observed: { exists: true },
  } as KubernetesServed;

  /** The objects as the API server hands them back: quantities rewritten, defaults filled, tool annotations. */
  function fromApi() {
    const d = JSON.parse(JSON.stringify(deployment(i, served.serviceId, "ns", IMAGE))) as k8s.V1Deployment;
    const c = d.spec?.template.spec?.containers[0] as k8s.V1Container;
    c.resources = { limits: { memory: "512Mi" }, requests: { memory: "512Mi", cpu: "500m" } };
    (d.spec?.template.metadata?.annotations as Record<string, string>)["kubectl.kubernetes.io/restartedAt"] = "now";
    const svc = JSON.parse(JSON.stringify(service(i, served.serviceId, "ns"))) as k8s.V1Service;
    const pdb = JSON.parse(JSON.stringify(disruptionBudget(i, served.serviceId, "ns"))) as k8s.V1PodDisruptionBudget;
    return { d, svc, pdb };
  }
  const observe = (o: ReturnType<typeof fromApi>, withBudget = true) => ({
    ...served,
    observed: {
      exists: true,
      scheduling: observeScheduling(o.d, o.svc, withBudget ? o.pdb : undefined, CONTAINER_NAME),
    },
  });

  test("what the API server rewrites is not drift", () => {
    assert.deepEqual(schedulingDriftOf(observe(fromApi()), i), []);
  });

  test("each setting changed by hand is named", () => {
    const cases: [string, (o: ReturnType<typeof fromApi>) => void][] = [
      ["nodeSelector", (o) => Object.assign(o.d.spec?.template.spec?.nodeSelector ?? {}, { extra: "x" })],
      ["tolerations", (o) => o.d.spec?.template.spec?.tolerations?.pop()],
      ["affinity", (o) => delete o.d.spec?.template.spec?.affinity?.podAntiAffinity],
      ["podAnnotations", (o) => Object.assign(o.d.spec?.template.metadata?.annotations ?? {}, { team: "other" })],
      ["serviceAnnotations", (o) => delete o.svc.metadata?.annotations?.owner],
      [
        "requests",
        (o) => Object.assign(o.d.spec?.template.spec?.containers[0].resources?.requests ?? {}, { cpu: "1" }),
      ],
      ["podDisruptionBudget", (o) => Object.assign(o.pdb.spec ?? {}, { minAvailable: 0 })],
    ];
    for (const [field, edit] of cases) {
      const o = fromApi();
      edit(o);
      assert.deepEqual(schedulingDriftOf(observe(o), i), [field], field);
    }
    assert.deepEqual(schedulingDriftOf(observe(fromApi(), false), i), ["podDisruptionBudget"], "deleted by hand");
  });

  test("states from before these were read back show no drift; the expected view is stable", () => {
    assert.deepEqual(schedulingDriftOf(served, i), []);
    const a = expectedScheduling(i, served);
    assert.deepEqual(schedulingDrift(a, expectedScheduling(i, served)), []);
    assert.deepEqual(canonical({ a: [], b: {}, c: null, d: undefined, e: 0 }), { e: 0 });
  });

  test("quantities compare by value", () => {
    assert.equal(quantityValue("300m"), quantityValue("0.3"));
    assert.equal(quantityValue("1Gi"), 1024 ** 3);
    assert.equal(quantityValue("1G"), 1e9);
    assert.equal(quantityValue("1e3"), 1000);
    assert.equal(quantityValue("1.5"), 1.5);
    assert.equal(quantityValue("1gb"), undefined);
  });
});

describe("pull refused for credentials on a new pod", () => {
  const pod = (ageSeconds: number, message: string): k8s.V1Pod => ({
    metadata: { name: "p", creationTimestamp: new Date(Date.now() - ageSeconds * 1000) },
    status: {
      containerStatuses: [{ state: { waiting: { reason: "ImagePullBackOff", message } } } as k8s.V1ContainerStatus],
    },
  });
  const unauthorized =
    'failed to pull "x": pulling from host r failed with status code [manifests sha256:a]: 401 Unauthorized';

  test("is waited for while the kubelet's secret cache may lag; hopeless after the grace or for other causes", () => {
    assert.equal(hopelessPod([pod(5, unauthorized)]), undefined);
    assert.match(hopelessPod([pod(PULL_AUTH_GRACE_SECONDS + 5, unauthorized)]) ?? "", /ImagePullBackOff: .*401/);
    assert.match(hopelessPod([pod(5, "manifest unknown: not found")]) ?? "", /ImagePullBackOff/);
  });

  test("a timestamp still in its JSON form (not through the client's deserializer) counts the same", () => {
    const raw = (p: k8s.V1Pod): k8s.V1Pod => JSON.parse(JSON.stringify(p));
    assert.equal(typeof raw(pod(5, unauthorized)).metadata?.creationTimestamp, "string");
    assert.equal(hopelessPod([raw(pod(5, unauthorized))]), undefined);
    assert.match(hopelessPod([raw(pod(PULL_AUTH_GRACE_SECONDS + 5, unauthorized))]) ?? "", /ImagePullBackOff: .*401/);
  });
});
