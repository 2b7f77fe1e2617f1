/**
 * An in-memory ContainerEngine for unit tests of the build and serve orchestration: images with
 * tags, containers with state, networks with owners, and Docker's answers for missing (404) and
 * conflicting (409) objects. A fake for extra unit tests only: the real engine is exercised by the
 * integration and e2e tiers.
 */
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { ContainerEngine } from "../../provider/docker/engine";
import { DockerApiError } from "../../provider/docker/errors";
import type * as T from "../../provider/docker/types";

interface FakeImage {
  Id: string;
  tags: Set<string>;
  env: string[];
}

interface FakeContainer {
  info: T.ContainerInspect;
  restartPolicy?: { Name: string; MaximumRetryCount?: number };
}

const hex = (n: number) => randomBytes(n).toString("hex");

export class FakeEngine implements ContainerEngine {
  readonly host = "unix:///fake/docker.sock";
  readonly images = new Map<string, FakeImage>();
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, T.NetworkInspect & { Containers: Record<string, object> }>();
  /** Every call, as `method arg`, for assertions on what the orchestration did. */
  readonly calls: string[] = [];

  /** Adds an image with tags; a Tesseract image (TESSERACT_NAME in its env) unless `tesseract: false`. */
  addImage(tags: string[], opts: { tesseract?: boolean } = {}): string {
    const Id = `sha256:${hex(32)}`;
    for (const t of tags) this.untag(t);
    this.images.set(Id, { Id, tags: new Set(tags), env: opts.tesseract === false ? [] : ["TESSERACT_NAME=fake"] });
    return Id;
  }

  /** Makes a container stop as if its process died. */
  kill(id: string, exitCode = 1): void {
    const c = this.container(id);
    if (!c) throw new Error(`no container ${id}`);
    c.info.State = { ...c.info.State, Running: false, Status: "exited", ExitCode: exitCode };
  }

  /** The running containers carrying a label `key=value`. */
  running(label: string): T.ContainerInspect[] {
    const [k, v] = label.split("=");
    return [...this.containers.values()]
      .map((c) => c.info)
      .filter((c) => c.State.Running && c.Config.Labels?.[k] === v);
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

  async removeImage(name: string, _opts: { force?: boolean; noprune?: boolean } = {}): Promise<boolean> {
    this.calls.push(`removeImage ${name}`);
    const img = this.image(name);
    if (!img) return false;
    if (img.tags.has(name)) {
      img.tags.delete(name);
      if (img.tags.size === 0 && !this.inUse(img)) this.images.delete(img.Id);
      return true;
    }
    if (img.tags.size > 0 || this.inUse(img))
      throw new DockerApiError(409, "DELETE", `/images/${name}`, "conflict: image is referenced or in use");
    this.images.delete(img.Id);
    return true;
  }

  async tagImage(source: string, repo: string, tag: string): Promise<void> {
    this.calls.push(`tagImage ${source} ${repo}:${tag}`);
    const img = this.image(source);
    if (!img) throw new DockerApiError(404, "POST", `/images/${source}/tag`, "No such image");
    this.untag(`${repo}:${tag}`);
    img.tags.add(`${repo}:${tag}`);
  }

  async build(_context: Readable, _params: T.BuildParams, _onLine: (line: string) => void): Promise<string> {
    throw new Error("FakeEngine does not build images");
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
