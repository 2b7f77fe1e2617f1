import type { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { type CheckedInputs, groupOutputs, groupState, type TaskGroupBackend, type TaskGroupOutputs } from "./backend";
import { localDrift, localRecordedFreeze, repairLocal } from "./drift-repair";
import {
  collectPipLocal,
  deactivateLocal,
  defaultTasksDir,
  deleteLocal,
  inspectLocal,
  type LocalOptions,
  reactivateLocal,
} from "./local";
import { collectCustomLocal } from "./local-custom";
import type { CustomSpec } from "./schemas";

const DEFAULT_STEP_TIMEOUT_S = 600;

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

/** Collection into a folder on this machine, as fractal-server would lay it out (venvs, manifests). */
export class LocalBackend implements TaskGroupBackend {
  readonly kind = "local" as const;

  async collect(inputs: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
    if (inputs.privateGroup !== undefined || inputs.userGroupId !== undefined) {
      progress.warn("privateGroup / userGroupId only apply to the server backend; ignored locally");
    }
    const o = localOptions(inputs, progress);
    let state = inputs.pip
      ? await collectPipLocal(inputs.pip, o)
      : await collectCustomLocal(inputs.custom as CustomSpec, o);
    const envInfo = await localRecordedFreeze(state);
    if (!inputs.active) state = await deactivateLocal(state, o);
    return groupOutputs(inputs, state, "local", undefined, envInfo);
  }

  idOf(outs: TaskGroupOutputs): string {
    return outs.path ? `local:${outs.path}` : `local-custom:${outs.pkgName}/${outs.version ?? ""}`;
  }

  async read(props: TaskGroupOutputs): Promise<TaskGroupOutputs | undefined> {
    const seen = await inspectLocal(groupState(props));
    if (!seen.folder || (props.origin === "other" && !seen.interpreter)) return undefined;
    const drift = await localDrift({ ...groupState(props), envInfo: props.envInfo });
    const active = props.origin === "other" ? props.active : seen.venv;
    return toPlainJson({ ...props, active, drift: drift.length ? drift : undefined });
  }

  async setActive(olds: TaskGroupOutputs, news: CheckedInputs, progress: Progress): Promise<TaskGroupOutputs> {
    let state = groupState(olds);
    const o = localOptions(news, progress);
    if (olds.drift?.some((d) => d.repair === "reinstall") && news.active)
      state = await repairLocal(state, olds.envInfo, o);
    else if (olds.active !== news.active)
      state = news.active ? await reactivateLocal(state, o) : await deactivateLocal(state, o);
    return groupOutputs(news, state, "local", undefined, olds.envInfo);
  }

  async remove(props: TaskGroupOutputs, _progress: Progress): Promise<void> {
    await deleteLocal(groupState(props));
  }
}
