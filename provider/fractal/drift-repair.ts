/**
 * Drift detection and repair per backend (see drift.ts for what counts as drift):
 *  - server: venv path and task list from `GET /api/v2/task-group/{id}/`, the freeze recorded at
 *    collection from the collection's activity log; repair = deactivate + reactivate (the server
 *    reinstalls from its `env_info`, the freeze of the collection) and `PATCH /api/v2/task/{id}/`
 *    for hand-edited task fields;
 *  - local: everything from disk; repair = remove the venv and reinstall from the recorded freeze.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Progress } from "../common/log";
import { type ActivityRead, type FractalClient, type TaskGroupRead, taskFromRead } from "./client";
import {
  type DriftItem,
  freezeFromActivityLog,
  missingExecutables,
  packageRootOf,
  taskListDrift,
  venvDrift,
} from "./drift";
import type { GroupState } from "./group-state";
import { type LocalOptions, reactivateLocal } from "./local";
import { loadManifest } from "./local-custom";
import { prepareTasks, type TaskInfo } from "./schemas";

const FREEZE_FILE = "pip_freeze.txt";

// ---- server -------------------------------------------------------------------------------

/**
 * The freeze of a server group's collection: from the collection log when given, else from the
 * group's newest successful `collect` activity (adopted groups). Undefined for `other`/`pixi`.
 */
export async function serverRecordedFreeze(
  client: FractalClient,
  g: Pick<TaskGroupRead, "id" | "origin">,
  collectionLog?: string,
): Promise<string | undefined> {
  if (g.origin !== "pypi" && g.origin !== "wheel-file") return undefined;
  const fromLog = collectionLog ? freezeFromActivityLog(collectionLog) : undefined;
  if (fromLog) return fromLog;
  try {
    const acts = await client.activities({ taskgroupv2_id: g.id, action: "collect", status: "OK" });
    const newest = [...acts].sort((a, b) => b.id - a.id)[0];
    return newest?.log ? freezeFromActivityLog(newest.log) : undefined;
  } catch {
    return undefined;
  }
}

/** What drifted on a server group, against the tasks and freeze recorded at collection. */
export async function serverDrift(
  g: TaskGroupRead,
  recorded: { tasks: TaskInfo[]; envInfo?: string },
): Promise<DriftItem[]> {
  const items: DriftItem[] = [];
  if (g.active && g.origin !== "other" && g.origin !== "pixi") {
    items.push(
      ...(await venvDrift({
        groupPath: g.path ?? undefined,
        venvPath: g.venv_path ?? undefined,
        recordedFreeze: recorded.envInfo,
      })),
    );
  }
  const current = [...g.task_list].sort((a, b) => a.id - b.id).map(taskFromRead);
  items.push(...taskListDrift(recorded.tasks, current));
  return items;
}

/**
 * Repairs a server group in place: reinstall (deactivate + reactivate; a venv deleted by hand is
 * first recreated as an empty folder, since the server refuses to deactivate a group without one)
 * and patches hand-edited task fields back. Returns the lifecycle logs.
 */
export async function repairServer(
  client: FractalClient,
  g: TaskGroupRead,
  drift: DriftItem[],
  recordedTasks: TaskInfo[],
  wait: (a: ActivityRead, what: string) => Promise<ActivityRead>,
  progress: Progress,
): Promise<string> {
  const logs: string[] = [];
  if (drift.some((d) => d.repair === "reinstall") && g.active && g.venv_path) {
    progress.info(`repairing task group ${g.id}: reinstalling its venv from the recorded pip freeze`);
    await fs.mkdir(g.venv_path, { recursive: true }).catch(() => undefined);
    const off = await wait(await client.lifecycle(g.id, "deactivate"), "deactivation (drift repair)");
    const on = await wait(await client.lifecycle(g.id, "reactivate"), "reactivation (drift repair)");
    logs.push(off.log ?? "", on.log ?? "");
  }
  if (drift.some((d) => d.repair === "patch-tasks")) {
    const byName = new Map(g.task_list.map((t) => [t.name, t]));
    for (const t of recordedTasks) {
      const server = byName.get(t.name);
      if (!server) continue;
      const body: Record<string, unknown> = {};
      const now = taskFromRead(server);
      const put = (key: string, a: unknown, b: unknown) => {
        if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null) && a !== undefined) body[key] = a;
      };
      put("command_non_parallel", t.commandNonParallel, now.commandNonParallel);
      put("command_parallel", t.commandParallel, now.commandParallel);
      put("input_types", t.inputTypes, now.inputTypes);
      put("output_types", t.outputTypes, now.outputTypes);
      put("category", t.category, now.category);
      put("modality", t.modality, now.modality);
      put("authors", t.authors, now.authors);
      put("tags", t.tags, now.tags);
      if (!Object.keys(body).length) continue;
      progress.info(`repairing task '${t.name}': ${Object.keys(body).join(", ")}`);
      await client.call("PATCH", `/api/v2/task/${server.id}/`, { json: body });
      logs.push(`patched task ${server.id} (${t.name}): ${Object.keys(body).join(", ")}`);
    }
  }
  return logs.filter(Boolean).join("\n");
}

// ---- local --------------------------------------------------------------------------------

/** The freeze a local collection recorded (`<path>/pip_freeze.txt`), if any. */
export async function localRecordedFreeze(state: Pick<GroupState, "path">): Promise<string | undefined> {
  if (!state.path) return undefined;
  return fs.readFile(path.join(state.path, FREEZE_FILE), "utf8").catch(() => undefined);
}

/** What drifted in a local group: venv, freeze, installed manifest and task files. */
export async function localDrift(state: GroupState & { envInfo?: string }): Promise<DriftItem[]> {
  if (state.origin === "other" || !state.active || !state.path || !state.venvPath) return [];
  const items = await venvDrift({ groupPath: state.path, venvPath: state.venvPath, recordedFreeze: state.envInfo });
  if (items.some((d) => d.what === "venv")) return items;
  items.push(...(await missingExecutables(state.tasks)));
  const root = packageRootOf(state.tasks, state.pkgName);
  if (root) {
    const py = path.join(state.venvPath, "bin", "python");
    try {
      const manifest = await loadManifest(path.join(root, "__FRACTAL_MANIFEST__.json"));
      items.push(...taskListDrift(state.tasks, prepareTasks(manifest, py, root, state.version), true));
    } catch (err) {
      items.push({ what: "tasks", detail: `installed manifest: ${(err as Error).message}`, repair: "reinstall" });
    }
  }
  return items;
}

/** Reinstalls a local group's venv from the recorded freeze (written back first if edited). */
export async function repairLocal(
  state: GroupState,
  envInfo: string | undefined,
  o: LocalOptions,
): Promise<GroupState> {
  if (!state.path || !state.venvPath) return state;
  o.progress.info(
    `repairing ${state.pkgName}==${state.version}: reinstalling ${state.venvPath} from the recorded pip freeze`,
  );
  if (envInfo) await fs.writeFile(path.join(state.path, FREEZE_FILE), envInfo);
  await fs.rm(state.venvPath, { recursive: true, force: true });
  return reactivateLocal(state, o);
}
