import type { Duplex, Readable } from "node:stream";
import type { Pool } from "undici";
import { openBuildKitSession } from "./buildkit-session";
import { readBuildKitStream } from "./buildkit-trace";
import { connectionKey, type DockerConnection, resolveHost } from "./connection";
import { type Endpoint, resolveExplicit, unsetSources } from "./discovery";
import type { ContainerEngine } from "./engine";
import { DockerApiError, DockerBuildError, DockerUnreachableError } from "./errors";
import { compareVersions, encodeQuery, isSocketError, type RawResponse, type RequestOptions } from "./http";
import { readBuildStream, readPullStream, readPushStream } from "./image-streams";
import { demuxLogs } from "./stream";
import { createPool, probeDefault } from "./transport";

/** Tries of an image removal that dockerd refused only because a parallel removal raced it. */
const REMOVE_RACE_ATTEMPTS = 4;

import type * as T from "./types";

/** Highest Engine API version this client speaks; older engines are met at their version. */
const MAX_API_VERSION = "1.47";

const clients = new Map<string, DockerClient>();

/**
 * A small typed client for the Docker Engine API over undici: unix socket, tcp (+TLS) or ssh
 * (`docker system dial-stdio`). The engine is found on first use (docs/docker-engines.md): one pool
 * per engine, API version negotiated once, every call's failure turned into a readable error.
 */
export class DockerClient implements ContainerEngine {
  private readonly configuredHost: string;
  private endpoint: Endpoint | undefined;
  private pool: Promise<Pool> | undefined;
  private apiVersion: Promise<string> | undefined;

  /** The shared client for a connection (one pool per engine and process). */
  static for(conn?: DockerConnection): DockerClient {
    const key = connectionKey(conn);
    let client = clients.get(key);
    if (!client) {
      client = new DockerClient(conn);
      clients.set(key, client);
    }
    return client;
  }

  constructor(private readonly conn: DockerConnection = {}) {
    this.configuredHost = resolveHost(conn);
  }

  /** The engine's address: the one in use once connected, else the one the connection names. */
  get host(): string {
    return this.endpoint?.host ?? this.configuredHost;
  }

  /** Where the engine's address came from (`DOCKER_HOST`, `context "remote" (…)`, …), once connected. */
  get source(): string | undefined {
    return this.endpoint?.source;
  }

  /** Resolves the engine (probing local sockets when nothing names one) and opens its pool once. */
  private dispatcher(): Promise<Pool> {
    this.pool ??= (async () => {
      const ep = resolveExplicit(this.conn) ?? (await probeDefault(this.conn.apiVersion, unsetSources(this.conn)));
      this.endpoint = ep;
      return createPool(ep);
    })().catch((err) => {
      this.pool = undefined;
      throw err;
    });
    return this.pool;
  }

  async close(): Promise<void> {
    for (const [k, v] of clients) if (v === this) clients.delete(k);
    const pool = this.pool;
    this.pool = undefined;
    const p = await pool?.catch(() => undefined);
    await p?.close();
  }

  /** The address and where it came from, for messages. */
  private describe(): string {
    return this.endpoint ? `${this.endpoint.host} (from ${this.endpoint.source})` : this.host;
  }

  /** The API version in use: the caller's pin, else min(engine's, ours). */
  version(): Promise<string> {
    this.apiVersion ??= (async () => {
      await this.dispatcher();
      const pinned = this.endpoint?.apiVersion;
      if (pinned) return pinned;
      const res = await this.raw("GET", "/_ping", {});
      if (res.statusCode !== 200) {
        // e.g. plain HTTP to a TLS port: "Client sent an HTTP request to an HTTPS server."
        const text = (await res.body.text().catch(() => "")).trim().slice(0, 200);
        throw new DockerUnreachableError(this.describe(), `/_ping answered HTTP ${res.statusCode}: ${text}`);
      }
      await res.body.dump();
      const server = String(res.headers["api-version"] ?? "1.41");
      return compareVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
    })().catch((err) => {
      this.apiVersion = undefined;
      throw err;
    });
    return this.apiVersion;
  }

  private async raw(method: string, path: string, opts: RequestOptions, retried = false): Promise<RawResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: RequestOptions["body"];
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] = "application/json";
    } else body = opts.body;
    const pool = await this.dispatcher();
    try {
      return (await pool.request({
        method: method as "GET",
        path: path + encodeQuery(opts.query),
        headers,
        body,
        signal: opts.signal,
      })) as unknown as RawResponse;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      // A pooled connection the engine closed while it sat idle fails the next request written
      // on it (EPIPE, reset, "other side closed"). A read sent again on a fresh connection is
      // safe; a write is not (the engine may have acted on it), so it fails as before.
      if (!retried && (method === "GET" || method === "HEAD") && /EPIPE|ECONNRESET|UND_ERR_SOCKET/.test(code))
        return this.raw(method, path, opts, true);
      if (
        /ECONNREFUSED|ENOENT|EACCES|EPIPE|ECONNRESET|UND_ERR_SOCKET|ENOTFOUND|UND_ERR_CONNECT|EDIALSTDIO|CERT|SSL|TLS|VERIFY|EPROTO/.test(
          code,
        )
      ) {
        const tls = this.endpoint?.tls;
        if (tls && !tls.cert && /UND_ERR_SOCKET|ECONNRESET/.test(code)) {
          const hint =
            "the engine may require a client certificate: cert.pem + key.pem in DOCKER_CERT_PATH, or certPem/keyPem";
          throw new DockerUnreachableError(this.describe(), `${(err as Error).message}; ${hint}`);
        }
        throw new DockerUnreachableError(this.describe(), err);
      }
      throw err;
    }
  }

  /** One API call with a versioned path; non-success statuses become DockerApiError. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const versioned = `/v${await this.version()}${path}`;
    const res = await this.raw(method, versioned, opts);
    const ok = opts.ok ? opts.ok.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
    if (!ok) {
      const text = await res.body.text().catch(() => "");
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // plain text body
      }
      throw new DockerApiError(res.statusCode, method, path, message);
    }
    return res;
  }

  async json<R>(method: string, path: string, opts: RequestOptions = {}): Promise<R> {
    const res = await this.call(method, path, opts);
    if (res.statusCode === 204 || res.statusCode === 304) {
      await res.body.dump();
      return undefined as R;
    }
    const text = await res.body.text();
    return (text ? JSON.parse(text) : undefined) as R;
  }

  /** Like json(), but a 404 answers `undefined`. */
  private async jsonOrMissing<R>(method: string, path: string, opts: RequestOptions = {}): Promise<R | undefined> {
    try {
      return await this.json<R>(method, path, opts);
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  // ---- images ----------------------------------------------------------------------------

  inspectImage(name: string): Promise<T.ImageInspect | undefined> {
    return this.jsonOrMissing("GET", `/images/${encodeURIComponent(name)}/json`);
  }

  listImages(filters?: Record<string, string[]>): Promise<T.ImageSummary[]> {
    return this.json("GET", "/images/json", {
      query: { filters: filters && JSON.stringify(filters) },
    });
  }

  /**
   * Removes an image or tag; a missing one is not an error. dockerd answers 500 "unrecognized
   * image ID" when images sharing parent layers are removed at the same moment (several
   * TesseractImages destroyed in parallel): that answer is retried a few times.
   */
  async removeImage(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.jsonOrMissing<unknown[]>("DELETE", `/images/${encodeURIComponent(name)}`, {
          query: { force: opts.force, noprune: opts.noprune },
        });
        return res !== undefined;
      } catch (err) {
        const race =
          err instanceof DockerApiError && err.statusCode === 500 && /unrecognized image ID/i.test(err.engineMessage);
        if (!race || attempt >= REMOVE_RACE_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  tagImage(source: string, repo: string, tag: string): Promise<void> {
    return this.json("POST", `/images/${encodeURIComponent(source)}/tag`, {
      query: { repo, tag },
    });
  }

  /**
   * `POST /images/{name}/push` of one tag: the engine pushes `name:tag` to the registry the name
   * starts with, authenticating with `auth` (sent as `X-Registry-Auth`, base64url JSON; the engine
   * requires the header even for anonymous pushes). Each progress message goes to `onProgress`.
   * Resolves with the manifest digest; rejects with DockerPushError when the engine reports a
   * failure inside its 200 stream (refused credentials, unreachable registry, refused push).
   */
  async pushImage(
    name: string,
    tag: string,
    auth: T.RegistryAuth,
    onProgress: (message: T.PushMessage) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    const res = await this.call("POST", `/images/${encodeURIComponent(name)}/push`, {
      query: { tag },
      headers: { "x-registry-auth": registryAuthHeader(auth) },
      signal,
    });
    return readPushStream(res.body, onProgress);
  }

  /**
   * `POST /images/create?fromImage=…&tag=…`: the engine pulls `reference` (`repo@sha256:…` or
   * `repo:tag`) from its registry, with `auth` as `X-Registry-Auth` when given. A refusal before
   * the stream starts (401/403 credentials, 404 unknown manifest, 500 unreachable registry) is a
   * DockerApiError with the engine's status; one inside the 200 stream a DockerPullError.
   */
  async pullImage(
    reference: string,
    auth: T.RegistryAuth | undefined,
    onProgress: (message: T.PushMessage) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const at = reference.indexOf("@");
    const [fromImage, tag] = at >= 0 ? [reference.slice(0, at), reference.slice(at + 1)] : splitTag(reference);
    const res = await this.call("POST", "/images/create", {
      query: { fromImage, tag },
      headers: auth ? { "x-registry-auth": registryAuthHeader(auth) } : {},
      signal,
    });
    await readPullStream(res.body, onProgress);
  }

  /**
   * `POST /build` with a tar context. Streams each log line to `onLine`, resolves with the image
   * ID, and rejects with DockerBuildError (failing step + log tail) when the build fails, which
   * the engine reports inside a 200 stream.
   */
  async build(context: Readable, params: T.BuildParams, onLine: (line: string) => void): Promise<string> {
    if (params.buildKit) return this.buildWithBuildKit(context, params, params.buildKit, onLine);
    const res = await this.call("POST", "/build", {
      query: { ...buildQuery(params), q: false },
      body: context,
      headers: { "content-type": "application/x-tar" },
      signal: params.signal,
    });
    const tail: string[] = [];
    let step: string | undefined;
    let imageId: string | undefined;
    try {
      imageId = await readBuildStream(res.body, tail, onLine, (s) => {
        step = s;
      });
    } catch (err) {
      if (err instanceof DockerBuildError) {
        // dockerd stopping kills the running step (137) and may report that before the stream
        // drops: a killed step is the engine going away when the engine no longer answers.
        if (/non-zero code: 137\b/.test(err.engineMessage)) {
          await new Promise((ok) => setTimeout(ok, 1_000));
          if (!(await this.answers()))
            throw new DockerUnreachableError(this.describe(), err.engineMessage, "during the build");
        }
        throw err;
      }
      // A dropped stream mid-build means the engine went away (stopped, restarted, crashed).
      if (isSocketError(err) || !(await this.answers()))
        throw new DockerUnreachableError(this.describe(), err, "during the build");
      throw err;
    }
    if (!imageId) {
      if (!(await this.answers()))
        throw new DockerUnreachableError(this.describe(), "the build stream ended early", "during the build");
      throw new DockerBuildError("the engine reported no image ID", step, tail.slice(-30));
    }
    return imageId.startsWith("sha256:") || imageId.length > 12 ? imageId : `sha256:${imageId}`;
  }

  /**
   * Why this engine cannot run a BuildKit build through the Engine API, or undefined when it can:
   * Docker Engine from API 1.39 (18.09) serves `POST /build?version=2` and `POST /session`;
   * Podman's compatible API (`Libpod-Api-Version` on `/_ping`) and older engines do not.
   */
  async buildKitProblem(): Promise<string | undefined> {
    const version = await this.version();
    const res = await this.raw("GET", "/_ping", {});
    await res.body.dump();
    const header = (k: string) => String(res.headers[k] ?? "");
    if (header("builder-version") === "2") return undefined;
    if (header("libpod-api-version") || /libpod|podman/i.test(header("server")))
      return `the engine at ${this.host} is Podman (${header("server") || "Libpod API"}), whose Docker-compatible API has no BuildKit`;
    if (compareVersions(header("api-version") || version, "1.39") < 0)
      return `the engine at ${this.host} speaks Engine API ${header("api-version") || version}; BuildKit through the API needs 1.39 (Docker 18.09) or newer`;
    return undefined;
  }

  /**
   * `POST /build?version=2` (BuildKit) with a tar context, and a session (`POST /session`, see
   * buildkit-session.ts) serving the build's secrets for as long as the build runs. Log lines are
   * decoded from BuildKit's trace; a failure is a DockerBuildError naming the failing step.
   */
  private async buildWithBuildKit(
    context: Readable,
    params: T.BuildParams,
    buildKit: T.BuildKitParams,
    onLine: (line: string) => void,
  ): Promise<string> {
    const problem = await this.buildKitProblem();
    if (problem) throw new DockerApiError(501, "POST", "/build?version=2", problem);
    const prefix = `/v${await this.version()}`;
    const pool = await this.dispatcher();
    let session: Awaited<ReturnType<typeof openBuildKitSession>>;
    try {
      session = await openBuildKitSession(
        pool,
        prefix,
        { secrets: buildKit.secrets ?? {}, sshAgentSocket: buildKit.sshAgentSocket },
        params.signal,
      );
    } catch (err) {
      if (isSocketError(err) && !(await this.answers())) throw new DockerUnreachableError(this.describe(), err);
      throw new DockerApiError(
        501,
        "POST",
        "/session",
        `the engine at ${this.host} did not open a BuildKit session (${(err as Error).message})`,
      );
    }
    try {
      const res = await this.call("POST", "/build", {
        query: { ...buildQuery(params), version: "2", session: session.id },
        body: context,
        headers: { "content-type": "application/x-tar" },
        signal: params.signal,
      });
      let imageId: string | undefined;
      try {
        imageId = await readBuildKitStream(res.body, onLine);
      } catch (err) {
        if (err instanceof DockerBuildError) throw err;
        if (isSocketError(err) || !(await this.answers()))
          throw new DockerUnreachableError(this.describe(), err, "during the build");
        throw err;
      }
      if (!imageId) {
        if (!(await this.answers()))
          throw new DockerUnreachableError(this.describe(), "the build stream ended early", "during the build");
        throw new DockerBuildError("the engine reported no image ID", undefined, []);
      }
      return imageId;
    } finally {
      await session.close();
    }
  }

  /**
   * `POST /build/prune`: removes BuildKit build cache records matching `filters` (e.g.
   * `{ until: ["10m"] }`; dockerd 20.10 accepts `until`, `id`, `parent`, `type`, `description`,
   * `inuse`, `shared`, `private`); resolves with the bytes reclaimed.
   */
  async pruneBuildCache(filters?: Record<string, string[]>, all = false): Promise<number> {
    const res = await this.json<{ SpaceReclaimed?: number }>("POST", "/build/prune", {
      query: { all, filters: filters && JSON.stringify(filters) },
    });
    return res?.SpaceReclaimed ?? 0;
  }

  /** True when the engine answers `/_ping` within a few seconds. */
  async answers(): Promise<boolean> {
    try {
      const res = await this.raw("GET", "/_ping", { signal: AbortSignal.timeout(3_000) });
      await res.body.dump();
      return res.statusCode === 200;
    } catch {
      return false;
    }
  }

  // ---- containers ------------------------------------------------------------------------

  async createContainer(name: string, spec: T.ContainerSpec): Promise<string> {
    const res = await this.json<{ Id: string }>("POST", "/containers/create", {
      query: { name },
      json: spec,
    });
    return res.Id;
  }

  startContainer(id: string): Promise<void> {
    return this.json("POST", `/containers/${encodeURIComponent(id)}/start`, {
      ok: [204, 304],
    });
  }

  stopContainer(id: string, timeoutSeconds = 10): Promise<void> {
    return this.json("POST", `/containers/${encodeURIComponent(id)}/stop`, {
      query: { t: timeoutSeconds },
      ok: [204, 304],
    });
  }

  /** `POST /containers/{id}/update`: changes resources or the restart policy of a container in place. */
  updateContainer(id: string, body: { RestartPolicy?: { Name: string; MaximumRetryCount?: number } }): Promise<void> {
    return this.json("POST", `/containers/${encodeURIComponent(id)}/update`, { json: body });
  }

  inspectContainer(id: string): Promise<T.ContainerInspect | undefined> {
    return this.jsonOrMissing("GET", `/containers/${encodeURIComponent(id)}/json`);
  }

  listContainers(filters: Record<string, string[]>, all = true): Promise<T.ContainerSummary[]> {
    return this.json("GET", "/containers/json", {
      query: { all, filters: JSON.stringify(filters) },
    });
  }

  /** Force-removes a container with its anonymous volumes; a missing one is not an error. */
  async removeContainer(id: string): Promise<boolean> {
    try {
      await this.json("DELETE", `/containers/${encodeURIComponent(id)}`, {
        query: { force: true, v: true },
      });
      return true;
    } catch (err) {
      if (err instanceof DockerApiError && err.statusCode === 404) return false;
      throw err;
    }
  }

  /** The last `tail` lines of a container's stdout and stderr, demultiplexed. */
  async containerLogs(id: string, tail = 50): Promise<string> {
    const info = await this.inspectContainer(id);
    if (!info) return "";
    const res = await this.call("GET", `/containers/${encodeURIComponent(id)}/logs`, {
      query: { stdout: true, stderr: true, tail },
    });
    const chunks: Buffer[] = [];
    for await (const c of res.body) chunks.push(c);
    const raw = Buffer.concat(chunks);
    return info.Config?.Tty ? raw.toString("utf8") : demuxLogs(raw);
  }

  /**
   * `POST /containers/{id}/attach` on a hijacked connection (call it before `startContainer`, so no
   * output is missed): the returned socket carries the container's multiplexed stdout and stderr
   * (see `FrameDemuxer`) and ends when the container exits.
   */
  async attachContainer(id: string, signal?: AbortSignal): Promise<Duplex> {
    const path = `/v${await this.version()}/containers/${encodeURIComponent(id)}/attach`;
    try {
      const pool = await this.dispatcher();
      const { socket } = await pool.upgrade({
        method: "POST",
        path: path + encodeQuery({ stream: true, stdout: true, stderr: true }),
        protocol: "tcp",
        signal,
      });
      return socket;
    } catch (err) {
      const code = (err as { code?: string }).code ?? "";
      if (/ECONNREFUSED|ENOENT|EACCES|UND_ERR_CONNECT/.test(code)) throw new DockerUnreachableError(this.host, err);
      throw err;
    }
  }

  /** `POST /containers/{id}/wait`: resolves with the exit code once the container is no longer running. */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number> {
    const res = await this.json<{ StatusCode: number; Error?: { Message?: string } | null }>(
      "POST",
      `/containers/${encodeURIComponent(id)}/wait`,
      { query: { condition: "not-running" }, signal },
    );
    return res.StatusCode;
  }

  // ---- networks and volumes ---------------------------------------------------------------

  inspectNetwork(name: string): Promise<T.NetworkInspect | undefined> {
    return this.jsonOrMissing("GET", `/networks/${encodeURIComponent(name)}`);
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    const res = await this.json<{ Id: string }>("POST", "/networks/create", {
      json: { Name: name, CheckDuplicate: true, Labels: labels },
    });
    return res.Id;
  }

  async removeNetwork(name: string): Promise<void> {
    await this.jsonOrMissing("DELETE", `/networks/${encodeURIComponent(name)}`);
  }

  listNetworks(filters: Record<string, string[]>): Promise<T.NetworkInspect[]> {
    return this.json("GET", "/networks", {
      query: { filters: JSON.stringify(filters) },
    });
  }

  async listVolumes(filters: Record<string, string[]>): Promise<T.VolumeSummary[]> {
    const res = await this.json<{ Volumes: T.VolumeSummary[] | null }>("GET", "/volumes", {
      query: { filters: JSON.stringify(filters) },
    });
    return res.Volumes ?? [];
  }

  async removeVolume(name: string): Promise<void> {
    await this.jsonOrMissing("DELETE", `/volumes/${encodeURIComponent(name)}`, {
      query: { force: true },
    });
  }
}

/** `X-Registry-Auth`: base64url JSON *with* padding (engines decode with Go's base64.URLEncoding, which requires it). */
function registryAuthHeader(auth: T.RegistryAuth): string {
  return Buffer.from(JSON.stringify(auth)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** `repo:tag` → [repo, tag]; a `:` inside the registry's host:port is not a tag. */
function splitTag(reference: string): [string, string | undefined] {
  const colon = reference.lastIndexOf(":");
  return colon > reference.lastIndexOf("/")
    ? [reference.slice(0, colon), reference.slice(colon + 1)]
    : [reference, undefined];
}

/** The `POST /build` query both builders share (tags, Dockerfile, args, labels, network, cache, platform, target). */
function buildQuery(params: T.BuildParams) {
  return {
    t: params.tags,
    dockerfile: params.dockerfile,
    buildargs: params.buildArgs && JSON.stringify(params.buildArgs),
    labels: params.labels && JSON.stringify(params.labels),
    networkmode: params.networkMode,
    nocache: params.noCache || undefined,
    platform: params.platform,
    target: params.target,
    rm: true,
    forcerm: true,
  };
}
