/**
 * TaskGroup provider implementation (loaded by package name from the provider shim): Fractal
 * task collection against a real fractal-server (REST) or locally (embedded collector).
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { type CheckFailure, withoutUnknowns, zodFailures } from "../common/check";
import { UserError } from "../common/errors";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { containsUnknown } from "../common/unknown";
import {
  type ActivityRead,
  FractalClient,
  FractalHttpError,
  type ServerCredentials,
  type TaskGroupRead,
  taskFromRead,
} from "../fractal/client";
import type { DriftItem } from "../fractal/drift";
import {
  localDrift,
  localRecordedFreeze,
  repairLocal,
  repairServer,
  serverDrift,
  serverRecordedFreeze,
} from "../fractal/drift-repair";
import {
  collectCustomLocal,
  collectPipLocal,
  customManifest,
  deactivateLocal,
  defaultTasksDir,
  deleteLocal,
  fileSha256,
  type GroupState,
  inspectLocal,
  type LocalOptions,
  reactivateLocal,
  tail,
} from "../fractal/local";
import { findPixiGroup } from "../fractal/origins";
import { localPreviewFailures, serverPreviewFailures } from "../fractal/preview-checks";
import {
  type CustomSpec,
  type PipSpec,
  parseManifest,
  type TaskGroupInputs,
  TaskGroupInputsSchema,
} from "../fractal/schemas";
import { normalizePackageName, parseWheelFilename } from "../fractal/validators";

/** Inputs after `check` (defaults applied, content hashes added). */
export type CheckedInputs = TaskGroupInputs & { wheelSha256?: string; manifestSha256?: string };

/** State stored by the provider: the checked inputs plus the collected group. */
export interface TaskGroupOutputs extends CheckedInputs, GroupState {
  resolvedBackend: "server" | "local";
  serverUrl?: string;
  serverEmail?: string;
  /** `pip freeze --all` recorded at collection (what drift is measured against and repairs restore). */
  envInfo?: string;
  /** What `read` found changed since the collection (repaired by the next update). */
  drift?: DriftItem[];
}

const DEFAULT_STEP_TIMEOUT_S = 600;
const DEFAULT_TIMEOUT_S = 1800;

// ---- provider configuration ----------------------------------------------------------------

let config: Partial<ServerCredentials> = {};

/** Records `fractal:url`, `fractal:email`, `fractal:password` from the stack configuration. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const get = (k: string) => {
    try {
      return req.config.get(k) || undefined;
    } catch {
      return undefined;
    }
  };
  config = { url: get("fractal:url"), email: get("fractal:email"), password: get("fractal:password") };
}

function configFromEnv(): Partial<ServerCredentials> {
  try {
    const c = JSON.parse(process.env.PULUMI_CONFIG || "{}") as Record<string, string>;
    return { url: c["fractal:url"], email: c["fractal:email"], password: c["fractal:password"] };
  } catch {
    return {};
  }
}

function providerConfig(): Partial<ServerCredentials> {
  const env = configFromEnv();
  return { url: config.url ?? env.url, email: config.email ?? env.email, password: config.password ?? env.password };
}

function resolveBackend(inputs: Pick<CheckedInputs, "backend" | "server">): "server" | "local" {
  if (inputs.backend === "server" || inputs.backend === "local") return inputs.backend;
  return inputs.server || providerConfig().url ? "server" : "local";
}

function credentials(inputs: Pick<CheckedInputs, "server">): ServerCredentials {
  if (inputs.server) return inputs.server;
  const c = providerConfig();
  const missing = (["url", "email", "password"] as const).filter((k) => !c[k]);
  if (missing.length) {
    throw new UserError(
      `the server backend needs fractal:${missing.join(", fractal:")} in the stack config (pulumi config set fractal:password --secret ...) or a \`server\` input`,
    );
  }
  return c as ServerCredentials;
}

/** Credentials for the checks at `check`, when complete (undefined otherwise: nothing is checked). */
function checkCredentials(inputs: Pick<CheckedInputs, "server">): ServerCredentials | undefined {
  try {
    return credentials(inputs);
  } catch {
    return undefined;
  }
}

function progressFor(inputs: Partial<CheckedInputs>, label: string): Progress {
  const secrets = [inputs.server?.password, config.password, configFromEnv().password];
  return new Progress(`TaskGroup ${label}`, secrets);
}

function labelOf(inputs: Partial<CheckedInputs>): string {
  if (inputs.custom) return inputs.custom.label ?? "custom";
  if (inputs.pixi) return `${inputs.pixi.package} (pixi)`;
  if (inputs.pip?.wheelFile) return path.basename(inputs.pip.wheelFile);
  return inputs.pip?.package ?? "task group";
}

// ---- check ---------------------------------------------------------------------------------

export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const raw = { ...news };
  delete raw.__provider;
  const hasUnknowns = containsUnknown(raw);
  const known = withoutUnknowns(raw);
  const parsed = TaskGroupInputsSchema.safeParse(known);
  const failures: CheckFailure[] = [];
  if (!parsed.success) {
    // With unknowns, rules about missing values may fire for values that are merely not known yet.
    const maybeUnknown = (i: (typeof parsed.error.issues)[number]) =>
      (i.code === "invalid_type" && (i as { input?: unknown }).input === undefined) ||
      /neither|is required/.test(i.message);
    const issues = hasUnknowns ? parsed.error.issues.filter((i) => !maybeUnknown(i)) : parsed.error.issues;
    if (issues.length)
      failures.push(...zodFailures({ ...parsed.error, issues } as typeof parsed.error, known, "", ["server"]));
    return { inputs: news, failures };
  }
  if (hasUnknowns) return { inputs: news };
  const inputs: CheckedInputs = parsed.data;
  if (inputs.pip?.wheelFile) {
    try {
      parseWheelFilename(path.basename(inputs.pip.wheelFile));
      inputs.wheelSha256 = await fileSha256(inputs.pip.wheelFile);
    } catch (err) {
      failures.push({ property: "pip.wheelFile", reason: `pip.wheelFile: ${(err as Error).message}` });
    }
  }
  if (inputs.custom) {
    if (typeof inputs.custom.manifest === "string") {
      try {
        await customManifest(inputs.custom);
        inputs.manifestSha256 = await fileSha256(inputs.custom.manifest);
      } catch (err) {
        failures.push({ property: "custom.manifest", reason: `custom.manifest: ${(err as Error).message}` });
      }
    } else {
      const { problems } = parseManifest(inputs.custom.manifest);
      for (const p of problems) failures.push({ property: "custom.manifest", reason: `custom.${p}` });
    }
  }
  if (failures.length) return { inputs: news, failures };
  // What the server (or this machine) would refuse at `up`: fail the preview instead.
  failures.push(
    ...(resolveBackend(inputs) === "server"
      ? await serverPreviewFailures(inputs, checkCredentials(inputs))
      : localPreviewFailures(inputs)),
  );
  if (failures.length) return { inputs: news, failures };
  return { inputs: toPlainJson(inputs) as Record<string, unknown> };
}

// ---- diff ----------------------------------------------------------------------------------

/** Inputs whose change replaces the group. */
const REPLACE_KEYS = [
  "pip",
  "custom",
  "pixi",
  "privateGroup",
  "tasksDir",
  "pythonInterpreters",
  "wheelSha256",
  "manifestSha256",
] as const;
/** Inputs that are applied in place (or only stored). */
const UPDATE_KEYS = [
  "active",
  "userGroupId",
  "pipIndexUrl",
  "pipExtraIndexUrls",
  "pipFindLinks",
  "pipNoIndex",
  "stepTimeoutSeconds",
  "timeoutSeconds",
  "backend",
] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a) ?? null) === JSON.stringify(canonical(b) ?? null);
}
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined && x !== null)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}

/** (pkgName, version) the new inputs lead to, when known without network access. */
function newIdentity(news: CheckedInputs): { pkgName?: string; version?: string } {
  if (news.custom) return { pkgName: news.custom.label, version: news.custom.version };
  if (news.pixi) return { pkgName: normalizePackageName(news.pixi.package), version: news.pixi.version };
  if (news.pip?.wheelFile) {
    try {
      const w = parseWheelFilename(path.basename(news.pip.wheelFile));
      return { pkgName: w.pkgName, version: w.version };
    } catch {
      return {};
    }
  }
  if (news.pip?.package && typeof news.pip.package === "string")
    return { pkgName: normalizePackageName(news.pip.package), version: news.pip.packageVersion };
  return {};
}

export async function diff(
  _id: string,
  olds: TaskGroupOutputs,
  news: CheckedInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces: string[] = [];
  const changed: string[] = [];
  for (const k of REPLACE_KEYS) if (!same(olds[k], news[k])) replaces.push(k);
  for (const k of UPDATE_KEYS) if (!same(olds[k], news[k])) changed.push(k);
  const backend = containsUnknown(news.backend) || containsUnknown(news.server) ? "unknown" : resolveBackend(news);
  if (backend !== olds.resolvedBackend) replaces.push("backend");
  const oldServer = olds.server ? { url: olds.server.url, email: olds.server.email } : undefined;
  const newServer =
    news.server && typeof news.server === "object" ? { url: news.server.url, email: news.server.email } : news.server;
  if (!same(oldServer, newServer)) replaces.push("server");
  else if (!same(olds.server, news.server)) changed.push("server");
  if (
    backend === "server" &&
    !news.server &&
    olds.serverUrl &&
    !containsUnknown(news) &&
    providerConfig().url &&
    providerConfig().url !== olds.serverUrl
  ) {
    replaces.push("fractal:url");
  }
  // Drift found by `read` (refresh): repaired in place, or by replacing what cannot be.
  if (olds.drift?.some((d) => d.repair === "replace")) replaces.push("drift");
  else if (olds.drift?.length) changed.push("drift");
  if (replaces.length === 0) return { changes: changed.length > 0 };
  const id = newIdentity(news);
  // Same (pkg, version) ⇒ same folder / same server identity: the old group must go first.
  const sameIdentity = id.pkgName === olds.pkgName && (id.version === undefined || id.version === olds.version);
  return { changes: true, replaces, deleteBeforeReplace: sameIdentity || replaces.includes("tasksDir") };
}

// ---- helpers --------------------------------------------------------------------------------

function localOptions(inputs: CheckedInputs, progress: Progress): LocalOptions {
  return {
    tasksDir: inputs.tasksDir ?? defaultTasksDir(),
    pythonInterpreters: inputs.pythonInterpreters,
    pipIndexUrl: inputs.pipIndexUrl,
    pipExtraIndexUrls: inputs.pipExtraIndexUrls,
    pipFindLinks: inputs.pipFindLinks,
    pipNoIndex: inputs.pipNoIndex,
    stepTimeoutMs: (inputs.stepTimeoutSeconds ?? DEFAULT_STEP_TIMEOUT_S) * 1000,
    progress,
  };
}

function stateFromRead(g: TaskGroupRead, log: string): GroupState {
  const n = <T>(x: T | null): T | undefined => (x === null ? undefined : x);
  return {
    taskGroupId: g.id,
    origin: g.origin,
    pixiVersion: n(g.pixi_version ?? null),
    pkgName: g.pkg_name,
    version: n(g.version),
    pythonVersion: n(g.python_version),
    path: n(g.path),
    venvPath: n(g.venv_path),
    archivePath: n(g.archive_path),
    pipExtras: n(g.pip_extras),
    pinnedPackageVersionsPre: g.pinned_package_versions_pre ?? {},
    pinnedPackageVersionsPost: g.pinned_package_versions_post ?? {},
    active: g.active,
    serverUserGroupId: g.user_group_id,
    tasks: [...g.task_list].sort((a, b) => a.id - b.id).map(taskFromRead),
    activityLog: tail(log),
  };
}

function groupState(o: TaskGroupOutputs): GroupState {
  return {
    taskGroupId: o.taskGroupId,
    origin: o.origin,
    pkgName: o.pkgName,
    version: o.version,
    pythonVersion: o.pythonVersion,
    path: o.path,
    venvPath: o.venvPath,
    archivePath: o.archivePath,
    pipExtras: o.pipExtras,
    pinnedPackageVersionsPre: o.pinnedPackageVersionsPre,
    pinnedPackageVersionsPost: o.pinnedPackageVersionsPost,
    active: o.active,
    tasks: o.tasks,
    activityLog: o.activityLog,
    serverUserGroupId: o.serverUserGroupId,
    pixiVersion: o.pixiVersion,
  };
}

function outputs(
  inputs: CheckedInputs,
  state: GroupState,
  backend: "server" | "local",
  creds?: ServerCredentials,
  envInfo?: string,
): TaskGroupOutputs {
  return toPlainJson({
    ...inputs,
    ...state,
    resolvedBackend: backend,
    serverUrl: creds?.url,
    serverEmail: creds?.email,
    envInfo,
  });
}

function failedActivityError(what: string, a: ActivityRead): UserError {
  return new UserError(
    `fractal-server ${a.action} of ${a.pkg_name}==${a.version} failed (activity ${a.id}); the server removed what it had started.\n--- activity log (tail) ---\n${tail(a.log ?? "", 3000)}`.replace(
      "fractal-server",
      `fractal-server ${what}:`,
    ),
  );
}

/** 2.24: `User '<email>' already owns a task group with name='x' and version='1.0'.` (2.18: also `version=None`). */
const ALREADY_OWNS = /already owns a task group with name='([^']*)' and version=(?:'([^']*)'|None)/;

/** When the user already owns (pkg, version): adopt only an exact match. */
async function adoptExisting(
  client: FractalClient,
  err: FractalHttpError,
  inputs: CheckedInputs,
  progress: Progress,
): Promise<TaskGroupRead | undefined> {
  const m = ALREADY_OWNS.exec(err.detail);
  if (!m) return undefined;
  const [, pkgName, version] = m;
  const groups = await client.taskGroups();
  const me = await client.currentUser();
  // Owner: `user_email` since 2.19, `user_id` on 2.18.
  const owned = groups.find(
    (x) =>
      x.pkg_name === pkgName &&
      (x.version ?? undefined) === version &&
      (x.user_email !== undefined ? x.user_email === me.email : x.user_id === me.id),
  );
  // The list carries slim tasks (no commands) since 2.19: read the whole group.
  const g = owned && (await client.taskGroup(owned.id));
  if (!g) return undefined;
  const mismatches: string[] = [];
  const want = (label: string, actual: unknown, expected: unknown) => {
    if (!same(actual, expected))
      mismatches.push(
        `${label}: server has ${JSON.stringify(actual ?? null)}, wanted ${JSON.stringify(expected ?? null)}`,
      );
  };
  if (inputs.pip) {
    want("origin", g.origin, inputs.pip.wheelFile ? "wheel-file" : "pypi");
    want("pip_extras", g.pip_extras, inputs.pip.packageExtras);
    if (inputs.pip.pythonVersion) want("python_version", g.python_version, inputs.pip.pythonVersion);
    want("pinned_package_versions_pre", g.pinned_package_versions_pre, inputs.pip.pinnedPackageVersionsPre ?? {});
    want("pinned_package_versions_post", g.pinned_package_versions_post, inputs.pip.pinnedPackageVersionsPost ?? {});
    if (inputs.pip.wheelFile)
      want("wheel", g.archive_path ? path.basename(g.archive_path) : null, path.basename(inputs.pip.wheelFile));
  } else if (inputs.custom) {
    want("origin", g.origin, "other");
    const cmd = g.task_list[0]?.command_non_parallel ?? g.task_list[0]?.command_parallel ?? "";
    if (!cmd.startsWith(`${inputs.custom.pythonInterpreter} `))
      want("python interpreter", cmd.split(" ")[0], inputs.custom.pythonInterpreter);
  }
  if (mismatches.length) {
    throw new UserError(
      `fractal-server: user already owns task group ${g.id} (${pkgName}==${version}) with different settings (${mismatches.join("; ")}); ` +
        "delete it on the server, or collect another version",
    );
  }
  progress.warn(
    `adopting existing task group ${g.id} (${pkgName}==${version}): it matches the requested collection exactly`,
  );
  return g;
}

async function waitOk(
  client: FractalClient,
  a: ActivityRead,
  inputs: CheckedInputs,
  progress: Progress,
  what: string,
): Promise<ActivityRead> {
  const done = await client.waitActivity(a, (inputs.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000, progress);
  if (done.status === "failed") throw failedActivityError(what, done);
  return done;
}

async function setActiveServer(
  client: FractalClient,
  id: number,
  active: boolean,
  inputs: CheckedInputs,
  progress: Progress,
): Promise<string> {
  const a = await client.lifecycle(id, active ? "reactivate" : "deactivate");
  const done = await waitOk(client, a, inputs, progress, active ? "reactivation" : "deactivation");
  return done.log ?? "";
}

// ---- create / read / update / delete ------------------------------------------------------

async function createServer(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
  const creds = credentials(inputs);
  const client = new FractalClient(creds);
  const own = { privateGroup: inputs.privateGroup, userGroupId: inputs.userGroupId };
  let group: TaskGroupRead | undefined;
  let log = "";
  let fullLog = "";
  try {
    if (inputs.pixi) {
      // Never created here (refused at check): adopted on an exact match only.
      const found = await findPixiGroup(client, inputs.pixi, creds.url);
      if (!found.group) throw new UserError(found.problem ?? "pixi group not found");
      group = found.group;
      progress.warn(`adopting pixi task group ${group.id} (${group.pkg_name}==${group.version})`);
      log = `adopted pixi task group ${group.id}`;
    } else if (inputs.pip) {
      const pip = inputs.pip as PipSpec;
      progress.info(`collecting on ${creds.url}`);
      const a = await client.collectPip(pip, own);
      progress.info(`collection accepted: activity ${a.id}, task group ${a.taskgroupv2_id}`);
      const done = await waitOk(client, a, inputs, progress, "collection");
      log = done.log ?? "";
      fullLog = log;
      group = await client.taskGroup(done.taskgroupv2_id ?? a.taskgroupv2_id ?? -1);
      if (!group)
        throw new UserError(
          `fractal-server reported collection activity ${a.id} OK, but task group ${a.taskgroupv2_id} is not readable`,
        );
    } else {
      const c = inputs.custom as CustomSpec;
      const { raw } = await customManifest(c);
      const body: Record<string, unknown> = { manifest: raw, python_interpreter: c.pythonInterpreter, label: c.label };
      if (c.packageRoot) body.package_root = c.packageRoot;
      if (c.packageName) body.package_name = c.packageName;
      body.version = c.version; // required since 2.23 (check enforces it)
      const tasks = await client.collectCustom(body, own);
      const id =
        tasks[0]?.taskgroupv2_id ??
        (await client.taskGroups()).find((g) => g.pkg_name === c.label && (g.version ?? undefined) === c.version)?.id;
      group = id != null ? await client.taskGroup(id) : undefined;
      if (!group)
        throw new UserError(
          `fractal-server accepted the custom collection of ${c.label} but the task group cannot be found`,
        );
      log = `custom collection: ${tasks.length} tasks registered`;
    }
  } catch (err) {
    if (!(err instanceof FractalHttpError) || err.status !== 422) throw err;
    const adopted = await adoptExisting(client, err, inputs, progress);
    if (!adopted) throw err;
    group = adopted;
    log = `adopted existing task group ${adopted.id}`;
  }
  if (group.active !== inputs.active) {
    log += `\n${await setActiveServer(client, group.id, inputs.active, inputs, progress)}`;
    group = (await client.taskGroup(group.id)) ?? group;
  }
  const envInfo = await serverRecordedFreeze(client, group, fullLog);
  return outputs(inputs, stateFromRead(group, log), "server", creds, envInfo);
}

async function createLocal(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
  if (inputs.privateGroup !== undefined || inputs.userGroupId !== undefined) {
    progress.warn("privateGroup / userGroupId only apply to the server backend; ignored locally");
  }
  const o = localOptions(inputs, progress);
  let state = inputs.pip
    ? await collectPipLocal(inputs.pip, o)
    : await collectCustomLocal(inputs.custom as CustomSpec, o);
  const envInfo = await localRecordedFreeze(state);
  if (!inputs.active) state = await deactivateLocal(state, o);
  return outputs(inputs, state, "local", undefined, envInfo);
}

export async function create(inputs: CheckedInputs): Promise<pulumi.dynamic.CreateResult> {
  const progress = progressFor(inputs, labelOf(inputs));
  const backend = resolveBackend(inputs);
  const outs = backend === "server" ? await createServer(inputs, progress) : await createLocal(inputs, progress);
  const id =
    backend === "server"
      ? `fractal:${outs.serverUrl}:${outs.taskGroupId}`
      : outs.path
        ? `local:${outs.path}`
        : `local-custom:${outs.pkgName}/${outs.version ?? ""}`;
  progress.info(`collected ${outs.pkgName}==${outs.version ?? "?"}: ${outs.tasks.length} tasks (${backend})`);
  return { id, outs };
}

function serverCredsFromState(o: TaskGroupOutputs): ServerCredentials {
  if (o.server) return o.server;
  const c = providerConfig();
  if (!c.email || !c.password)
    throw new UserError(
      "fractal:email / fractal:password are missing from the stack config (needed to reach the server)",
    );
  return { url: o.serverUrl ?? (c.url as string), email: c.email, password: c.password };
}

export async function read(id: string, props: TaskGroupOutputs): Promise<pulumi.dynamic.ReadResult> {
  if (props.resolvedBackend === "server") {
    const client = new FractalClient(serverCredsFromState(props));
    const g = await client.taskGroup(props.taskGroupId as number);
    if (!g) return { id: "", props: {} };
    // Tasks stay as recorded at collection; what the server has instead is reported as drift.
    const state = { ...stateFromRead(g, props.activityLog), tasks: props.tasks };
    const userGroupId = props.userGroupId === undefined ? undefined : (g.user_group_id ?? undefined);
    const drift = await serverDrift(g, { tasks: props.tasks, envInfo: props.envInfo });
    return { id, props: toPlainJson({ ...props, ...state, userGroupId, drift: drift.length ? drift : undefined }) };
  }
  const seen = await inspectLocal(groupState(props));
  if (!seen.folder || (props.origin === "other" && !seen.interpreter)) return { id: "", props: {} };
  const drift = await localDrift({ ...groupState(props), envInfo: props.envInfo });
  const active = props.origin === "other" ? props.active : seen.venv;
  return { id, props: toPlainJson({ ...props, active, drift: drift.length ? drift : undefined }) };
}

export async function update(
  _id: string,
  olds: TaskGroupOutputs,
  news: CheckedInputs,
): Promise<pulumi.dynamic.UpdateResult> {
  const progress = progressFor(news, olds.pkgName);
  let state = groupState(olds);
  if (olds.resolvedBackend === "server") {
    const creds = news.server ?? serverCredsFromState(olds);
    const client = new FractalClient(creds);
    const id = olds.taskGroupId as number;
    let log = state.activityLog;
    const current = await client.taskGroup(id);
    if (!current) throw new UserError(`task group ${id} no longer exists on ${creds.url}; run \`pulumi refresh\``);
    if (olds.drift?.length) {
      const wait = (a: ActivityRead, what: string) => waitOk(client, a, news, progress, what);
      log = (await repairServer(client, current, olds.drift, olds.tasks, wait, progress)) || log;
    }
    if (current.active !== news.active) log = await setActiveServer(client, id, news.active, news, progress);
    if (news.userGroupId !== undefined && current.user_group_id !== news.userGroupId) {
      await client.patchUserGroup(id, news.userGroupId);
    }
    const g = await client.taskGroup(id);
    if (!g) throw new UserError(`task group ${id} disappeared from ${creds.url} during the update`);
    const tasks = olds.drift?.length ? olds.tasks : stateFromRead(g, log).tasks;
    return { outs: outputs(news, { ...stateFromRead(g, log), tasks }, "server", creds, olds.envInfo) };
  }
  const o = localOptions(news, progress);
  if (olds.drift?.some((d) => d.repair === "reinstall") && news.active)
    state = await repairLocal(state, olds.envInfo, o);
  else if (olds.active !== news.active)
    state = news.active ? await reactivateLocal(state, o) : await deactivateLocal(state, o);
  return { outs: outputs(news, state, "local", undefined, olds.envInfo) };
}

export async function remove(_id: string, props: TaskGroupOutputs): Promise<void> {
  const progress = progressFor(props, props.pkgName);
  if (props.resolvedBackend === "server") {
    const client = new FractalClient(serverCredsFromState(props));
    const id = props.taskGroupId as number;
    let a: ActivityRead;
    try {
      a = await client.lifecycle(id, "delete");
    } catch (err) {
      if (err instanceof FractalHttpError && err.status === 404) return;
      throw err;
    }
    await waitOk(client, a, props, progress, "deletion");
    progress.info(`deleted task group ${id}`);
    return;
  }
  await deleteLocal(groupState(props));
}
