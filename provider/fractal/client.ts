/**
 * A small fractal-server REST client over undici (target: fractal-server 2.24.4; the read shapes of
 * 2.18.5 are accepted too: `user_id` instead of `user_email`, optional `version`): password login
 * with re-login on 401 (tokens last `JWT_EXPIRE_SECONDS`, 180 s by default), or a bearer token given
 * by the user (servers with `FRACTAL_DISABLE_BASIC_AUTH=true`: never logs in), task collection (pip
 * multipart with wheel upload, custom JSON), task-group reads, lifecycle operations and
 * activity polling with a timeout. All routes with trailing slashes.
 */
import { Blob } from "node:buffer";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { Agent, FormData, request } from "undici";
import { TesseractPulumiError, UserError } from "../common/errors";
import type { Progress } from "../common/log";
import type { TaskInfo, TaskType } from "./schemas";

/**
 * How to reach a fractal-server and as whom: `email` + `password` (the client logs in), or a bearer
 * `token` obtained elsewhere (sent as is; never a login). `check` lets exactly one of them through.
 */
export interface ServerCredentials {
  url: string;
  email?: string;
  password?: string;
  token?: string;
}

export interface ActivityRead {
  id: number;
  user_id: number;
  taskgroupv2_id: number | null;
  timestamp_started: string;
  timestamp_ended: string | null;
  pkg_name: string;
  version: string;
  status: "pending" | "ongoing" | "OK" | "failed";
  action: "collect" | "deactivate" | "reactivate" | "delete" | "reset";
  log: string | null;
}

export interface TaskRead {
  id: number;
  name: string;
  type: TaskType;
  /** Required since 2.23 (`null` possible on 2.18). */
  version?: string | null;
  /** Since 2.19. */
  is_core?: boolean;
  command_non_parallel?: string | null;
  command_parallel?: string | null;
  meta_non_parallel?: Record<string, unknown> | null;
  meta_parallel?: Record<string, unknown> | null;
  args_schema_non_parallel?: Record<string, unknown> | null;
  args_schema_parallel?: Record<string, unknown> | null;
  args_schema_version?: string | null;
  docs_info?: string | null;
  docs_link?: string | null;
  input_types: Record<string, boolean>;
  output_types: Record<string, boolean>;
  taskgroupv2_id?: number | null;
  category?: string | null;
  modality?: string | null;
  authors?: string | null;
  tags: string[];
}

/** `GET /api/v2/task-group/{id}/` (`TaskGroupRead`). */
export interface TaskGroupRead {
  id: number;
  task_list: TaskRead[];
  /** The owner's e-mail (2.19+; 2.18 sends `user_id` instead). */
  user_email?: string;
  /** The owner's id (2.18 only). */
  user_id?: number;
  user_group_id: number | null;
  origin: "pypi" | "wheel-file" | "pixi" | "other";
  pkg_name: string;
  /** Required since 2.23. */
  version: string | null;
  python_version: string | null;
  /** Set for `origin: "pixi"` groups. */
  pixi_version?: string | null;
  path: string | null;
  venv_path: string | null;
  archive_path: string | null;
  pip_extras: string | null;
  pinned_package_versions_pre: Record<string, string>;
  pinned_package_versions_post: Record<string, string>;
  active: boolean;
  /** Whether workflows use its tasks (2.19+). */
  in_use?: boolean;
  timestamp_created: string;
  timestamp_last_used: string;
}

/** `TaskReadSlim` (2.19+): what the group list carries per task (no commands, metas or schemas). */
export type TaskReadSlim = Pick<TaskRead, "id" | "name"> & Partial<TaskRead>;

/** An item of `GET /api/v2/task-group/` (`TaskGroupReadSlim` on 2.19+): read the group for full tasks. */
export type TaskGroupListItem = Omit<TaskGroupRead, "task_list"> & { task_list: TaskReadSlim[] };

/**
 * An HTTP error from fractal-server, with its status and `detail`. Not a `UserError`: a 5xx is
 * the server's own failure (`serverSide`), and the 4xx answers the provider expects from user
 * input are turned into errors naming the input where they are expected.
 */
export class FractalHttpError extends TesseractPulumiError {
  constructor(
    readonly status: number,
    readonly detail: string,
    what: string,
  ) {
    super(`fractal-server: ${what} answered ${status}: ${detail}`);
    this.name = "FractalHttpError";
  }

  /** True when the server failed (5xx): retrying or the server's log helps, not the inputs. */
  get serverSide(): boolean {
    return this.status >= 500;
  }
}

/** What to do when the server refuses a bearer token. */
export const TOKEN_REFUSED_HINT =
  "give a new token: set server.token (or `pulumi config set --secret fractal:token ...`) and run `pulumi up` again; fractal-server tokens last JWT_EXPIRE_SECONDS (180 s unless the server sets more)";

/**
 * fractal-server refused the account in `server`: the login (email, password), a server without
 * password login, or the bearer token (invalid or expired). Never carries the password or token.
 */
export class FractalLoginError extends UserError {
  constructor(message: string, details: { property?: string; hint?: string } = {}) {
    super(message, {
      property: details.property ?? "server",
      hint: details.hint ?? "check the server's email and password (fractal:email / fractal:password)",
    });
    this.name = "FractalLoginError";
  }
}

type Body = { json: unknown } | { form: FormData } | { urlencoded: Record<string, string> } | undefined;

export interface PipCollectRequest {
  package?: string;
  packageVersion?: string;
  packageExtras?: string;
  pythonVersion?: string;
  pinnedPackageVersionsPre?: Record<string, string>;
  pinnedPackageVersionsPost?: Record<string, string>;
  wheelFile?: string;
}

export interface Ownership {
  privateGroup?: boolean;
  userGroupId?: number;
}

const agents = new Map<string, Agent>();
function agentFor(origin: string): Agent {
  let a = agents.get(origin);
  if (!a) {
    a = new Agent({ connectTimeout: 10_000, headersTimeout: 120_000, bodyTimeout: 120_000, keepAliveTimeout: 4_000 });
    agents.set(origin, a);
  }
  return a;
}

function detailText(body: unknown): string {
  if (body && typeof body === "object" && "detail" in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      return d
        .map((x) =>
          x && typeof x === "object"
            ? `${(x as { loc?: unknown[] }).loc?.join(".") ?? ""}: ${(x as { msg?: string }).msg ?? JSON.stringify(x)}`
            : String(x),
        )
        .join("; ");
    }
    return JSON.stringify(d);
  }
  return typeof body === "string" ? body : JSON.stringify(body);
}

export class FractalClient {
  private token?: string;
  private readonly base: string;
  /** True when the user gave the token (`server.token`): it is sent as is, never renewed by a login. */
  private readonly bearer: boolean;
  constructor(private readonly creds: ServerCredentials) {
    this.base = creds.url.replace(/\/+$/, "");
    this.bearer = creds.token !== undefined;
    this.token = creds.token;
  }

  /** `POST /auth/token/login/` (form `username`, `password`). */
  async login(): Promise<void> {
    if (this.bearer) throw this.tokenRefused(401, "no password login with a bearer token");
    if (!this.creds.email || !this.creds.password) {
      throw new FractalLoginError(
        `fractal-server at ${this.base}: no account to log in with (give server.email and server.password, or server.token)`,
      );
    }
    const res = await this.raw(
      "POST",
      "/auth/token/login/",
      { urlencoded: { username: this.creds.email, password: this.creds.password } },
      false,
    );
    if (res.status === 404 || res.status === 405) {
      // fractal-server >= 2.20.2 with FRACTAL_DISABLE_BASIC_AUTH=true drops the route (OAuth only).
      const hint =
        "give a bearer token obtained from the server's OAuth login instead of email/password: server.token (or `pulumi config set --secret fractal:token ...`)";
      throw new FractalLoginError(
        `fractal-server at ${this.base} has no password login (POST /auth/token/login/ answered ${res.status}: ${detailText(res.body)}; the server runs with FRACTAL_DISABLE_BASIC_AUTH=true), so ${this.creds.email} cannot log in with a password (fix: ${hint})`,
        { property: "server.token", hint },
      );
    }
    if (res.status !== 200) {
      throw new FractalLoginError(
        `fractal-server at ${this.base} refused the login of ${this.creds.email} (${res.status}: ${detailText(res.body)}); check fractal:email / fractal:password`,
      );
    }
    this.token = (res.body as { access_token: string }).access_token;
  }

  /** The error for a refused bearer token: says so and how to give a new one (never the token). */
  private tokenRefused(status: number, detail: string): FractalLoginError {
    return new FractalLoginError(
      `fractal-server at ${this.base} refused the bearer token (${status}: ${detail}): it is invalid or has expired (fix: ${TOKEN_REFUSED_HINT})`,
      { property: "server.token", hint: TOKEN_REFUSED_HINT },
    );
  }

  private async raw(method: string, p: string, body: Body, auth: boolean): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (auth && this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | FormData | undefined;
    if (body && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body && "urlencoded" in body) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      payload = new URLSearchParams(body.urlencoded).toString();
    } else if (body && "form" in body) {
      payload = body.form;
    }
    let res: Awaited<ReturnType<typeof request>> | undefined;
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await request(`${this.base}${p}`, {
          method: method as "GET",
          headers,
          body: payload,
          dispatcher: agentFor(this.base),
        });
      } catch (err) {
        // A kept-alive connection the server closed just as it was reused (uvicorn drops idle ones
        // after 5 s): the request never reached the application, so it is sent once more.
        const code = (err as { code?: string }).code;
        if (attempt === 0 && (code === "UND_ERR_SOCKET" || code === "ECONNRESET")) continue;
        throw new UserError(`cannot reach fractal-server at ${this.base} (${method} ${p}): ${(err as Error).message}`);
      }
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep text
    }
    return { status: res.statusCode, body: parsed };
  }

  /**
   * An authenticated call; with a password, logs in when needed and once more on 401 (expired
   * token). A bearer token the server refuses is an error (a new login cannot renew it).
   */
  async call<T>(method: string, p: string, body?: Body | (() => Body), expect: number[] = [200]): Promise<T> {
    if (!this.token) await this.login();
    const make = () => (typeof body === "function" ? body() : body);
    let res = await this.raw(method, p, make(), true);
    if (res.status === 401 && this.bearer) throw this.tokenRefused(res.status, detailText(res.body));
    if (res.status === 401) {
      await this.login();
      res = await this.raw(method, p, make(), true);
    }
    if (!expect.includes(res.status)) throw new FractalHttpError(res.status, detailText(res.body), `${method} ${p}`);
    return res.body as T;
  }

  async alive(): Promise<{ alive: boolean; version: string }> {
    const res = await this.raw("GET", "/api/alive/", undefined, false);
    return res.body as { alive: boolean; version: string };
  }

  async currentUser(): Promise<{ id: number; email: string }> {
    return this.call("GET", "/auth/current-user/");
  }

  private static ownershipQuery(o: Ownership): string {
    if (o.privateGroup) return "?private=true";
    if (o.userGroupId !== undefined) return `?user_group_id=${o.userGroupId}`;
    return "";
  }

  /** `POST /api/v2/task/collect/pip/` (multipart; the wheel is uploaded). Returns the 202 activity. */
  async collectPip(req: PipCollectRequest, own: Ownership): Promise<ActivityRead> {
    const wheel = req.wheelFile ? await fs.readFile(req.wheelFile) : undefined;
    const form = () => {
      const f = new FormData();
      if (req.package !== undefined) f.set("package", req.package);
      if (req.packageVersion !== undefined) f.set("package_version", req.packageVersion);
      if (req.packageExtras !== undefined) f.set("package_extras", req.packageExtras);
      if (req.pythonVersion !== undefined) f.set("python_version", req.pythonVersion);
      if (req.pinnedPackageVersionsPre && Object.keys(req.pinnedPackageVersionsPre).length) {
        f.set("pinned_package_versions_pre", JSON.stringify(req.pinnedPackageVersionsPre));
      }
      if (req.pinnedPackageVersionsPost && Object.keys(req.pinnedPackageVersionsPost).length) {
        f.set("pinned_package_versions_post", JSON.stringify(req.pinnedPackageVersionsPost));
      }
      if (wheel && req.wheelFile) {
        f.set(
          "file",
          new Blob([wheel], { type: "application/octet-stream" }) as unknown as globalThis.Blob,
          path.basename(req.wheelFile),
        );
      }
      return { form: f };
    };
    return this.call("POST", `/api/v2/task/collect/pip/${FractalClient.ownershipQuery(own)}`, form, [202]);
  }

  /** `POST /api/v2/task/collect/custom/` (JSON). Returns the created tasks (201). */
  async collectCustom(body: Record<string, unknown>, own: Ownership): Promise<TaskRead[]> {
    return this.call("POST", `/api/v2/task/collect/custom/${FractalClient.ownershipQuery(own)}`, { json: body }, [201]);
  }

  async activity(id: number): Promise<ActivityRead> {
    return this.call("GET", `/api/v2/task-group/activity/${id}/`);
  }

  async activities(query: Record<string, string | number>): Promise<ActivityRead[]> {
    const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    return this.call("GET", `/api/v2/task-group/activity/?${q}`);
  }

  /** `GET /api/v2/task-group/{id}/`; undefined on 404. */
  async taskGroup(id: number): Promise<TaskGroupRead | undefined> {
    try {
      return await this.call<TaskGroupRead>("GET", `/api/v2/task-group/${id}/`);
    } catch (err) {
      if (err instanceof FractalHttpError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * `GET /api/v2/task-group/?only_owner=true` flattened (the server answers `[pkg_name, groups[]]`
   * pairs). Since 2.19 its tasks are `TaskReadSlim`: use `taskGroup(id)` for commands and schemas.
   */
  async taskGroups(): Promise<TaskGroupListItem[]> {
    const pairs = await this.call<[string, TaskGroupListItem[]][]>("GET", "/api/v2/task-group/?only_owner=true");
    return pairs.flatMap(([, groups]) => groups);
  }

  async lifecycle(id: number, op: "deactivate" | "reactivate" | "delete"): Promise<ActivityRead> {
    return this.call("POST", `/api/v2/task-group/${id}/${op}/`, undefined, [202]);
  }

  async patchUserGroup(id: number, userGroupId: number | null): Promise<TaskGroupRead> {
    return this.call("PATCH", `/api/v2/task-group/${id}/`, { json: { user_group_id: userGroupId } });
  }

  /** Polls an activity until `OK` or `failed`, reporting status changes and new log lines. */
  async waitActivity(activity: ActivityRead, timeoutMs: number, progress: Progress): Promise<ActivityRead> {
    const deadline = Date.now() + timeoutMs;
    let cur = activity;
    let lastStatus = "";
    let logLen = 0;
    let delay = 500;
    while (cur.status !== "OK" && cur.status !== "failed") {
      if (Date.now() > deadline) {
        throw new UserError(
          `fractal-server activity ${cur.id} (${cur.action} ${cur.pkg_name}==${cur.version}) still '${cur.status}' after ${Math.round(timeoutMs / 1000)} s (raise timeoutSeconds)`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 1.5, 3000);
      cur = await this.activity(cur.id);
      if (cur.status !== lastStatus) {
        progress.info(`activity ${cur.id} ${cur.action}: ${cur.status}`);
        lastStatus = cur.status;
      }
      const log = cur.log ?? "";
      if (log.length > logLen) {
        for (const line of log.slice(logLen).split("\n")) {
          if (/ - (INFO|WARNING|ERROR) - /.test(line)) progress.info(line.replace(/^.* - (INFO|WARNING|ERROR) - /, ""));
        }
        logLen = log.length;
      }
    }
    return cur;
  }
}

/** TaskRead → the resource's task shape (nulls dropped). */
export function taskFromRead(t: TaskRead): TaskInfo {
  const v = <T>(x: T | null | undefined): T | undefined => (x === null ? undefined : x);
  return {
    name: t.name,
    type: t.type,
    commandNonParallel: v(t.command_non_parallel),
    commandParallel: v(t.command_parallel),
    metaNonParallel: t.command_non_parallel == null ? undefined : (v(t.meta_non_parallel) ?? {}),
    metaParallel: t.command_parallel == null ? undefined : (v(t.meta_parallel) ?? {}),
    argsSchemaNonParallel: v(t.args_schema_non_parallel),
    argsSchemaParallel: v(t.args_schema_parallel),
    argsSchemaVersion: v(t.args_schema_version),
    inputTypes: t.input_types ?? {},
    outputTypes: t.output_types ?? {},
    category: v(t.category),
    modality: v(t.modality),
    tags: t.tags ?? [],
    authors: v(t.authors),
    docsInfo: v(t.docs_info),
    docsLink: v(t.docs_link),
    version: v(t.version),
  };
}
