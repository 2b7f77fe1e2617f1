// Reaching a Kubernetes Service from the machine running `pulumi up`: a listener on 127.0.0.1
// whose every connection is port-forwarded through the API server to one ready pod of the
// Service (taken from its EndpointSlices, round-robin), like `kubectl port-forward svc/...` but
// spreading connections over all replicas as the Service would.
import { createServer, type Server, type Socket } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { UserError } from "../../common/errors";
import { connect, type KubernetesTarget, readyEndpoints } from "./connection";

/** What a caller outside the cluster needs to reach a Kubernetes-served Tesseract. */
export interface KubernetesEndpoint {
  /** Marks the object as a Kubernetes endpoint (functions also accept plain URLs). */
  kind: "kubernetes";
  /** Kubeconfig path or content (as given to the service). */
  kubeconfig?: string;
  context?: string;
  namespace: string;
  /** The Kubernetes Service's name. */
  service: string;
  /** The pods' container port. */
  targetPort: number;
}

/** True for a {@link KubernetesEndpoint}-shaped value. */
export function isKubernetesEndpoint(value: unknown): value is KubernetesEndpoint {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "kubernetes";
}

export interface ServiceForward {
  /** `http://127.0.0.1:<port>`: valid until `close()`. */
  url: string;
  /** Connections forwarded so far, per pod name. */
  connections: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Opens a local listener forwarding to the Service's ready pods. Connections that find no ready
 * pod, or whose forward cannot be opened on any pod, are closed at once (the caller sees a reset).
 */
export async function openServiceForward(
  endpoint: KubernetesEndpoint | (KubernetesTarget & { service: string; targetPort: number; namespace: string }),
): Promise<ServiceForward> {
  const conn = connect(endpoint);
  const discovery = conn.config.makeApiClient(k8s.DiscoveryV1Api);
  const forward = new k8s.PortForward(conn.config, true);
  // Fails early (unreachable API server, unknown Service) instead of on the first connection.
  let pods = await readyEndpoints(conn, discovery, endpoint.service);
  let podsAt = Date.now();
  let next = 0;
  const connections = new Map<string, number>();
  const sockets = new Set<Socket>();

  const pickOrder = async (): Promise<string[]> => {
    // EndpointSlices change as pods come and go (rolling updates): re-read at most every 500 ms.
    if (Date.now() - podsAt > 500 || pods.length === 0) {
      pods = await readyEndpoints(conn, discovery, endpoint.service).catch(() => pods);
      podsAt = Date.now();
    }
    const start = next++ % Math.max(1, pods.length);
    return [...pods.slice(start), ...pods.slice(0, start)];
  };

  const handle = async (socket: Socket) => {
    socket.pause();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    for (const pod of await pickOrder().catch(() => [] as string[])) {
      try {
        const opened = await forward.portForward(conn.namespace, pod, [endpoint.targetPort], socket, null, socket);
        // Without a retry count the client returns the socket itself; with one, a getter for the
        // current socket (both are in its return type).
        const ws = typeof opened === "function" ? opened() : opened;
        if (!ws) throw new Error(`port-forward to ${pod} gave no socket`);
        connections.set(pod, (connections.get(pod) ?? 0) + 1);
        ws.on("close", () => socket.end());
        ws.on("error", () => socket.destroy());
        socket.on("close", () => ws.close());
        socket.resume();
        return;
      } catch {
        // the pod went away between the listing and the forward: try the next one
      }
    }
    socket.destroy();
  };

  const server: Server = createServer((s) => void handle(s));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  server.unref();
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Runs `fn` with a forward open to the endpoint's Service, closing it afterwards. */
export async function withServiceForward<R>(endpoint: KubernetesEndpoint, fn: (url: string) => Promise<R>): Promise<R> {
  let fwd: ServiceForward;
  try {
    fwd = await openServiceForward(endpoint);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `cannot reach the Kubernetes Service ${endpoint.namespace}/${endpoint.service}: ${(err as Error).message}`,
    );
  }
  try {
    return await fn(fwd.url);
  } finally {
    await fwd.close();
  }
}
