import * as path from "node:path";
import { sameValue } from "../common/diff";
import { UserError } from "../common/errors";
import type { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { type CheckedInputs, groupOutputs, groupState, type TaskGroupBackend, type TaskGroupOutputs } from "./backend";
import {
  type ActivityRead,
  FractalClient,
  FractalHttpError,
  type ServerCredentials,
  type TaskGroupRead,
  taskFromRead,
} from "./client";
import { credentials, serverCredsFromState } from "./config";
import { repairServer, serverDrift, serverRecordedFreeze } from "./drift-repair";
import { FractalActivityError } from "./errors";
import type { GroupState } from "./group-state";
import { customManifest } from "./local-custom";
import { tail } from "./local-python";
import { findPixiGroup } from "./origins";
import type { CustomSpec, PipSpec } from "./schemas";

const DEFAULT_TIMEOUT_S = 1800;

/** The collected group as a server's task-group record gives it (what create and read store). */
export function stateFromRead(g: TaskGroupRead, log: string): GroupState {
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

function failedActivityError(what: string, a: ActivityRead): FractalActivityError {
  return new FractalActivityError(
    `fractal-server ${a.action} of ${a.pkg_name}==${a.version} failed (activity ${a.id}); the server removed what it had started.\n--- activity log (tail) ---\n${tail(a.log ?? "", 3000)}`.replace(
      "fractal-server",
      `fractal-server ${what}:`,
    ),
    a.id,
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
    if (!sameValue(actual, expected))
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

/** Collection on a fractal-server over its REST API (`/api/v2/task/collect/...`). */
export class ServerBackend implements TaskGroupBackend {
  readonly kind = "server" as const;

  collect(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
    return createServer(inputs, progress);
  }

  idOf(outs: TaskGroupOutputs): string {
    return `fractal:${outs.serverUrl}:${outs.taskGroupId}`;
  }

  async read(props: TaskGroupOutputs): Promise<TaskGroupOutputs | undefined> {
    const client = new FractalClient(serverCredsFromState(props));
    const g = await client.taskGroup(props.taskGroupId as number);
    if (!g) return undefined;
    // Tasks stay as recorded at collection; what the server has instead is reported as drift.
    const state = { ...stateFromRead(g, props.activityLog), tasks: props.tasks };
    const userGroupId = props.userGroupId === undefined ? undefined : (g.user_group_id ?? undefined);
    const drift = await serverDrift(g, { tasks: props.tasks, envInfo: props.envInfo });
    return toPlainJson({ ...props, ...state, userGroupId, drift: drift.length ? drift : undefined });
  }

  async setActive(olds: TaskGroupOutputs, news: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
    const state = groupState(olds);
    const creds = news.server ?? serverCredsFromState(olds);
    const client = new FractalClient(creds);
    const id = olds.taskGroupId as number;
    let log = state.activityLog;
    const serverEmail = await ownerOf(client, creds, olds);
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
    // After a drift repair the server's tasks are the recorded ones again (or the diff replaced the group).
    const tasks = olds.drift?.length ? olds.tasks : stateFromRead(g, log).tasks;
    return groupOutputs(
      news,
      { ...stateFromRead(g, log), tasks },
      "server",
      { url: creds.url, email: serverEmail },
      olds.envInfo,
    );
  }

  async remove(props: TaskGroupOutputs, progress: Progress): Promise<void> {
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
  }
}

/**
 * The e-mail of the account a group's calls run as. A bearer token names no account: the server
 * tells whose it is, and an update with a token of another user than the group's owner (or a switch
 * between token and password to another user) is refused before anything is changed.
 */
async function ownerOf(
  client: FractalClient,
  creds: ServerCredentials,
  olds?: Pick<TaskGroupOutputs, "server" | "serverEmail" | "taskGroupId">,
): Promise<string | undefined> {
  if (creds.token === undefined && olds?.server?.token === undefined) return creds.email;
  const me = creds.token === undefined ? creds.email : (await client.currentUser()).email;
  if (olds?.serverEmail && me !== olds.serverEmail) {
    const hint = `give a token (or email and password) of ${olds.serverEmail}; to move the group to another account, replace it (\`pulumi up --replace <urn>\`)`;
    throw new UserError(
      `task group ${olds.taskGroupId} on ${creds.url} belongs to ${olds.serverEmail}, but the server account now given is ${me} (fix: ${hint})`,
      { property: "server", hint },
    );
  }
  return me;
}

async function createServer(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
  const creds = credentials(inputs);
  const client = new FractalClient(creds);
  // With a token, the server says whose it is (recorded as the group's serverEmail).
  const serverEmail = await ownerOf(client, creds);
  const own = { privateGroup: inputs.privateGroup, userGroupId: inputs.userGroupId };
  let group: TaskGroupRead | undefined;
  let log = "";
  let collectionLog = "";
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
      collectionLog = log;
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
  const envInfo = await serverRecordedFreeze(client, group, collectionLog);
  return groupOutputs(inputs, stateFromRead(group, log), "server", { url: creds.url, email: serverEmail }, envInfo);
}
