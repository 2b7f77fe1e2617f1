/**
 * Lifecycle of a TesseractService: maps Pulumi's check/diff/create/read/update/delete to the
 * service's serve target (`provider/serve/`: containers on Docker engines, or Kubernetes), chosen
 * by `serveTargetFor`. Loaded by package name from the provider shim (see tesseract-service.ts);
 * the exported names are part of the stack-state contract.
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
  SERVICE_OUTPUT_KEYS,
  type ServiceInputs,
  type ServiceOutputs,
  serveTargetFor,
  serviceLabels,
  validateInputs,
} from "../serve";

/** The container target's replace/update rules (the plugin schema declares them). */
export { REPLACE_ON_CHANGES, UPDATE_IN_PLACE } from "../serve";
export type { ContainerRecord, ServiceOutputs };
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

/** The target of either side judges (moving between targets replaces). */
export async function diff(
  _id: string,
  olds: ServiceOutputs,
  raw: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const news = takeUrn(raw).inputs;
  return serveTargetFor(olds, news).diff(olds, news);
}

// ---- create -----------------------------------------------------------------------------------

export async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
  const { urn, inputs: plain } = takeUrn(raw);
  return inResource(urn, () => {
    const inputs = resolveInputs(plain);
    return scrubbingErrors(new InputSecrets(inputs, TESSERACT_SERVICE_SECRETS), () =>
      serveTargetFor(inputs).create(inputs),
    );
  });
}

// ---- read -------------------------------------------------------------------------------------

/** Refresh: the target re-inspects what it serves; drift shows in the next diff and `up` repairs it. */
export async function read(id: string, props: ServiceOutputs): Promise<pulumi.dynamic.ReadResult> {
  return { id, props: await serveTargetFor(props).read(id, props) };
}

// ---- update -----------------------------------------------------------------------------------

/** In place: scaling, healing, in-place settings, rolling updates (see the target's `update`). */
export async function update(
  id: string,
  olds: ServiceOutputs,
  raw: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult> {
  const { urn, inputs: news } = takeUrn(raw);
  return inResource(urn, async () => {
    const inputs = resolveInputs(news);
    const secrets = new InputSecrets(inputs, TESSERACT_SERVICE_SECRETS);
    return { outs: await scrubbingErrors(secrets, () => serveTargetFor(inputs).update(id, olds, inputs)) };
  });
}

// ---- delete -----------------------------------------------------------------------------------

export async function remove(id: string, props: ServiceOutputs): Promise<void> {
  await serveTargetFor(props).remove(id, props);
}
