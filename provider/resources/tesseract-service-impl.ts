/**
 * Lifecycle of a TesseractService: maps Pulumi's check/diff/create/read/update/delete to the
 * service's serve target (`provider/serve/`: containers on Docker engines, or Kubernetes), each
 * called with its own inputs and state types (`provider/serve/select.ts`: the stored state's
 * `kubernetes` says which target made it). Loaded by package name from the provider shim (see
 * tesseract-service.ts); the exported names are part of the stack-state contract.
 */
import type * as pulumi from "@pulumi/pulumi";
import { splitInputs } from "../common/check";
import { UserError } from "../common/errors";
import { toPlainJson } from "../common/plain";
import { inResource, keepUrn, takeUrn } from "../common/resource-context";
import { TESSERACT_SERVICE_SECRETS } from "../common/secret-fields";
import { InputSecrets, scrubbingErrors } from "../common/secrets";
import {
  type ContainerRecord,
  type ContainerServiceState,
  inputsTargetKind,
  SERVICE_OUTPUT_KEYS,
  type ServiceInputs,
  type ServiceState,
  type StoredServiceState,
  serviceLabels,
  stateTargetKind,
  validateInputs,
  withInputsTarget,
  withSameTarget,
  withStateTarget,
} from "../serve";

/** The container target's replace/update rules (the plugin schema declares them). */
export { REPLACE_ON_CHANGES, UPDATE_IN_PLACE } from "../serve";
export type { ContainerRecord, ContainerServiceState, ServiceState, StoredServiceState };
/** @deprecated The container target's state; use `ContainerServiceState` (or `ServiceState`, either target's). */
export type ServiceOutputs = ContainerServiceState;
/** Labels of the service's containers (for tests and tooling). */
export { serviceLabels };

/** Output keys of either target, dropped when state is read back as inputs. */
const OUTPUT_KEYS: ReadonlySet<string> = new Set(SERVICE_OUTPUT_KEYS);

// ---- check ------------------------------------------------------------------------------------

/** Validates and normalizes the known inputs; unknown ones pass through to be checked at `up`. */
export async function check(_olds: unknown, raw: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const { urn, inputs: news } = takeUrn(raw);
  const split = splitInputs(news);
  // The secrets come from `news`: the program's marks are stripped from `split`.
  const secrets = new InputSecrets(news, TESSERACT_SERVICE_SECRETS);
  const { inputs, failures } = validateInputs(split.known, split.unknownKeys, process.cwd(), secrets);
  if (!inputs) return { inputs: keepUrn(split.inputs, urn), failures };
  const merged: Record<string, unknown> = { ...inputs };
  for (const k of split.unknownKeys) merged[k] = split.inputs[k];
  return { inputs: keepUrn(toPlainJson(merged), urn) };
}

/** Validates again in create/update (inputs come from check, but state may be older). */
function resolveInputs(raw: Record<string, unknown>): ServiceInputs {
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(splitInputs(raw).inputs)) if (!OUTPUT_KEYS.has(k)) known[k] = v;
  const { inputs, failures } = validateInputs(known, new Set(), process.cwd());
  if (!inputs)
    throw new UserError(`TesseractService: invalid inputs:\n${failures.map((f) => `  - ${f.reason}`).join("\n")}`, {
      property: failures[0]?.property,
    });
  return inputs;
}

// ---- diff -------------------------------------------------------------------------------------

/** Moving between targets (Docker engine, Kubernetes, Slurm) replaces; otherwise the state's target judges. */
export async function diff(
  _id: string,
  olds: StoredServiceState,
  raw: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const news = takeUrn(raw).inputs;
  const from = stateTargetKind(olds);
  const to = inputsTargetKind(news);
  if (from !== to) {
    // New objects on the other target first, then the old ones go (nothing they share to clash on).
    return {
      changes: true,
      replaces: [from === "slurm" || to === "slurm" ? "slurm" : "kubernetes"],
      deleteBeforeReplace: false,
    };
  }
  return withStateTarget(olds, (target, state) => target.diff(state, news));
}

// ---- create -----------------------------------------------------------------------------------

export async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
  const { urn, inputs: plain } = takeUrn(raw);
  return inResource(urn, () => {
    const inputs = resolveInputs(plain);
    return scrubbingErrors(new InputSecrets(inputs, TESSERACT_SERVICE_SECRETS), () =>
      withInputsTarget<Promise<{ id: string; outs: StoredServiceState }>>(inputs, (target, typed) =>
        target.create(typed),
      ),
    );
  });
}

// ---- read -------------------------------------------------------------------------------------

/** Refresh: the target re-inspects what it serves; drift shows in the next diff and `up` repairs it. */
export async function read(id: string, props: StoredServiceState): Promise<pulumi.dynamic.ReadResult> {
  return { id, props: await withStateTarget<Promise<StoredServiceState>>(props, (target, s) => target.read(id, s)) };
}

// ---- update -----------------------------------------------------------------------------------

/** In place: scaling, healing, in-place settings, rolling updates (see the target's `update`). */
export async function update(
  id: string,
  olds: StoredServiceState,
  raw: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult> {
  const { urn, inputs: news } = takeUrn(raw);
  return inResource(urn, async () => {
    const inputs = resolveInputs(news);
    const secrets = new InputSecrets(inputs, TESSERACT_SERVICE_SECRETS);
    const outs = await scrubbingErrors(secrets, () =>
      withSameTarget<Promise<StoredServiceState>>(olds, inputs, (target, state, typed) =>
        target.update(id, state, typed),
      ),
    );
    return { outs };
  });
}

// ---- delete -----------------------------------------------------------------------------------

export async function remove(id: string, props: StoredServiceState): Promise<void> {
  await withStateTarget(props, (target, state) => target.remove(id, state));
}
