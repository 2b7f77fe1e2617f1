/**
 * `kubernetes.autoscaling` (a HorizontalPodAutoscaler): the object it produces, each refusal at
 * check (naming the field, the value and the fix), the Deployment's replica count under it, and
 * the drift comparison `refresh` relies on (the replica count is the autoscaler's, not drift).
 * Pure functions; the real cluster is in test/e2e/kubernetes-autoscaling.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type * as k8s from "@kubernetes/client-node";
import { validateInputs } from "../../provider/serve/args";
import { initialReplicas } from "../../provider/serve/kubernetes/autoscaling-inputs";
import { drifted, type KubernetesServed, schedulingDriftOf } from "../../provider/serve/kubernetes/deployment";
import { kubernetesServeTarget } from "../../provider/serve/kubernetes/kubernetes-target";
import {
  autoscaler,
  CONTAINER_NAME,
  deployment,
  disruptionBudget,
  type KubernetesServiceInputs,
  service,
} from "../../provider/serve/kubernetes/manifests";
import { observeScheduling } from "../../provider/serve/kubernetes/scheduling";
import type { StoredKubernetesState } from "../../provider/serve/kubernetes/state";

const IMAGE = `127.0.0.1:5000/t/hello@sha256:${"a".repeat(64)}`;

function validate(kubernetes: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return validateInputs({ image: IMAGE, serviceName: "hello", kubernetes, ...extra }, new Set(), "/tmp");
}

function inputs(kubernetes: Record<string, unknown>, extra: Record<string, unknown> = {}): KubernetesServiceInputs {
  const { inputs, failures } = validate(kubernetes, extra);
  assert.deepEqual(failures, []);
  return inputs as KubernetesServiceInputs;
}

function failures(kubernetes: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  return validate(kubernetes, extra).failures.map((f) => `${f.property}: ${f.reason}`);
}

function refused(kubernetes: Record<string, unknown>, pattern: RegExp, extra: Record<string, unknown> = {}): void {
  const f = failures(kubernetes, extra);
  assert.ok(
    f.some((x) => pattern.test(x)),
    `expected a failure matching ${pattern}, got ${JSON.stringify(f)}`,
  );
}

const CPU = { requests: { cpu: "100m" }, autoscaling: { minReplicas: 1, maxReplicas: 4, cpuUtilization: 70 } };

describe("the HorizontalPodAutoscaler of kubernetes.autoscaling", () => {
  test("CPU utilization: autoscaling/v2, named and labelled like the Deployment, scaling it", () => {
    const i = inputs(CPU, { stack: "dev", project: "p" });
    const hpa = autoscaler(i, "hello-abc123", "ns") as k8s.V2HorizontalPodAutoscaler;
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.equal(hpa.kind, "HorizontalPodAutoscaler");
    assert.equal(hpa.metadata?.name, "hello-abc123");
    assert.equal(hpa.metadata?.namespace, "ns");
    assert.deepEqual(hpa.metadata?.labels, deployment(i, "hello-abc123", "ns", IMAGE).metadata?.labels);
    assert.equal(hpa.metadata?.labels?.["pulumi-tesseract.stack"], "dev");
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "hello-abc123" },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
      ],
    });
  });

  test("custom metrics (Pods, Object, External) and the windows of behavior", () => {
    const i = inputs({
      autoscaling: {
        maxReplicas: 5,
        metrics: [
          { type: "Pods", name: "inflight", averageValue: "4" },
          { type: "Object", name: "rps", object: { kind: "Service", name: "front" }, value: "100" },
          { type: "External", name: "queue_depth", selector: { queue: "jobs" }, averageValue: "30" },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    });
    const spec = autoscaler(i, "h", "ns")?.spec;
    assert.equal(spec?.minReplicas, 1, "minReplicas defaults to 1");
    assert.deepEqual(spec?.metrics, [
      { type: "Pods", pods: { metric: { name: "inflight" }, target: { type: "AverageValue", averageValue: "4" } } },
      {
        type: "Object",
        object: {
          metric: { name: "rps" },
          describedObject: { apiVersion: "v1", kind: "Service", name: "front" },
          target: { type: "Value", value: "100" },
        },
      },
      {
        type: "External",
        external: {
          metric: { name: "queue_depth", selector: { matchLabels: { queue: "jobs" } } },
          target: { type: "AverageValue", averageValue: "30" },
        },
      },
    ]);
    // Both sides sent (the API server fills the other one in otherwise), Kubernetes' defaults kept.
    assert.deepEqual(spec?.behavior, {
      scaleUp: { stabilizationWindowSeconds: 0 },
      scaleDown: { stabilizationWindowSeconds: 60 },
    });
  });

  test("none without the input", () => {
    assert.equal(autoscaler(inputs({}), "h", "ns"), undefined);
  });

  test("replicas is the initial count: given, inside the bounds; omitted, the lower bound", () => {
    const given = inputs(CPU, { replicas: 3 });
    assert.equal(deployment(given, "h", "ns", IMAGE).spec?.replicas, 3);
    const omitted = inputs({ ...CPU, autoscaling: { ...CPU.autoscaling, minReplicas: 2 } });
    assert.equal(deployment(omitted, "h", "ns", IMAGE).spec?.replicas, 2);
    assert.equal(initialReplicas(7, { maxReplicas: 4 }), 4);
    assert.equal(initialReplicas(7, undefined), 7);
  });
});

describe("refused at check, naming the field and the fix", () => {
  test("bounds", () => {
    refused(
      { autoscaling: { minReplicas: 5, maxReplicas: 2, metrics: [{ type: "Pods", name: "x", averageValue: "1" }] } },
      /kubernetes\.autoscaling\.minReplicas: 5 is more than maxReplicas = 2 \(fix:/,
    );
    refused(
      { requests: { cpu: "1" }, autoscaling: { maxReplicas: 0, cpuUtilization: 50 } },
      /maxReplicas: must be at least 1/,
    );
    refused({ requests: { cpu: "1" }, autoscaling: { cpuUtilization: 50 } }, /kubernetes\.autoscaling\.maxReplicas/);
    refused(
      { requests: { cpu: "1" }, autoscaling: { maxReplicas: 2.5, cpuUtilization: 50 } },
      /must be a whole number/,
    );
  });

  test("something to scale on", () => {
    refused(
      { autoscaling: { maxReplicas: 3 } },
      /kubernetes\.autoscaling: needs something to scale on: cpuUtilization or metrics \(fix:/,
    );
    refused({ autoscaling: { maxReplicas: 3, metrics: [] } }, /needs something to scale on/);
  });

  test("cpuUtilization needs a CPU request, and a percentage", () => {
    refused(
      { autoscaling: { maxReplicas: 3, cpuUtilization: 70 } },
      /kubernetes\.autoscaling\.cpuUtilization: 70% is a share of each pod's CPU request, and the pods request no CPU \(fix: set kubernetes\.requests\.cpu/,
    );
    assert.deepEqual(failures({ cpu: "1", autoscaling: { maxReplicas: 3, cpuUtilization: 70 } }), []);
    assert.deepEqual(failures({ autoscaling: { maxReplicas: 3, cpuUtilization: 70 } }, { container: { cpus: 1 } }), []);
    refused(
      { cpu: "1", autoscaling: { maxReplicas: 3, cpuUtilization: 0 } },
      /cpuUtilization: must be 1 to 1000 percent/,
    );
  });

  test("replicas outside the bounds", () => {
    refused(
      CPU,
      /replicas: 5 is outside kubernetes\.autoscaling's 1–4; with an autoscaler it is only the initial count \(fix:/,
      {
        replicas: 5,
      },
    );
    refused({ ...CPU, autoscaling: { ...CPU.autoscaling, minReplicas: 2 } }, /replicas: 1 is outside/, { replicas: 1 });
    assert.deepEqual(failures({ ...CPU, autoscaling: { ...CPU.autoscaling, minReplicas: 2 } }), [], "omitted: fine");
  });

  test("metrics: targets by type, the described object, quantities", () => {
    const a = (m: Record<string, unknown>) => ({ autoscaling: { maxReplicas: 3, metrics: [m] } });
    refused(
      a({ type: "Pods", name: "x", value: "1" }),
      /metrics\[0\]\.value: a Pods metric is averaged over the pods \(fix: use averageValue/,
    );
    refused(a({ type: "Pods", name: "x" }), /metrics\[0\]: a Pods metric needs a target averageValue/);
    refused(
      a({ type: "External", name: "x", value: "1", averageValue: "1" }),
      /an External metric needs exactly one target/,
    );
    refused(
      a({ type: "Object", name: "x", value: "1" }),
      /metrics\[0\]\.object: an Object metric describes one object \(fix:/,
    );
    refused(
      a({ type: "External", name: "x", value: "1", object: { kind: "Service", name: "s" } }),
      /only Object metrics/,
    );
    refused(
      a({ type: "Resource", name: "cpu", averageValue: "1" }),
      /metrics\[0\]\.type: must be "Pods", "Object" or "External" \(CPU: use autoscaling\.cpuUtilization\)/,
    );
    refused(a({ type: "Pods", name: "x", averageValue: "lots" }), /averageValue: must be a Kubernetes quantity \(fix:/);
    refused(a({ type: "Pods", name: "x", averageValue: "0" }), /averageValue: must be more than 0/);
    refused(a({ type: "Pods", name: "", averageValue: "1" }), /metrics\[0\]\.name: must name the metric/);
    refused(
      {
        autoscaling: {
          maxReplicas: 3,
          metrics: [{ type: "Pods", name: "x", averageValue: "1" }],
          behavior: { scaleUp: { stabilizationWindowSeconds: 4000 } },
        },
      },
      /stabilizationWindowSeconds: must be 0 to 3600 seconds/,
    );
    refused({ autoscaling: { maxReplicas: 3, cpuUtilisation: 70 } }, /autoscaling/);
  });
});

describe("refresh and diff under an autoscaler", () => {
  const i = inputs(
    { ...CPU, autoscaling: { ...CPU.autoscaling, behavior: { scaleUp: { stabilizationWindowSeconds: 30 } } } },
    {
      replicas: 2,
    },
  );
  const served = {
    serviceId: "hello-abc123",
    namespace: "ns",
    image: IMAGE,
    observed: { exists: true },
  } as KubernetesServed;

  /** The objects as the API server hands them back: quantities rewritten, the behavior's defaults filled in. */
  function fromApi() {
    const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
    const d = clone(deployment(i, served.serviceId, "ns", IMAGE));
    const svc = clone(service(i, served.serviceId, "ns"));
    const hpa = clone(autoscaler(i, served.serviceId, "ns")) as k8s.V2HorizontalPodAutoscaler;
    const spec = hpa.spec as k8s.V2HorizontalPodAutoscalerSpec;
    spec.behavior = {
      scaleUp: {
        stabilizationWindowSeconds: 30,
        selectPolicy: "Max",
        policies: [{ type: "Pods", value: 4, periodSeconds: 15 }],
      },
      scaleDown: {
        stabilizationWindowSeconds: 300,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
      },
    };
    return { d, svc, hpa };
  }
  type Found = Omit<ReturnType<typeof fromApi>, "hpa"> & { hpa?: k8s.V2HorizontalPodAutoscaler };
  const observe = (o: Found, replicas = 2) => ({
    ...served,
    observed: {
      exists: true,
      replicas,
      image: IMAGE,
      scheduling: observeScheduling(o.d, o.svc, disruptionBudget(i, served.serviceId, "ns"), CONTAINER_NAME, o.hpa),
    },
  });

  test("what the API server fills in is not drift; a count the autoscaler set is not drift", () => {
    assert.deepEqual(schedulingDriftOf(observe(fromApi()), i), []);
    assert.equal(drifted(observe(fromApi(), 4), i), false, "scaled to 4 by the autoscaler");
    const fixed = inputs({}, { replicas: 2 });
    assert.equal(drifted({ ...served, observed: { exists: true, replicas: 4 } }, fixed), true, "without one it is");
  });

  test("an autoscaler deleted or edited by hand is named", () => {
    assert.deepEqual(schedulingDriftOf(observe({ ...fromApi(), hpa: undefined }), i), ["autoscaling"]);
    const o = fromApi();
    (o.hpa.spec as k8s.V2HorizontalPodAutoscalerSpec).maxReplicas = 10;
    assert.deepEqual(schedulingDriftOf(observe(o), i), ["autoscaling"]);
    const w = fromApi();
    (w.hpa.spec?.behavior?.scaleDown as k8s.V2HPAScalingRules).stabilizationWindowSeconds = 10;
    assert.deepEqual(schedulingDriftOf(observe(w), i), ["autoscaling"]);
    assert.equal(drifted(observe({ ...fromApi(), hpa: undefined }), i), true);
  });

  test("one left behind after the input was dropped is drift too", () => {
    const without = inputs({ requests: { cpu: "100m" } }, { replicas: 2 });
    assert.deepEqual(schedulingDriftOf(observe(fromApi()), without), ["autoscaling"]);
  });

  test("diff: a new replicas under an autoscaler changes nothing; other changes still do", async () => {
    const state = {
      ...i,
      serviceId: served.serviceId,
      engine: "https://127.0.0.1:6443",
      url: "",
      urls: [],
      namespace: "ns",
      deployment: served.serviceId,
      service: served.serviceId,
      served: observe(fromApi(), 3),
    } as StoredKubernetesState;
    const same = await kubernetesServeTarget.diff(state, { ...i, replicas: 3 } as unknown as Record<string, unknown>);
    assert.equal(same.changes, false);
    const bounds = { ...i, kubernetes: { ...i.kubernetes, autoscaling: { ...CPU.autoscaling, maxReplicas: 6 } } };
    assert.equal((await kubernetesServeTarget.diff(state, bounds as unknown as Record<string, unknown>)).changes, true);
    const dropped = { ...i, kubernetes: { ...i.kubernetes, autoscaling: undefined } };
    assert.equal(
      (await kubernetesServeTarget.diff(state, dropped as unknown as Record<string, unknown>)).changes,
      true,
    );
  });
});
