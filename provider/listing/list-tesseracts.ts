/**
 * Listing, like `tesseract list` and `tesseract ps`: the Tesseract images and containers on any
 * engine the package can reach. A Tesseract is recognised as upstream does, by `TESSERACT_NAME` in
 * the image's environment; name, version and description come from there, the endpoints from the
 * `pulumi-tesseract.endpoints` label the package's builder sets (absent on images built elsewhere),
 * and a container's owner from the labels `TesseractService` sets.
 */
import * as pulumi from "@pulumi/pulumi";
import { LABELS } from "../common/labels";
import type { DockerConnection } from "../docker/connection";
import { engineFor } from "../docker/engine";
import type { ContainerInspect } from "../docker/types";

const CONTAINER_API_PORT = "8000/tcp";
/** Inspections run at most this many at a time (an engine may hold thousands of images). */
const CONCURRENCY = 8;

/** Arguments of the listing functions. */
export interface ListTesseractsArgs {
  /** The engine to list. Default: `DOCKER_HOST`, else the local socket. */
  docker?: DockerConnection;
}

/** Arguments of `getTesseractContainers`. */
export interface ListTesseractContainersArgs extends ListTesseractsArgs {
  /** Include stopped containers. Default `false` (like `tesseract ps`). */
  all?: boolean;
}

/** One Tesseract image. */
export interface TesseractImageInfo {
  /** Image ID (`sha256:…`). */
  readonly id: string;
  /** `TESSERACT_NAME`. */
  readonly name: string;
  /** `TESSERACT_VERSION` (`unknown` when the config has none). */
  readonly version: string;
  /** `TESSERACT_DESCRIPTION`. */
  readonly description: string;
  /** Repository tags, e.g. `["vectoradd:1.0.0", "vectoradd:latest"]`. */
  readonly tags: string[];
  /** Endpoints from the image's labels (`apply`, `jacobian`, …); undefined for images built elsewhere. */
  readonly endpoints?: string[];
  /** The config's `metadata` (label `ai.pasteurlabs.tesseract.metadata`), when present. */
  readonly metadata?: Record<string, unknown>;
  /** Creation time (ISO 8601). */
  readonly created: string;
  /** Size in bytes. */
  readonly size: number;
  /** True when a `TesseractImage` (this package) built it. */
  readonly managed: boolean;
}

/** One container of a Tesseract image. */
export interface TesseractContainerInfo {
  /** Container ID. */
  readonly id: string;
  /** Container name (without the leading `/`). */
  readonly name: string;
  /** The image reference it was created from. */
  readonly image: string;
  /** `TESSERACT_NAME` of the image. */
  readonly tesseractName: string;
  /** `TESSERACT_VERSION` of the image. */
  readonly version: string;
  /** Docker state: `running`, `exited`, … */
  readonly state: string;
  /** Where its HTTP API is published (`http://127.0.0.1:49321`); undefined when not serving or not published. */
  readonly url?: string;
  /** The Pulumi stack, project and `TesseractService` that own it (from its labels), when any. */
  readonly owner?: { stack?: string; project?: string; service?: string; serviceId?: string; replica?: string };
  /** What started it: a `TesseractService`, `runTesseract`, or `TesseractClient.fromImage`; undefined for others. */
  readonly startedBy?: "TesseractService" | "runTesseract" | "fromImage";
}

function envOf(env: string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf("=");
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

async function mapLimited<T, R>(items: T[], fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

/** The Tesseract images on an engine (`tesseract list`), newest first. */
export async function getTesseractImages(args: ListTesseractsArgs = {}): Promise<TesseractImageInfo[]> {
  const docker = engineFor(args.docker);
  const summaries = await docker.listImages();
  const found = await mapLimited(summaries, async (s): Promise<TesseractImageInfo | undefined> => {
    const img = await docker.inspectImage(s.Id);
    const env = envOf(img?.Config?.Env);
    if (!img || env.TESSERACT_NAME === undefined) return undefined;
    const labels = img.Config.Labels ?? {};
    let metadata: Record<string, unknown> | undefined;
    try {
      const raw = labels["ai.pasteurlabs.tesseract.metadata"];
      metadata = raw ? JSON.parse(raw) : undefined;
    } catch {
      metadata = undefined;
    }
    const endpoints = labels[LABELS.endpoints];
    return {
      id: img.Id,
      name: env.TESSERACT_NAME,
      version: env.TESSERACT_VERSION ?? "unknown",
      description: env.TESSERACT_DESCRIPTION ?? "",
      tags: (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>"),
      endpoints: endpoints ? endpoints.split(",").filter(Boolean) : undefined,
      metadata,
      created: img.Created,
      size: img.Size,
      managed: labels[LABELS.managed] === "true",
    };
  });
  return found
    .filter((x): x is TesseractImageInfo => x !== undefined)
    .sort((a, b) => b.created.localeCompare(a.created) || a.name.localeCompare(b.name));
}

/** The url a serving container answers on, from its published port 8000 (or its `serve --port` on the host network). */
function urlOf(c: ContainerInspect, engineHost: string): string | undefined {
  if (!c.State.Running) return undefined;
  const cmd = c.Config.Cmd ?? [];
  if (cmd[0] !== "serve") return undefined;
  const reach = (ip: string) => {
    if (ip && ip !== "0.0.0.0" && ip !== "::") return ip.includes(":") ? `[${ip}]` : ip;
    return /^tcp:\/\/([^:/]+)/.exec(engineHost)?.[1] ?? "127.0.0.1";
  };
  const binding = c.NetworkSettings.Ports?.[CONTAINER_API_PORT]?.[0];
  if (binding?.HostPort) return `http://${reach(binding.HostIp)}:${binding.HostPort}`;
  const port = cmd[cmd.indexOf("--port") + 1];
  const host = cmd[cmd.indexOf("--host") + 1];
  if (c.NetworkSettings.Networks && "host" in c.NetworkSettings.Networks && port)
    return `http://${reach(host)}:${port}`;
  return undefined;
}

/** The containers of Tesseract images on an engine (`tesseract ps`), with their url and owner. */
export async function getTesseractContainers(
  args: ListTesseractContainersArgs = {},
): Promise<TesseractContainerInfo[]> {
  const docker = engineFor(args.docker);
  const summaries = await docker.listContainers({}, args.all ?? false);
  const found = await mapLimited(summaries, async (s): Promise<TesseractContainerInfo | undefined> => {
    const c = await docker.inspectContainer(s.Id);
    const env = envOf(c?.Config.Env);
    if (!c || env.TESSERACT_NAME === undefined) return undefined;
    const l = c.Config.Labels ?? {};
    const owner = {
      stack: l[LABELS.stack],
      project: l[LABELS.project],
      service: l[LABELS.service],
      serviceId: l[LABELS.serviceId],
      replica: l[LABELS.replica],
    };
    const startedBy = l[LABELS.service]
      ? "TesseractService"
      : l[LABELS.run]
        ? "runTesseract"
        : l[LABELS.fromImage]
          ? "fromImage"
          : undefined;
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      image: c.Config.Image,
      tesseractName: env.TESSERACT_NAME,
      version: env.TESSERACT_VERSION ?? "unknown",
      state: c.State.Status,
      url: urlOf(c, docker.host),
      owner: Object.values(owner).some((v) => v !== undefined)
        ? (Object.fromEntries(
            Object.entries(owner).filter(([, v]) => v !== undefined),
          ) as TesseractContainerInfo["owner"])
        : undefined,
      startedBy,
    };
  });
  return found.filter((x): x is TesseractContainerInfo => x !== undefined).sort((a, b) => a.name.localeCompare(b.name));
}

/** `getTesseractImages` taking `pulumi.Input`s (read-only, so it also runs during preview). */
export function getTesseractImagesOutput(
  args: { docker?: pulumi.Input<DockerConnection> } = {},
): pulumi.Output<TesseractImageInfo[]> {
  return pulumi.output(args).apply((a) => getTesseractImages(a as ListTesseractsArgs));
}

/** `getTesseractContainers` taking `pulumi.Input`s (read-only, so it also runs during preview). */
export function getTesseractContainersOutput(
  args: { docker?: pulumi.Input<DockerConnection>; all?: pulumi.Input<boolean> } = {},
): pulumi.Output<TesseractContainerInfo[]> {
  return pulumi.output(args).apply((a) => getTesseractContainers(a as ListTesseractContainersArgs));
}
