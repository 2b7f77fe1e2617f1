// How to reach a Kubernetes cluster, through the official client (@kubernetes/client-node).
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { UserError } from "../../common/errors";
import { isKubeconfigContent, type KubernetesTarget } from "./inputs";

export type { KubernetesTarget };

/** The connection as resolved: a loaded KubeConfig set to the chosen context, and the namespace. */
export interface KubernetesConnection {
  config: k8s.KubeConfig;
  context: string;
  namespace: string;
  /** API server URL of the context's cluster (for messages). */
  server: string;
}

/**
 * Loads the kubeconfig and selects the context. An unknown context or a missing file is a
 * UserError naming the input, the value and what exists instead.
 */
export function connect(target: KubernetesTarget, cwd = process.cwd()): KubernetesConnection {
  const config = new k8s.KubeConfig();
  const source = target.kubeconfig;
  try {
    if (source === undefined) config.loadFromDefault();
    else if (isKubeconfigContent(source)) config.loadFromString(source);
    else {
      const file = path.resolve(cwd, source);
      if (!existsSync(file))
        throw new UserError(
          `kubernetes.kubeconfig: the file ${file} does not exist (fix: give a kubeconfig path or its content)`,
          { property: "kubernetes.kubeconfig" },
        );
      config.loadFromString(readFileSync(file, "utf8"));
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `kubernetes.kubeconfig: cannot read the kubeconfig (${(err as Error).message}) (fix: give a valid kubeconfig path or YAML content)`,
      { property: "kubernetes.kubeconfig" },
    );
  }
  const names = config.getContexts().map((c) => c.name);
  if (target.context !== undefined) {
    if (!names.includes(target.context)) {
      throw new UserError(
        `kubernetes.context: the kubeconfig has no context ${JSON.stringify(target.context)} ` +
          `(it has: ${names.length ? names.join(", ") : "none"}; fix: pick one of those or omit context)`,
        { property: "kubernetes.context" },
      );
    }
    config.setCurrentContext(target.context);
  }
  const context = config.getCurrentContext();
  const cluster = config.getCurrentCluster();
  if (!cluster) {
    throw new UserError(
      `kubernetes.kubeconfig: the context ${JSON.stringify(context)} names no cluster (fix: check the kubeconfig)`,
      { property: "kubernetes.kubeconfig" },
    );
  }
  const ctxNamespace = config.getContextObject(context)?.namespace;
  return { config, context, namespace: target.namespace ?? ctxNamespace ?? "default", server: cluster.server };
}

/** The API groups the serve target uses, all bound to one connection. */
export interface KubernetesApis {
  conn: KubernetesConnection;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  /** EndpointSlices: which pods a Service routes to. */
  discovery: k8s.DiscoveryV1Api;
  /** PodDisruptionBudgets. */
  policy: k8s.PolicyV1Api;
  /** HorizontalPodAutoscalers (autoscaling/v2). */
  autoscaling: k8s.AutoscalingV2Api;
}

export function apisFor(conn: KubernetesConnection): KubernetesApis {
  return {
    conn,
    core: conn.config.makeApiClient(k8s.CoreV1Api),
    apps: conn.config.makeApiClient(k8s.AppsV1Api),
    discovery: conn.config.makeApiClient(k8s.DiscoveryV1Api),
    policy: conn.config.makeApiClient(k8s.PolicyV1Api),
    autoscaling: conn.config.makeApiClient(k8s.AutoscalingV2Api),
  };
}

/**
 * Ready pods a Service routes to, from its EndpointSlices (terminating endpoints excluded), sorted.
 * The endpoints controller updates them after the pods turn ready, so a Deployment can be rolled
 * out while its Service does not route to every replica yet.
 */
export async function readyEndpoints(
  conn: KubernetesConnection,
  discovery: k8s.DiscoveryV1Api,
  service: string,
): Promise<string[]> {
  const slices = await call(conn, () =>
    discovery.listNamespacedEndpointSlice({
      namespace: conn.namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
    }),
  );
  const pods: string[] = [];
  for (const slice of slices.items) {
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready && !ep.conditions.terminating && ep.targetRef?.kind === "Pod" && ep.targetRef.name) {
        pods.push(ep.targetRef.name);
      }
    }
  }
  return pods.sort();
}

/** HTTP status of a failed API call (undefined when the call never got an answer). */
export function statusOf(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

/** The API server's own message of a failed call (its Status object's `message`). */
export function apiMessage(err: unknown): string {
  if (err instanceof k8s.ApiException) {
    const body = err.body as unknown;
    if (typeof body === "string") {
      try {
        return (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        return body;
      }
    }
    return (body as { message?: string })?.message ?? err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** True when a call failed before any answer: refused, unresolvable, timed out, TLS. */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof k8s.ApiException) return false;
  const text = `${(err as { code?: string })?.code ?? ""} ${String(err)} ${String((err as Error)?.cause ?? "")}`;
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|socket hang up|certificate|self.signed|request to .* failed/i.test(
    text,
  );
}

/** A readable error for an API server that did not answer. */
export function unreachableError(conn: KubernetesConnection, err: unknown): UserError {
  const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  return new UserError(
    `kubernetes: cannot reach the Kubernetes API server ${conn.server} (context ${conn.context}): ${why} ` +
      "(fix: check that the cluster is running and that kubernetes.kubeconfig/context point at it)",
  );
}

/**
 * Runs an API call, turning "no answer" into a readable UserError and keeping other failures as
 * they are (callers look at their status).
 */
export async function call<T>(conn: KubernetesConnection, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUnreachable(err)) throw unreachableError(conn, err);
    throw err;
  }
}

/** Checks that the namespace exists (a 403 — no right to read namespaces — is given the benefit of the doubt). */
export async function checkNamespace(apis: KubernetesApis): Promise<void> {
  const { conn } = apis;
  try {
    await call(conn, () => apis.core.readNamespace({ name: conn.namespace }));
  } catch (err) {
    if (statusOf(err) === 404) {
      throw new UserError(
        `kubernetes.namespace: the namespace ${JSON.stringify(conn.namespace)} does not exist in the cluster ${conn.server} ` +
          `(fix: create it first, e.g. \`kubectl create namespace ${conn.namespace}\` or a k8s.core.v1.Namespace, or pick another)`,
        { property: "kubernetes.namespace" },
      );
    }
    if (statusOf(err) === 403) return;
    if (statusOf(err) === 401) {
      throw new UserError(
        `kubernetes: the API server ${conn.server} refused the credentials of context ${conn.context} (${apiMessage(err)})`,
      );
    }
    throw err;
  }
}
