import type { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import type { ServerCredentials } from "./client";
import { providerConfig } from "./config";
import type { DriftItem } from "./drift";
import type { GroupState } from "./group-state";
import type { TaskGroupInputs } from "./schemas";

/** Inputs after `check` (defaults applied, content hashes added). */
export type CheckedInputs = TaskGroupInputs & { wheelSha256?: string; manifestSha256?: string };

/** State stored by the provider: the checked inputs plus the collected group. */
export interface TaskGroupOutputs extends CheckedInputs, GroupState {
  resolvedBackend: "server" | "local";
  serverUrl?: string;
  serverEmail?: string;
  /** `pip freeze --all` recorded at collection (what drift is measured against and repairs restore). */
  envInfo?: string;
  /** What `read` found changed since the collection (repaired by the next update; see drift.ts). */
  drift?: DriftItem[];
}

/**
 * Where a TaskGroup's tasks are collected: the seam between the TaskGroup lifecycle
 * (`resources/task-group-impl.ts`) and a Fractal backend. `ServerBackend` drives a fractal-server
 * over REST; `LocalBackend` collects into a folder on this machine. A new backend implements this
 * and gets a branch in {@link resolveBackend}.
 */
export interface TaskGroupBackend {
  readonly kind: "server" | "local";
  /** Collects the group (tasks registered, active as asked) and returns the full outputs. */
  collect(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs>;
  /** The Pulumi resource id of a collected group. */
  idOf(outs: TaskGroupOutputs): string;
  /** Refresh: the group as it is now, or undefined when it is gone. */
  read(state: TaskGroupOutputs): Promise<TaskGroupOutputs | undefined>;
  /** In place: (de)activates the group and applies the other in-place inputs; returns the outputs. */
  setActive(state: TaskGroupOutputs, news: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs>;
  /** Deletes the group (a group already gone is fine). */
  remove(state: TaskGroupOutputs, progress: Progress): Promise<void>;
}

/** `backend: "auto"` means the server when one is given (input or `fractal:url`), else local. */
export function resolveBackend(inputs: Pick<CheckedInputs, "backend" | "server">): "server" | "local" {
  if (inputs.backend === "server" || inputs.backend === "local") return inputs.backend;
  return inputs.server || providerConfig().url ? "server" : "local";
}

/** The collected group of a state. */
export function groupState(o: TaskGroupOutputs): GroupState {
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

/** Outputs: the checked inputs, the collected group and where it lives. */
export function groupOutputs(
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
