/**
 * The test registries and the test Kubernetes cluster (scripts/kubernetes.sh): started by the test
 * file that needs them (idempotently; the Kubernetes build is cached by version), and stopped again
 * by the same file when it was the one that started them, so nothing is left on the host.
 * A failed start fails the file (never a silent skip).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "../..");
const SCRIPT = path.join(REPO_ROOT, "scripts/kubernetes.sh");

export interface TestInfra {
  /** `127.0.0.1:PORT` of the TLS + htpasswd registry. */
  registryTls: string;
  /** `127.0.0.1:PORT` of the plain-HTTP registry without auth. */
  registryHttp: string;
  /** `127.0.0.1:PORT` of the read-only registry (refuses pushes). */
  registryReadonly: string;
  /** PEM file of the registry's test CA. */
  registryCa: string;
  registryUser: string;
  registryPassword: string;
  /** Admin kubeconfig of the test cluster (credentials embedded). */
  kubeconfig: string;
  /** `https://127.0.0.1:PORT` of the test cluster's API server. */
  apiServer: string;
  /** The cluster's kubectl. */
  kubectl: string;
}

function script(args: string[], timeoutMs: number): string {
  return execFileSync("bash", [SCRIPT, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: timeoutMs,
  });
}

/** Addresses and credentials (scripts/kubernetes.sh env). */
export function infraEnv(): TestInfra {
  const env: Record<string, string> = {};
  for (const line of script(["env"], 30_000).split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    registryTls: env.PULUMI_TESSERACT_REGISTRY_TLS,
    registryHttp: env.PULUMI_TESSERACT_REGISTRY_HTTP,
    registryReadonly: env.PULUMI_TESSERACT_REGISTRY_READONLY,
    registryCa: env.PULUMI_TESSERACT_REGISTRY_CA,
    registryUser: env.PULUMI_TESSERACT_REGISTRY_USER,
    registryPassword: env.PULUMI_TESSERACT_REGISTRY_PASSWORD,
    kubeconfig: env.PULUMI_TESSERACT_KUBECONFIG,
    apiServer: env.PULUMI_TESSERACT_K8S_API,
    kubectl: env.PULUMI_TESSERACT_KUBECTL,
  };
}

function status(): { registry: boolean; cluster: boolean } {
  const out = script(["status"], 60_000);
  return { registry: /registry up/.test(out), cluster: /cluster up/.test(out) };
}

/**
 * Starts what a test file needs ("registry", or "cluster" = registries + cluster) and returns a
 * `stop` for its `after()` that stops only what this call started.
 */
export function startTestInfra(what: "registry" | "cluster"): { env: TestInfra; stop: () => void } {
  const before = status();
  const needsCluster = what === "cluster";
  if (!before.registry || (needsCluster && !before.cluster)) {
    // Cold, the cluster needs the Kubernetes build (cached by version; scripts/setup.sh makes it).
    script([needsCluster ? "up" : "registry-up"], 3_600_000);
  }
  const env = infraEnv();
  const stop = () => {
    if (needsCluster && !before.cluster) script(["cluster-down"], 300_000);
    if (!before.registry) script(["registry-down"], 60_000);
  };
  return { env, stop };
}

/** kubectl against the test cluster (for assertions and out-of-band changes). */
export function kubectl(env: TestInfra, args: string[], timeoutMs = 60_000): string {
  return execFileSync(env.kubectl, ["--kubeconfig", env.kubeconfig, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
  });
}
