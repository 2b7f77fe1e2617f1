/**
 * Shared plumbing of the Tesseract functions: one cached `TesseractClient` per url and options,
 * lifting `pulumi.Input`s without mangling typed arrays, and the preview guard.
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizeUrl, TesseractClient, type TesseractClientOptions } from "../client/client";
import { toPlainTree } from "../client/ndarray";
import type { ArrayEncoding } from "../client/request-body";
import type { KubernetesEndpoint } from "../serve/kubernetes/forward";
import type { SlurmEndpoint } from "../serve/slurm/tunnel";

/** What a call may name: a URL, or a Kubernetes or Slurm service's `endpoint` (reached per call). */
export type ServiceEndpoint = string | KubernetesEndpoint | SlurmEndpoint;

/** Options every Tesseract function accepts besides `url`. */
export interface CallSettings {
  /** How arrays are sent: `"base64"` (default) or `"json"`. Results always come back as base64. */
  encoding?: ArrayEncoding;
  /** Check inputs against the Tesseract's input schema before sending. Default `false`. */
  validateInputs?: boolean;
  /** Overall time limit for the call, ms. Default: none. */
  timeoutMs?: number;
  /** Extra HTTP headers (e.g. for a proxy in front of the Tesseract). */
  headers?: Record<string, string>;
  /**
   * Largest response taken, in bytes (the body, and the arrays decoded from it); a larger one is
   * refused before it is allocated. Default 2 GiB.
   */
  maxResponseBytes?: number;
}

/** What every call names: the served Tesseract, the inputs, and a run id. */
export interface TesseractCallArgs extends CallSettings {
  /**
   * Base url of the served Tesseract, e.g. a `TesseractService`'s `url` output; for a service on
   * Kubernetes or Slurm, its `endpoint` output (the call then goes through a port-forward, or a
   * tunnel via the login node).
   */
  url: string | KubernetesEndpoint | SlurmEndpoint;
  /**
   * The Tesseract's InputSchema as an object (for gradients: the point to differentiate at).
   * Arrays may be typed arrays, `{shape, dtype, data}` values, or plain numbers and nested lists.
   */
  inputs: Record<string, unknown>;
  /** Run id for the Tesseract's logs (`run_<id>/`); the server picks one otherwise. */
  runId?: string;
}

/** `TesseractCallArgs` for the `…Output` forms: every field may be a `pulumi.Input`. */
export interface TesseractCallOutputArgs {
  /** Base url of the served Tesseract (a `TesseractService`'s `url`, or its `endpoint` on Kubernetes or Slurm). */
  url: pulumi.Input<string | KubernetesEndpoint | SlurmEndpoint>;
  /** The Tesseract's InputSchema; values anywhere inside may be `pulumi.Input`s. */
  inputs: pulumi.Input<Record<string, unknown>>;
  /** Run id for the Tesseract's logs. */
  runId?: pulumi.Input<string>;
  /** `"base64"` (default) or `"json"`. */
  encoding?: pulumi.Input<CallSettings["encoding"]>;
  /** Check inputs against the Tesseract's input schema before sending. */
  validateInputs?: pulumi.Input<boolean>;
  /** Overall time limit for the call, ms. */
  timeoutMs?: pulumi.Input<number>;
  /** Extra HTTP headers. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Largest response taken, in bytes. Default 2 GiB. */
  maxResponseBytes?: pulumi.Input<number>;
}

const clients = new Map<string, TesseractClient>();

/** A shared client for `url` with these settings (pools are reused across calls). */
export function clientFor(url: ServiceEndpoint, settings: CallSettings = {}): TesseractClient {
  const options: TesseractClientOptions = {
    encoding: settings.encoding,
    validateInputs: settings.validateInputs,
    headers: settings.headers,
    maxResponseBytes: settings.maxResponseBytes,
  };
  if (typeof url !== "string") return forwardedClient(url, options);
  const key = `${normalizeUrl(url)}\n${JSON.stringify(options)}`;
  let client = clients.get(key);
  if (!client) {
    client = new TesseractClient(url, options);
    clients.set(key, client);
  }
  return client;
}

/**
 * A client for a Tesseract served on Kubernetes or Slurm: each method call opens a port-forward to
 * the Service's ready pods (through the API server) or a tunnel to the job's node (through the
 * login node), makes the call with a client of its own, and closes both, so nothing stays open
 * between calls.
 */
function forwardedClient(
  endpoint: KubernetesEndpoint | SlurmEndpoint,
  options: TesseractClientOptions,
): TesseractClient {
  const withForward: <R>(fn: (url: string) => Promise<R>) => Promise<R> =
    endpoint.kind === "slurm"
      ? (fn) =>
          (require("../serve/slurm/tunnel") as typeof import("../serve/slurm/tunnel")).withSlurmTunnel(endpoint, fn)
      : (fn) =>
          (require("../serve/kubernetes/forward") as typeof import("../serve/kubernetes/forward")).withServiceForward(
            endpoint,
            fn,
          );
  return new Proxy({} as TesseractClient, {
    get(_target, method: keyof TesseractClient | "then") {
      if (method === "then") return undefined; // not a promise
      return async (...args: unknown[]) =>
        withForward(async (url) => {
          const client = new TesseractClient(url, options);
          try {
            return await (client[method] as (...a: unknown[]) => Promise<unknown>)(...args);
          } finally {
            await client.close();
          }
        });
    },
  });
}

/** Closes the connection pools the functions opened (they also close when the process exits). */
export async function closeTesseractFunctionClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map((c) => c.close()));
}

/** Deep plain-JSON copy of a result: `NDArray`s become `{shape, dtype, data: number[]}`. */
export function plain<T>(value: unknown): T {
  return toPlainTree(value) as T;
}

function isPlainContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true;
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isLeaf(v: unknown): boolean {
  return pulumi.Output.isInstance(v) || v instanceof Promise;
}

function collectLeaves(v: unknown, leaves: unknown[]): void {
  if (isLeaf(v)) leaves.push(v);
  else if (isPlainContainer(v)) for (const x of Array.isArray(v) ? v : Object.values(v)) collectLeaves(x, leaves);
}

/** Rebuilds `value` with its Outputs/promises replaced, in `collectLeaves` order, by `resolved`. */
function rebuild(value: unknown, resolved: readonly unknown[]): unknown {
  let i = 0;
  const walk = (v: unknown): unknown => {
    if (isLeaf(v)) return walk(resolved[i++]);
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainContainer(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(value);
}

/**
 * The body of every `…Output` function: waits for the `pulumi.Input`s anywhere in `args` (and for
 * `dependsOn`), makes no call during preview (the result is unknown then) or while any of them is
 * unknown, and otherwise calls `fn` with plain values.
 *
 * Typed arrays are never passed through `pulumi.output`/`apply` (which would turn them into plain
 * objects): only the Outputs and promises are awaited, and the arguments are rebuilt around them
 * inside the one `apply` that also makes the call. (A typed array the caller wrapped in
 * `pulumi.output` has already been converted by Pulumi; pass such arrays as `{shape, dtype, data}`
 * with a plain `data` list.)
 */
export function outputCall<A, R>(
  args: unknown,
  opts: pulumi.InvokeOutputOptions | undefined,
  fn: (resolved: A) => Promise<R>,
  atPreview?: (resolved: A) => void,
): pulumi.Output<R> {
  const leaves: unknown[] = [];
  collectLeaves(args, leaves);
  const deps = opts?.dependsOn
    ? pulumi
        .output(opts.dependsOn as pulumi.Input<pulumi.Resource | pulumi.Resource[]>)
        .apply((d) => pulumi.all((Array.isArray(d) ? d : [d]).map((r) => r.urn)))
    : pulumi.output([] as string[]);
  return pulumi.all([deps, ...(leaves as pulumi.Input<unknown>[])]).apply(([, ...resolved]) => {
    if (pulumi.runtime.isDryRun()) {
      // Checks that need no engine (argument validation) fail the preview already.
      atPreview?.(rebuild(args, resolved) as A);
      return pulumi.unknown as unknown as R;
    }
    return fn(rebuild(args, resolved) as A);
  }) as pulumi.Output<R>;
}
