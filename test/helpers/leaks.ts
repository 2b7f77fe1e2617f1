/**
 * Leak counting: what is left behind by this package after `pulumi destroy`. Docker objects are
 * found by their labels (any label key under `pulumi-tesseract.` — the package's own
 * `pulumi-tesseract.managed`, `pulumi-tesseract.resource`, … and the tests'
 * `pulumi-tesseract.test`); Fractal task groups through the REST API and task folders on disk.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { DockerClient } from "../../provider/docker";

export const LABEL_PREFIX = "pulumi-tesseract.";

export interface LeakFilter {
  /** Only count objects whose labels satisfy this (default: any `pulumi-tesseract.` label). */
  match?: (labels: Record<string, string>) => boolean;
  /** Image references never counted (the base image). */
  exceptImages?: string[];
  /** Also count images whose tag starts with one of these (e.g. test tag prefixes). */
  imageTagPrefixes?: string[];
}

export interface DockerLeaks {
  containers: string[];
  images: string[];
  volumes: string[];
  networks: string[];
  total: number;
}

function ours(labels: Record<string, string> | null | undefined, filter: LeakFilter): boolean {
  const l = labels ?? {};
  if (filter.match) return filter.match(l);
  return Object.keys(l).some((k) => k.startsWith(LABEL_PREFIX));
}

/** Counts this package's containers, images, volumes and networks on one engine. */
export async function dockerLeaks(client: DockerClient, filter: LeakFilter = {}): Promise<DockerLeaks> {
  const except = new Set(filter.exceptImages ?? ["debian:bookworm-slim"]);
  const containers = (await client.listContainers({}, true))
    .filter((c) => ours(c.Labels, filter))
    .map((c) => `${(c as { Names?: string[] }).Names?.[0] ?? c.Id.slice(0, 12)} (${c.Id.slice(0, 12)})`);
  const images = (await client.listImages())
    .filter((i) => {
      const tags = i.RepoTags ?? [];
      if (tags.some((t) => except.has(t))) return false;
      if (ours(i.Labels, filter)) return true;
      return tags.some((t) => (filter.imageTagPrefixes ?? []).some((p) => t.startsWith(p)));
    })
    .map((i) => `${(i.RepoTags ?? []).join(",") || "<untagged>"} (${i.Id.slice(7, 19)})`);
  const volumes = (await client.listVolumes({})).filter((v) => ours(v.Labels, filter)).map((v) => v.Name);
  const networks = (await client.listNetworks({})).filter((n) => ours(n.Labels, filter)).map((n) => n.Name);
  return {
    containers,
    images,
    volumes,
    networks,
    total: containers.length + images.length + volumes.length + networks.length,
  };
}

/** Only objects labelled with one test run's id (`pulumi-tesseract.test=<run>`), or any label value. */
export function labelled(key: string, value?: string): (labels: Record<string, string>) => boolean {
  return (labels) => (value === undefined ? key in labels : labels[key] === value);
}

export interface FractalLeakOptions {
  url: string;
  email: string;
  password: string;
  /** The server's tasks folder (tasks_local_dir), to look for left-over folders. */
  tasksDir?: string;
  /** Only count task groups / folders of these package names (normalized, e.g. `pt-fractal-tasks`). */
  pkgNames?: string[];
}

export interface FractalLeaks {
  taskGroups: string[];
  activeActivities: string[];
  taskFolders: string[];
  total: number;
}

async function fractalToken(o: FractalLeakOptions): Promise<string> {
  const res = await fetch(`${o.url}/auth/token/login/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username: o.email, password: o.password }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`fractal login failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Fractal REST GET with a fresh token (the leak check runs rarely). */
export async function fractalGet<T>(o: FractalLeakOptions, route: string): Promise<T> {
  const token = await fractalToken(o);
  const res = await fetch(`${o.url}${route}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface TaskGroupSlim {
  id: number;
  pkg_name: string;
  version: string;
  path?: string | null;
}

/** Task groups of the given packages, as `pkg==version#id`. */
export async function fractalTaskGroups(o: FractalLeakOptions): Promise<TaskGroupSlim[]> {
  const pairs = await fractalGet<[string, TaskGroupSlim[]][]>(o, "/api/v2/task-group/?only_owner=true");
  const want = o.pkgNames?.map((p) => p.toLowerCase());
  return pairs.flatMap(([, groups]) => groups).filter((g) => !want || want.includes(g.pkg_name.toLowerCase()));
}

/** Task groups, unfinished collect/delete activities and task folders left on one fractal-server. */
export async function fractalLeaks(o: FractalLeakOptions): Promise<FractalLeaks> {
  const taskGroups = (await fractalTaskGroups(o)).map((g) => `${g.pkg_name}==${g.version}#${g.id}`);
  const activities = await fractalGet<{ id: number; pkg_name: string; status: string; action: string }[]>(
    o,
    "/api/v2/task-group/activity/",
  );
  const want = o.pkgNames?.map((p) => p.toLowerCase());
  const activeActivities = activities
    .filter((a) => (a.status === "pending" || a.status === "ongoing") && (!want || want.includes(a.pkg_name)))
    .map((a) => `${a.action} ${a.pkg_name} #${a.id} ${a.status}`);
  const taskFolders: string[] = [];
  if (o.tasksDir && existsSync(o.tasksDir)) {
    // Layout: <tasksDir>/<user id>/<pkg_name>/<version>
    for (const user of readdirSync(o.tasksDir)) {
      const userDir = path.join(o.tasksDir, user);
      if (!statSync(userDir).isDirectory()) continue;
      for (const pkg of readdirSync(userDir)) {
        if (want && !want.includes(pkg.toLowerCase())) continue;
        for (const version of readdirSync(path.join(userDir, pkg))) taskFolders.push(path.join(userDir, pkg, version));
      }
    }
  }
  return {
    taskGroups,
    activeActivities,
    taskFolders,
    total: taskGroups.length + activeActivities.length + taskFolders.length,
  };
}

/** One line per leaked object, for assertion messages. */
export function describeLeaks(leaks: DockerLeaks | FractalLeaks): string {
  return Object.entries(leaks)
    .filter(([k, v]) => k !== "total" && Array.isArray(v) && v.length)
    .map(([k, v]) => `${k}: ${(v as string[]).join(", ")}`)
    .join("\n");
}

/** The text of every stack checkpoint in a file backend (`file://…`, default PULUMI_BACKEND_URL). */
export function backendStateText(backendUrl = process.env.PULUMI_BACKEND_URL ?? ""): string {
  const root = path.join(backendUrl.replace(/^file:\/\//, ""), ".pulumi", "stacks");
  if (!backendUrl.startsWith("file://") || !existsSync(root)) return "";
  const parts: string[] = [];
  for (const project of readdirSync(root)) {
    const dir = path.join(root, project);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) {
      if (!/\.json(\.gz)?$/.test(f) || f.endsWith(".bak")) continue;
      try {
        const buf = readFileSync(path.join(dir, f));
        parts.push(f.endsWith(".gz") ? gunzipSync(buf).toString("utf8") : buf.toString("utf8"));
      } catch {
        // being rewritten right now
      }
    }
  }
  return parts.join("\n");
}

export interface Orphans extends DockerLeaks {
  /** Objects skipped because they are younger than the grace period (may belong to a running update). */
  young: number;
  /** Objects skipped because they were there before the run began (the baseline): not this run's. */
  preexisting: number;
}

/** IDs (containers, images) and names (networks, volumes) of every object with this package's label. */
export async function managedObjects(client: DockerClient): Promise<string[]> {
  const label = { label: ["pulumi-tesseract.managed"] };
  return [
    ...(await client.listContainers(label, true)).map((c) => c.Id),
    ...(await client.listImages(label)).map((i) => i.Id),
    ...(await client.listNetworks(label)).map((n) => n.Name),
    ...(await client.listVolumes(label)).map((v) => v.Name),
  ];
}

/**
 * Objects carrying this package's labels that no stack in the backend references (by container ID,
 * image ID, network or volume name): left behind by a destroy, a failed create or a lost update.
 * Objects younger than `graceSeconds` are skipped: an update in flight has not written its state yet.
 * Objects in `baseline` (what was there before the run: managedObjects) are skipped too: a test run
 * answers for what it left, not for what an earlier, interrupted one did on the same engine.
 */
export async function orphans(
  client: DockerClient,
  graceSeconds = 0,
  stateText = backendStateText(),
  baseline: ReadonlySet<string> = new Set(),
): Promise<Orphans> {
  const now = Date.now() / 1000;
  let young = 0;
  let preexisting = 0;
  const inBaseline = (id: string) => {
    if (!baseline.has(id)) return false;
    preexisting += 1;
    return true;
  };
  const old = (created: number | undefined) => {
    if (created !== undefined && now - created < graceSeconds) {
      young += 1;
      return false;
    }
    return true;
  };
  const referenced = (id: string) => stateText.includes(id) || stateText.includes(id.replace(/^sha256:/, ""));
  const containers = (await client.listContainers({ label: ["pulumi-tesseract.managed"] }, true))
    .filter((c) => !inBaseline(c.Id) && old((c as { Created?: number }).Created) && !referenced(c.Id))
    .map((c) => `${(c as { Names?: string[] }).Names?.[0] ?? ""} (${c.Id.slice(0, 12)})`);
  // A runtime base image is in no state: it is referenced through its holder tags, each the
  // first 16 hex of sha256(URN) of a TesseractImage (provider/build/runtime-image.ts).
  const urnHashes = new Set(
    [...stateText.matchAll(/urn:pulumi:[^"\s]+/g)].map((m) =>
      createHash("sha256").update(m[0]).digest("hex").slice(0, 16),
    ),
  );
  const heldRuntime = (tags: string[] | null | undefined) =>
    (tags ?? []).some(
      (t) => t.startsWith("pulumi-tesseract-runtime-holder/") && urnHashes.has(t.slice(t.lastIndexOf(":") + 1)),
    );
  const images = (await client.listImages({ label: ["pulumi-tesseract.managed"] }))
    .filter(
      (i) =>
        !inBaseline(i.Id) && old((i as { Created?: number }).Created) && !referenced(i.Id) && !heldRuntime(i.RepoTags),
    )
    .map((i) => `${(i.RepoTags ?? []).join(",") || "<untagged>"} (${i.Id.slice(7, 19)})`);
  const networks = (await client.listNetworks({ label: ["pulumi-tesseract.managed"] }))
    .filter((n) => !inBaseline(n.Name) && !referenced(n.Name))
    .map((n) => n.Name);
  const volumes = (await client.listVolumes({ label: ["pulumi-tesseract.managed"] }))
    .filter((v) => !inBaseline(v.Name) && !referenced(v.Name))
    .map((v) => v.Name);
  return {
    containers,
    images,
    networks,
    volumes,
    young,
    preexisting,
    total: containers.length + images.length + networks.length + volumes.length,
  };
}

/** The stored checkpoint of one stack in the file backend (what is on disk, secrets encrypted). */
export function stackCheckpointText(
  project: string,
  stack: string,
  backendUrl = process.env.PULUMI_BACKEND_URL ?? "",
): string {
  const dir = path.join(backendUrl.replace(/^file:\/\//, ""), ".pulumi", "stacks", project);
  for (const f of [`${stack}.json`, `${stack}.json.gz`]) {
    const p = path.join(dir, f);
    if (existsSync(p)) {
      const buf = readFileSync(p);
      return f.endsWith(".gz") ? gunzipSync(buf).toString("utf8") : buf.toString("utf8");
    }
  }
  throw new Error(`no checkpoint for ${project}/${stack} under ${dir}`);
}

/**
 * A `--show-secrets` export (Automation API's exportStack) without the values Pulumi holds as
 * secrets (`{"4dabf18193072939515e22adb298388d": …, "plaintext": "…"}`): what is left is plain.
 */
export function withoutSecretValues(exportJson: string): string {
  return exportJson.replace(/"plaintext":"(?:[^"\\]|\\.)*"/g, '"plaintext":"<secret>"');
}
