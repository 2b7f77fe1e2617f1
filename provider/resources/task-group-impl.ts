/**
 * Lifecycle of a TaskGroup: maps Pulumi's check/diff/create/read/update/delete to a Fractal
 * backend (`provider/fractal/`: a fractal-server, or local collection). Loaded by package name
 * from the provider shim (see task-group.ts); the exported names are part of the stack-state contract.
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { type CheckFailure, checkInputs } from "../common/check";
import { diffByKeys, sameValue } from "../common/diff";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { inResource, keepUrn, takeUrn } from "../common/resource-context";
import { InputSecrets, scrubbingErrors, withoutMarks } from "../common/secrets";
import { containsUnknown } from "../common/unknown";
import { type CheckedInputs, resolveBackend, type TaskGroupOutputs } from "../fractal/backend";
import { backendFor, backendOf } from "../fractal/backends";
import { configuredSecrets, credentials, providerConfig } from "../fractal/config";
import { customManifest, fileSha256 } from "../fractal/local-custom";
import { localPreviewFailures, serverPreviewFailures } from "../fractal/preview-checks";
import { parseManifest } from "../fractal/schemas";
import { normalizePackageName, parseWheelFilename } from "../fractal/validators";
import {
  TASK_GROUP_REPLACE_ON_CHANGES as REPLACE_ON_CHANGES,
  TASK_GROUP_SECRETS,
  TaskGroupInputsSchema,
  TASK_GROUP_UPDATE_IN_PLACE as UPDATE_IN_PLACE,
} from "./definitions/task-group";

/** Records the stack configuration (`fractal:url`, `fractal:email`, `fractal:password`, `fractal:token`). */
export { configure } from "../fractal/config";
export type { CheckedInputs, TaskGroupOutputs };

/** The secrets of a group's inputs or state: its secret fields and the configured password and token. */
function secretsOf(inputs: Partial<CheckedInputs>): InputSecrets {
  return new InputSecrets(inputs, TASK_GROUP_SECRETS, configuredSecrets());
}

function progressFor(inputs: Partial<CheckedInputs>, label: string): Progress {
  const secrets = [inputs.server?.password, inputs.server?.token, ...configuredSecrets()];
  const fields = new InputSecrets(inputs, TASK_GROUP_SECRETS).strings();
  return new Progress(`TaskGroup ${label}`, [...secrets, ...fields]);
}

function labelOf(inputs: Partial<CheckedInputs>): string {
  if (inputs.custom) return inputs.custom.label ?? "custom";
  if (inputs.pixi) return `${inputs.pixi.package} (pixi)`;
  if (inputs.pip?.wheelFile) return path.basename(inputs.pip.wheelFile);
  return inputs.pip?.package ?? "task group";
}

// ---- check ---------------------------------------------------------------------------------

/** Validates the inputs; no failure repeats a secret (the resource's secret fields, values marked secret, the configured password and token). */
export async function check(_olds: unknown, raw: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const { urn, inputs: news } = takeUrn(raw);
  const secrets = new InputSecrets(news, TASK_GROUP_SECRETS, configuredSecrets());
  const result = await checkUnguarded(news, secrets);
  const inputs = keepUrn(withoutMarks(result.inputs ?? news), urn);
  return result.failures?.length ? { inputs, failures: secrets.guard(result.failures) } : { inputs };
}

async function checkUnguarded(
  news: Record<string, unknown>,
  secrets: InputSecrets,
): Promise<pulumi.dynamic.CheckResult> {
  const checked = checkInputs(TaskGroupInputsSchema, news, { secrets });
  if (checked.failures.length) return { inputs: news, failures: checked.failures };
  if (checked.hasUnknowns || !checked.data) return { inputs: news };
  const failures: CheckFailure[] = [];
  const inputs: CheckedInputs = checked.data;
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
  // What the server (or this machine) would refuse at `up` fails the preview instead.
  failures.push(
    ...(resolveBackend(inputs) === "server"
      ? await serverPreviewFailures(inputs, checkCredentials(inputs))
      : localPreviewFailures(inputs)),
  );
  if (failures.length) return { inputs: news, failures };
  return { inputs: toPlainJson(inputs) as Record<string, unknown> };
}

/** Credentials for the checks at `check`, when complete (otherwise nothing is asked of the server). */
function checkCredentials(inputs: Pick<CheckedInputs, "server">) {
  try {
    return credentials(inputs);
  } catch {
    return undefined;
  }
}

// ---- diff ----------------------------------------------------------------------------------

/** The diff's keys: written in the definition (definitions/task-group.ts). */
export { REPLACE_ON_CHANGES, UPDATE_IN_PLACE };

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
  raw: CheckedInputs,
): Promise<pulumi.dynamic.DiffResult> {
  const news = takeUrn(raw).inputs;
  const { replaces, changed } = diffByKeys(olds, news, { replace: REPLACE_ON_CHANGES, update: UPDATE_IN_PLACE });
  const backend = containsUnknown(news.backend) || containsUnknown(news.server) ? "unknown" : resolveBackend(news);
  if (backend !== olds.resolvedBackend) replaces.push("backend");
  // Another server, or another account, replaces the group; a new password or token is stored in
  // place. A bearer token names no account here: its user is checked by the update (server-backend).
  const who = (s: typeof news.server) =>
    s && typeof s === "object" ? { url: s.url, email: s.token === undefined ? s.email : undefined } : s;
  const o = who(olds.server);
  const n = who(news.server);
  const sameAccount =
    typeof o === "object" && typeof n === "object" && (o.email === undefined || n.email === undefined)
      ? sameValue(o.url, n.url)
      : sameValue(o, n);
  if (!sameAccount) replaces.push("server");
  else if (!sameValue(olds.server, news.server)) changed.push("server");
  if (
    backend === "server" &&
    !news.server &&
    olds.serverUrl &&
    !containsUnknown(news) &&
    providerConfig().url &&
    providerConfig().url !== olds.serverUrl
  ) {
    // The group lives on the server recorded in `serverUrl`; the stack's `fractal:url` now names another.
    replaces.push("serverUrl");
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

// ---- create / read / update / delete ------------------------------------------------------

export async function create(raw: CheckedInputs): Promise<{ id: string; outs: TaskGroupOutputs }> {
  const { urn, inputs } = takeUrn(raw);
  return inResource(urn, async () => {
    const progress = progressFor(inputs, labelOf(inputs));
    const backend = backendFor(inputs);
    const outs = await scrubbingErrors(secretsOf(inputs), () => backend.collect(inputs, progress));
    progress.summary(`collected ${outs.pkgName}==${outs.version ?? "?"}: ${outs.tasks.length} tasks (${backend.kind})`);
    return { id: backend.idOf(outs), outs };
  });
}

/** Refresh: a group gone from the server or the disk gets an empty id, so `up` collects it again. */
export async function read(id: string, props: TaskGroupOutputs): Promise<pulumi.dynamic.ReadResult> {
  const current = await backendOf(props).read(props);
  return current ? { id, props: current } : { id: "", props: {} };
}

export async function update(
  _id: string,
  olds: TaskGroupOutputs,
  raw: CheckedInputs,
): Promise<{ outs: TaskGroupOutputs }> {
  const { urn, inputs: news } = takeUrn(raw);
  return inResource(urn, async () => ({
    outs: await scrubbingErrors(secretsOf(news), () =>
      backendOf(olds).setActive(olds, news, progressFor(news, olds.pkgName)),
    ),
  }));
}

export async function remove(_id: string, props: TaskGroupOutputs): Promise<void> {
  await scrubbingErrors(secretsOf(props), () => backendOf(props).remove(props, progressFor(props, props.pkgName)));
}
