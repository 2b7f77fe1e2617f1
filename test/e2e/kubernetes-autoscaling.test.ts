/**
 * `kubernetes.autoscaling` on the real test cluster (scripts/kubernetes.sh: v1.34.4, its own
 * kube-controller-manager, no metrics server) through the real Pulumi engine: the
 * HorizontalPodAutoscaler exists with the spec asked, the controller-manager's HPA controller acts
 * on it (no metrics server: `ScalingActive=False`, `FailedGetResourceMetric`), a replica count the
 * autoscaler could have set is neither drift nor reset by an update, an autoscaler deleted out of
 * band shows as drift and `up` restores it, dropping the input removes it, destroy leaves nothing.
 * Run `npx tsc -p tsconfig.json` first: the provider shim loads lib/.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { pushImage } from "../../provider/build/push";
import { Progress } from "../../provider/common/log";
import { DockerClient } from "../../provider/docker";
import { type BuiltTesseractImage, removeTesseractImage } from "../../provider/resources/tesseract-image-impl";
import { type KubernetesAutoscalingInput, TesseractService } from "../../provider/resources/tesseract-service";
import { kubectl, startTestInfra, type TestInfra } from "../helpers/kubernetes";
import { testWorkspace } from "../helpers/stack";
import { buildHelloCopy } from "../helpers/tesseract-image";

process.env.PULUMI_TESSERACT_QUIET = "1";
const ROOT = join(__dirname, "..", "..");
const run = `k8s-hpa-${process.pid}`;
const namespace = `pt-hpa-${process.pid}`;
const repo = `pt-test/hello-hpa-${process.pid}`;
const docker = DockerClient.for();
const dir = mkdtempSync(join(tmpdir(), "pt-k8s-hpa-"));
let infra: { env: TestInfra; stop: () => void } | undefined;
let env: TestInfra;
let built: BuiltTesseractImage | undefined;
let image = "";
let s: Stack | undefined;

/** What the stack's program declares (changed between `up`s). */
let autoscaling: KubernetesAutoscalingInput | undefined;

function leftovers(stackName: string): string {
  return kubectl(env, [
    "-n",
    namespace,
    "get",
    "deployments,replicasets,pods,services,secrets,horizontalpodautoscalers",
    "-l",
    `pulumi-tesseract.stack=${stackName}`,
    "-o",
    "name",
  ]).trim();
}

/** The object as JSON, undefined when it does not exist. */
function getJson(kind: string, name: string) {
  const out = kubectl(env, ["-n", namespace, "get", kind, name, "--ignore-not-found", "-o", "json"]).trim();
  return out ? JSON.parse(out) : undefined;
}

async function served(stack: Stack): Promise<{ served: { observed: { drift?: string[]; replicas?: number } } }> {
  const state = (await stack.exportStack()).deployment as {
    resources?: { type: string; outputs?: Record<string, unknown> }[];
  };
  return state.resources?.find((r) => r.type.endsWith(":TesseractService"))?.outputs as never;
}

before(async () => {
  execFileSync("npx", ["tsc", "-p", "tsconfig.json"], { cwd: ROOT, stdio: "ignore" });
  infra = startTestInfra("cluster");
  env = infra.env;
  kubectl(env, ["create", "namespace", namespace]);
  built = await buildHelloCopy(join(dir, "hello"), `hpa-${process.pid}`, run);
  const pushed = await pushImage(
    docker,
    built.imageId,
    { registry: env.registryTls, repository: repo, username: env.registryUser, password: env.registryPassword },
    "1",
    new Progress("test", []),
  );
  image = pushed.repoDigest;
});

after(async () => {
  if (s) {
    await s.destroy().catch(() => undefined);
    await s.workspace.removeStack(s.name).catch(() => undefined);
  }
  if (env) kubectl(env, ["delete", "namespace", namespace, "--wait=true", "--timeout=120s"], 150_000);
  if (built) await removeTesseractImage(built).catch(() => undefined);
  for (const img of await docker.listImages()) {
    for (const t of img.RepoTags ?? []) if (t.includes(`/${repo}:`)) await docker.removeImage(t).catch(() => false);
  }
  for (const img of await docker.listImages({ label: [`pulumi-tesseract.test=${run}`] }))
    await docker.removeImage(img.Id, { force: true }).catch(() => false);
  rmSync(dir, { recursive: true, force: true });
  await docker.close();
  infra?.stop();
});

describe("a HorizontalPodAutoscaler for a TesseractService on Kubernetes", { concurrency: false }, () => {
  let name = "";

  test("is created with the spec asked, labelled like the service, and the HPA controller acts on it", {
    timeout: 300_000,
  }, async () => {
    autoscaling = {
      minReplicas: 1,
      maxReplicas: 3,
      cpuUtilization: 50,
      behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
    };
    s = await LocalWorkspace.createOrSelectStack(
      {
        stackName: `${run}-hpa`,
        projectName: "pt-k8s-hpa",
        program: async () => {
          const svc = new TesseractService("hpa", {
            image,
            replicas: 1,
            memory: "512m",
            labels: { "pulumi-tesseract.test": run },
            kubernetes: {
              kubeconfig: pulumi.secret(readFileSync(env.kubeconfig, "utf8")),
              namespace,
              imagePullSecret: {
                registry: env.registryTls,
                username: env.registryUser,
                password: env.registryPassword,
              },
              requests: { cpu: "50m" },
              autoscaling,
            },
          });
          return { deployment: svc.deployment };
        },
      },
      testWorkspace("pt-k8s-hpa"),
    );
    const lines: string[] = [];
    const up = await s.up({ onOutput: (l) => lines.push(l) });
    name = up.outputs.deployment.value as string;
    assert.match(
      lines.join(""),
      /HorizontalPodAutoscaler hpa-[0-9a-f]{6}: 1–3 replicas on cpu 50%/,
      "progress shows it",
    );
    const hpa = getJson("horizontalpodautoscaler", name);
    assert.ok(hpa, "the autoscaler exists");
    assert.equal(hpa.apiVersion, "autoscaling/v2");
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name });
    assert.equal(hpa.spec.minReplicas, 1);
    assert.equal(hpa.spec.maxReplicas, 3);
    assert.deepEqual(hpa.spec.metrics, [
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
    ]);
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 60);
    assert.equal(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds, 0);
    assert.equal(hpa.metadata.labels["pulumi-tesseract.stack"], s.name);
    assert.equal(hpa.metadata.labels["pulumi-tesseract.service-id"], name);

    // The controller-manager's HPA controller (every 15 s) tries the CPU metric: without a metrics
    // server it cannot get it, and says so in the conditions.
    let active: { status: string; reason: string } | undefined;
    for (let i = 0; i < 60 && !active; i++) {
      const conditions = (getJson("horizontalpodautoscaler", name)?.status?.conditions ?? []) as {
        type: string;
        status: string;
        reason: string;
      }[];
      active = conditions.find((c) => c.type === "ScalingActive");
      if (!active) await new Promise((r) => setTimeout(r, 1_000));
    }
    assert.ok(active, "the HPA controller reported ScalingActive");
    assert.equal(active.status, "False");
    assert.equal(active.reason, "FailedGetResourceMetric");
  });

  test("a count the autoscaler could set is not drift, and an update keeps it", { timeout: 300_000 }, async () => {
    assert.ok(s);
    kubectl(env, ["-n", namespace, "scale", `deployment/${name}`, "--replicas=2"]);
    kubectl(env, ["-n", namespace, "rollout", "status", `deployment/${name}`, "--timeout=120s"], 150_000);
    await s.refresh();
    assert.equal((await served(s)).served.observed.replicas, 2);
    const preview = await s.preview();
    assert.equal(preview.changeSummary.update ?? 0, 0, "2 replicas under an autoscaler: no drift");

    autoscaling = { ...(autoscaling as KubernetesAutoscalingInput), maxReplicas: 4 };
    const up = await s.up();
    assert.equal(up.summary.resourceChanges?.update, 1);
    assert.equal(getJson("horizontalpodautoscaler", name)?.spec.maxReplicas, 4, "the autoscaler is updated");
    assert.equal(getJson("deployment", name)?.spec.replicas, 2, "the update left the count alone");
  });

  test("deleted out of band: drift on refresh, up restores it", { timeout: 300_000 }, async () => {
    assert.ok(s);
    kubectl(env, ["-n", namespace, "delete", "horizontalpodautoscaler", name]);
    await s.refresh();
    assert.deepEqual((await served(s)).served.observed.drift, ["autoscaling"]);
    const preview = await s.preview();
    assert.equal(preview.changeSummary.update, 1, "drift shows as an update");
    await s.up();
    assert.equal(getJson("horizontalpodautoscaler", name)?.spec.maxReplicas, 4, "restored");
    const again = await s.preview();
    assert.equal(again.changeSummary.update ?? 0, 0, "no drift left after up");
  });

  test("dropping autoscaling removes it and fixes replicas again; destroy leaves nothing", {
    timeout: 300_000,
  }, async () => {
    assert.ok(s);
    autoscaling = undefined;
    await s.up();
    assert.equal(getJson("horizontalpodautoscaler", name), undefined, "the autoscaler is gone");
    assert.equal(getJson("deployment", name)?.spec.replicas, 1, "back to the declared replicas");
    await s.destroy();
    assert.equal(leftovers(s.name), "", "nothing of the stack is left, the autoscaler included");
  });
});
