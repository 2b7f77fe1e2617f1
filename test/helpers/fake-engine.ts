/**
 * An in-memory ContainerEngine for unit tests of the build and serve orchestration: images with
 * tags, containers with state, networks with owners, and Docker's answers for missing (404) and
 * conflicting (409) objects. A fake for extra unit tests only: the real engine is exercised by the
 * integration and e2e tiers.
 */
import { randomBytes } from "node:crypto";
import { type Duplex, PassThrough, type Readable } from "node:stream";
import { parseBuildLine } from "../../provider/docker/build-log";
import type { ContainerEngine } from "../../provider/docker/engine";
import { DockerApiError } from "../../provider/docker/errors";
import type * as T from "../../provider/docker/types";

interface FakeImage {
  Id: string;
  tags: Set<string>;
  env: string[];
  /** The image this one was built on (classic-builder layer chain), for Docker's removal rules. */
  parent?: string;
  /** Labels a build gave it. */
  labels?: Record<string, string>;
  /** Creation order (a counter), as `Created` in listings. */
  created?: number;
}

interface FakeContainer {
  info: T.ContainerInspect;
  restartPolicy?: { Name: string; MaximumRetryCount?: number };
}

const hex = (n: number) => randomBytes(n).toString("hex");

export class FakeEngine implements ContainerEngine {
  /** Its address (a test that needs a fresh per-engine state of the process gives its own). */
  host = "unix:///fake/docker.sock";
  readonly images = new Map<string, FakeImage>();
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, T.NetworkInspect & { Containers: Record<string, object> }>();
  /** What waits for a container to stop (attach streams, waits), by container ID. */
  private readonly onStop = new Map<string, (() => void)[]>();
  /** Every call, as `method arg`, for assertions on what the orchestration did. */
  readonly calls: string[] = [];
  /** Builds so far (the `Created` order of built images). */
  private builds = 0;
  /**
   * Classic-builder log lines `build` plays back (`Step n/m : …`, ` ---> Using cache`,
   * ` ---> <12 hex>`); unset, `build` throws. Each ` ---> <id>` not yet present becomes an image
   * on top of the previous one; the last is the built image, given the build's tags.
   */
  buildLog: string[] | undefined;
  /**
   * What `pullImage` finds in its registry, by digest reference (`repo@sha256:…`): the Tesseract
   * image it adds. Unlisted references answer 404 (manifest unknown). `pullFailure`, when set,
   * is thrown instead (e.g. a 401 DockerApiError or a DockerPullError); `pullAuths` records the
   * credentials each pull sent.
   */
  readonly registry = new Set<string>();
  pullFailure: Error | undefined;
  readonly pullAuths: (T.RegistryAuth | undefined)[] = [];

  /** Adds an image with tags; a Tesseract image (TESSERACT_NAME in its env) unless `tesseract: false`. */
  addImage(tags: string[], opts: { tesseract?: boolean; parent?: string } = {}): string {
    const Id = `sha256:${hex(32)}`;
    for (const t of tags) this.untag(t);
    const env = opts.tesseract === false ? [] : ["TESSERACT_NAME=fake"];
    this.images.set(Id, { Id, tags: new Set(tags), env, parent: opts.parent });
    return Id;
  }

  /** Makes a container stop as if its process died. */
  kill(id: string, exitCode = 1): void {
    const c = this.container(id);
    if (!c) throw new Error(`no container ${id}`);
    c.info.State = { ...c.info.State, Running: false, Status: "exited", ExitCode: exitCode };
    for (const f of this.onStop.get(c.info.Id) ?? []) f();
    this.onStop.delete(c.info.Id);
  }

  /** The running containers carrying a label `key=value`. */
  running(label: string): T.ContainerInspect[] {
    const [k, v] = label.split("=");
    return [...this.containers.values()]
      .map((c) => c.info)
      .filter((c) => c.State.Running && c.Config.Labels?.[k] === v);
  }

  /** Set to a reason to play an engine without BuildKit (Podman's API). */
  buildKitMissing: string | undefined;

  async buildKitProblem(): Promise<string | undefined> {
    return this.buildKitMissing;
  }

  async answers(): Promise<boolean> {
    return true;
  }

  // ---- images ----------------------------------------------------------------------------

  private image(name: string): FakeImage | undefined {
    const id = name.startsWith("sha256:") ? name : `sha256:${name}`;
    for (const img of this.images.values()) {
      if (img.Id === id || img.Id.startsWith(id) || img.tags.has(name) || img.tags.has(`${name}:latest`)) return img;
    }
    return undefined;
  }

  private untag(tag: string): void {
    for (const img of this.images.values()) img.tags.delete(tag);
  }

  private inUse(img: FakeImage): boolean {
    return [...this.containers.values()].some((c) => this.image(c.info.Image)?.Id === img.Id);
  }

  private hasChildren(img: FakeImage): boolean {
    return [...this.images.values()].some((i) => i.parent === img.Id);
  }

  /** Docker's prune after a removal: untagged parents without other children or containers go too. */
  private prune(parentId: string | undefined): void {
    let p = parentId ? this.images.get(parentId) : undefined;
    while (p && p.tags.size === 0 && !this.hasChildren(p) && !this.inUse(p)) {
      this.images.delete(p.Id);
      p = p.parent ? this.images.get(p.parent) : undefined;
    }
  }

  async inspectImage(name: string): Promise<T.ImageInspect | undefined> {
    this.calls.push(`inspectImage ${name}`);
    const img = this.image(name);
    if (!img) return undefined;
    return {
      Id: img.Id,
      RepoTags: [...img.tags],
      Created: "",
      Size: 0,
      Architecture: "amd64",
      Os: "linux",
      Config: { Env: img.env, Labels: {} },
    };
  }

  async listImages(filters: Record<string, string[]> = {}): Promise<T.ImageSummary[]> {
    const { label = [], ...rest } = filters;
    if (Object.keys(rest).length) throw new Error("the fake engine filters images by label only");
    const has = (img: FakeImage, l: string) => {
      const [k, v] = l.split("=", 2);
      return v === undefined ? k in (img.labels ?? {}) : img.labels?.[k] === v;
    };
    return [...this.images.values()]
      .filter((img) => label.every((l) => has(img, l)))
      .map((img) => ({ Id: img.Id, RepoTags: [...img.tags], Labels: { ...img.labels }, Created: img.created ?? 0 }));
  }

  async removeImage(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<boolean> {
    this.calls.push(`removeImage ${name}${opts.noprune ? " noprune" : ""}`);
    const img = this.image(name);
    if (!img) return false;
    if (img.tags.has(name)) {
      // Docker keeps the last reference of an image a container uses (unless forced).
      if (img.tags.size === 1 && this.inUse(img) && !opts.force)
        throw new DockerApiError(
          409,
          "DELETE",
          `/images/${name}`,
          `conflict: unable to remove repository reference "${name}" (must force)`,
        );
      img.tags.delete(name);
      // Docker keeps an untagged image that still has children (it becomes an intermediate layer).
      if (img.tags.size === 0 && !this.inUse(img) && !this.hasChildren(img)) {
        this.images.delete(img.Id);
        if (!opts.noprune) this.prune(img.parent);
      }
      return true;
    }
    if (img.tags.size > 0 || this.inUse(img))
      throw new DockerApiError(409, "DELETE", `/images/${name}`, "conflict: image is referenced or in use");
    if (this.hasChildren(img))
      throw new DockerApiError(409, "DELETE", `/images/${name}`, "conflict: image has dependent child images");
    this.images.delete(img.Id);
    if (!opts.noprune) this.prune(img.parent);
    return true;
  }

  async tagImage(source: string, repo: string, tag: string): Promise<void> {
    this.calls.push(`tagImage ${source} ${repo}:${tag}`);
    const img = this.image(source);
    if (!img) throw new DockerApiError(404, "POST", `/images/${source}/tag`, "No such image");
    this.untag(`${repo}:${tag}`);
    img.tags.add(`${repo}:${tag}`);
  }

  async pushImage(name: string, tag: string): Promise<string> {
    this.calls.push(`pushImage ${name}:${tag}`);
    throw new Error("FakeEngine does not push images");
  }

  async pullImage(
    reference: string,
    auth: T.RegistryAuth | undefined,
    onProgress: (message: T.PushMessage) => void,
  ): Promise<void> {
    this.calls.push(`pullImage ${reference}`);
    this.pullAuths.push(auth);
    if (this.pullFailure) throw this.pullFailure;
    if (!this.registry.has(reference))
      throw new DockerApiError(404, "POST", "/images/create", `manifest for ${reference} not found: manifest unknown`);
    onProgress({ status: "Pulling fs layer", id: "aaaa" });
    onProgress({ status: "Pull complete", id: "aaaa" });
    this.addImage([reference]);
  }

  async build(context: Readable, params: T.BuildParams, onLine: (line: string) => void): Promise<string> {
    if (params.tags[0]?.startsWith("pulumi-tesseract-runtime:")) return this.buildRuntime(context, params, onLine);
    if (!this.buildLog) throw new Error("FakeEngine builds only with a scripted buildLog");
    this.calls.push(`build ${params.tags.join(",")}`);
    context.resume(); // the tar is not read, only drained
    let prev: FakeImage | undefined;
    // `{runtime}` in a scripted line stands for the newest runtime base image's short ID, `{new}`
    // for a new image ID (so that each build makes its own layers)
    const runtime = [...this.images.values()]
      .filter((i) => [...i.tags].some((t) => t.startsWith("pulumi-tesseract-runtime:")))
      .sort((a, b) => (b.created ?? 0) - (a.created ?? 0))[0];
    for (const raw of this.buildLog) {
      const line = raw.replace("{runtime}", runtime?.Id.slice(7, 19) ?? "000000000000").replace("{new}", hex(6));
      onLine(line);
      const parsed = parseBuildLine(line);
      if (parsed?.kind !== "image") continue;
      // a base image or a cached layer is there already; any other step makes a new image
      prev = this.image(parsed.id) ?? this.newLayer(parsed.id, prev);
    }
    if (!prev) throw new Error("the scripted buildLog names no image");
    for (const t of params.tags) this.untag(t);
    for (const t of params.tags) prev.tags.add(t);
    prev.env = ["TESSERACT_NAME=fake"];
    prev.labels = { ...params.labels };
    prev.created = ++this.builds;
    return prev.Id;
  }

  /** Runtime base image builds made so far (`runtimeBuildFailure`, when set, fails the next one). */
  runtimeBuilds = 0;
  runtimeBuildFailure: Error | undefined;

  /** A runtime base image build (`pulumi-tesseract-runtime:<hash16>`): one new image, tagged. */
  private async buildRuntime(
    context: Readable,
    params: T.BuildParams,
    onLine: (line: string) => void,
  ): Promise<string> {
    this.calls.push(`build-runtime ${params.tags.join(",")}${params.noCache ? " noCache" : ""}`);
    context.resume();
    this.runtimeBuilds++;
    // a tick, so that concurrent callers overlap as they do on a real engine
    await new Promise((r) => setTimeout(r, 5));
    if (this.runtimeBuildFailure) {
      const err = this.runtimeBuildFailure;
      this.runtimeBuildFailure = undefined;
      throw err;
    }
    const id = hex(6);
    onLine("Step 1/1 : RUN python3 -m venv /python-env && pip install tesseract-core[runtime]");
    onLine(` ---> ${id}`);
    const img = this.newLayer(id, undefined);
    for (const t of params.tags) this.untag(t);
    for (const t of params.tags) img.tags.add(t);
    img.labels = { ...params.labels };
    img.created = ++this.builds;
    return img.Id;
  }

  private newLayer(shortId: string, parent: FakeImage | undefined): FakeImage {
    const img: FakeImage = { Id: `sha256:${shortId}${hex(26)}`, tags: new Set(), env: [], parent: parent?.Id };
    this.images.set(img.Id, img);
    return img;
  }

  // ---- containers ------------------------------------------------------------------------

  private container(idOrName: string): FakeContainer | undefined {
    for (const c of this.containers.values()) {
      if (c.info.Id === idOrName || c.info.Name === `/${idOrName}`) return c;
    }
    return undefined;
  }

  async createContainer(name: string, spec: T.ContainerSpec): Promise<string> {
    this.calls.push(`createContainer ${name}`);
    if (this.container(name)) throw new DockerApiError(409, "POST", "/containers/create", `name ${name} in use`);
    if (!this.image(spec.Image)) throw new DockerApiError(404, "POST", "/containers/create", "No such image");
    const network = spec.HostConfig?.NetworkMode;
    if (network && !["bridge", "host", "none", "default"].includes(network) && !this.networks.has(network))
      throw new DockerApiError(404, "POST", "/containers/create", `network ${network} not found`);
    const Id = hex(32);
    const info: T.ContainerInspect = {
      Id,
      Name: `/${name}`,
      Created: new Date().toISOString(),
      Image: spec.Image,
      RestartCount: 0,
      State: {
        Status: "created",
        Running: false,
        ExitCode: 0,
        Error: "",
        StartedAt: "",
        FinishedAt: "",
        OOMKilled: false,
      },
      Config: {
        Image: spec.Image,
        Env: spec.Env ?? null,
        Labels: spec.Labels ?? null,
        Cmd: spec.Cmd ?? null,
        Tty: false,
        User: spec.User ?? "",
      },
      HostConfig: { PortBindings: spec.HostConfig?.PortBindings ?? null },
      NetworkSettings: { Ports: null, Networks: { [network ?? "bridge"]: {} } },
      Mounts: [],
    };
    this.containers.set(Id, { info, restartPolicy: spec.HostConfig?.RestartPolicy });
    const net = network && this.networks.get(network);
    if (net) net.Containers[Id] = {};
    return Id;
  }

  async startContainer(id: string): Promise<void> {
    this.calls.push(`startContainer ${id}`);
    const c = this.container(id);
    if (!c) throw new DockerApiError(404, "POST", `/containers/${id}/start`, "No such container");
    c.info.State = { ...c.info.State, Status: "running", Running: true };
  }

  async updateContainer(id: string, body: { RestartPolicy?: { Name: string; MaximumRetryCount?: number } }) {
    this.calls.push(`updateContainer ${id}`);
    const c = this.container(id);
    if (!c) throw new DockerApiError(404, "POST", `/containers/${id}/update`, "No such container");
    c.restartPolicy = body.RestartPolicy ?? c.restartPolicy;
  }

  async inspectContainer(id: string): Promise<T.ContainerInspect | undefined> {
    return this.container(id)?.info;
  }

  async listContainers(filters: Record<string, string[]>, _all = true): Promise<T.ContainerSummary[]> {
    const labels = filters.label ?? [];
    return [...this.containers.values()]
      .map((c) => c.info)
      .filter((c) =>
        labels.every((l) => {
          const [k, v] = l.split("=");
          return v === undefined ? k in (c.Config.Labels ?? {}) : c.Config.Labels?.[k] === v;
        }),
      )
      .map((c) => ({
        Id: c.Id,
        Names: [c.Name],
        Image: c.Image,
        State: c.State.Status,
        Status: c.State.Status,
        Labels: c.Config.Labels ?? {},
      }));
  }

  async removeContainer(id: string): Promise<boolean> {
    this.calls.push(`removeContainer ${id}`);
    const c = this.container(id);
    if (!c) return false;
    this.containers.delete(c.info.Id);
    for (const net of this.networks.values()) delete net.Containers[c.info.Id];
    return true;
  }

  async containerLogs(_id: string, _tail = 50): Promise<string> {
    return "";
  }

  /** A stream with no output that ends when the container stops (see {@link kill}). */
  async attachContainer(id: string): Promise<Duplex> {
    if (!this.container(id)) throw new DockerApiError(404, "POST", `/containers/${id}/attach`, "No such container");
    const out = new PassThrough();
    this.onStop.set(id, [...(this.onStop.get(id) ?? []), () => out.end()]);
    return out;
  }

  /** Resolves with the exit code once the container stops (see {@link kill}). */
  async waitContainer(id: string): Promise<number> {
    const c = this.container(id);
    if (!c) throw new DockerApiError(404, "POST", `/containers/${id}/wait`, "No such container");
    if (!c.info.State.Running && c.info.State.Status !== "created") return c.info.State.ExitCode ?? 0;
    return new Promise((resolve) => {
      this.onStop.set(c.info.Id, [
        ...(this.onStop.get(c.info.Id) ?? []),
        () => resolve(this.container(id)?.info.State.ExitCode ?? 0),
      ]);
    });
  }

  // ---- networks --------------------------------------------------------------------------

  async inspectNetwork(name: string): Promise<T.NetworkInspect | undefined> {
    return this.networks.get(name);
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    this.calls.push(`createNetwork ${name}`);
    if (this.networks.has(name)) throw new DockerApiError(409, "POST", "/networks/create", `network ${name} exists`);
    const Id = hex(32);
    this.networks.set(name, { Id, Name: name, Driver: "bridge", Labels: labels, Containers: {} });
    return Id;
  }

  async removeNetwork(name: string): Promise<void> {
    this.calls.push(`removeNetwork ${name}`);
    if (!this.networks.delete(name)) throw new DockerApiError(404, "DELETE", `/networks/${name}`, "not found");
  }
}
