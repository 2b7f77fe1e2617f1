/**
 * Lifecycle of a TesseractService: maps Pulumi's check/diff/create/read/update/delete to a
 * serve target (`provider/serve/`; Docker engines today). Loaded by package name from the provider
 * shim (see tesseract-service.ts); the exported names are part of the stack-state contract.
 */
import type * as pulumi from "@pulumi/pulumi";
import { splitInputs } from "../common/check";
import { diffByKeys } from "../common/diff";
import { UserError } from "../common/errors";
import { Progress } from "../common/log";
import { toPlainJson } from "../common/plain";
import { UNKNOWN } from "../common/unknown";
import { type DockerConnection, resolveHost } from "../docker/connection";
import {
  type ContainerRecord,
  imagesOf,
  type ServedSet,
  type ServeTarget,
  type ServiceInputs,
  type ServiceOutputs,
  serveTargetFor,
  serviceLabels,
  validateInputs,
} from "../serve";
import { replicaKeys } from "../serve/spec";

export type { ContainerRecord, ServiceOutputs };
/** Labels of the service's containers (for tests and tooling). */
export { serviceLabels };

/** Inputs whose change needs new containers (Docker cannot change them in place). */
export const REPLACE_ON_CHANGES = [
  "image",
  "images",
  "port",
  "hostIp",
  "volumes",
  "inputPath",
  "outputPath",
  "environment",
  "runtimeConfig",
  "outputFormat",
  "user",
  "memory",
  "gpus",
  "numWorkers",
  "network",
  "networkAlias",
  "debug",
  "labels",
  "serviceName",
] as const;

/** Inputs applied in place by `update`: scaling, the restart policy, the health deadline, TLS material. */
export const UPDATE_IN_PLACE = ["replicas", "restartPolicy", "startupTimeout", "docker"] as const;

/** Output keys, dropped when state is read back as inputs. */
const OUTPUT_KEYS = new Set([
  "serviceId",
  "engine",
  "containers",
  "url",
  "urls",
  "containerIds",
  "containerNames",
  "hostPorts",
  "debugPorts",
  "imageIds",
  "networkCreated",
]);

// ---- check ------------------------------------------------------------------------------------

/** Validates and normalizes the known inputs; unknown ones pass through to be checked at `up`. */
export async function check(_olds: unknown, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
  const split = splitInputs(news);
  const { inputs, failures } = validateInputs(split.known, split.unknownKeys, process.cwd());
  if (!inputs) return { inputs: news, failures };
  const merged: Record<string, unknown> = { ...inputs };
  for (const k of split.unknownKeys) merged[k] = split.inputs[k];
  return { inputs: toPlainJson(merged) };
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

/** Known image names of raw inputs, or undefined while any is unknown. */
function imageList(raw: Record<string, unknown>): string[] | undefined {
  const list = raw.images !== undefined ? raw.images : raw.image !== undefined ? [raw.image] : undefined;
  if (!Array.isArray(list) || list.some((x) => typeof x !== "string" || x === UNKNOWN)) return undefined;
  return list as string[];
}

export async function diff(
  _id: string,
  olds: ServiceOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.DiffResult> {
  const target = serveTargetFor(olds);
  const { replaces, changed } = diffByKeys(olds, news, { replace: REPLACE_ON_CHANGES, update: UPDATE_IN_PLACE });
  const newDocker = news.docker as DockerConnection | typeof UNKNOWN | undefined;
  if (newDocker === UNKNOWN || resolveHost(olds.docker) !== resolveHost(newDocker as DockerConnection | undefined)) {
    replaces.push("docker");
  }
  // `read` found replicas that died or vanished: `update` recreates them.
  const changes = changed.length > 0 || (olds.containers ?? []).some((c) => c.status !== "running");

  // Same image name, new image (rebuilt under the same tag): the replicas must be recreated.
  if (!replaces.includes("image") && !replaces.includes("images") && !replaces.includes("docker")) {
    const names = imageList(news);
    if (names && (await target.imagesChanged(olds, names, news))) {
      replaces.push(news.images !== undefined ? "images" : "image");
    }
  }
  if (replaces.length === 0) return { changes };
  const imageCount = imageList(news)?.length ?? 1;
  return { changes: true, replaces, deleteBeforeReplace: target.mustDeleteFirst(olds, news, imageCount) };
}

// ---- create -----------------------------------------------------------------------------------

function progressFor(inputs: Pick<ServiceInputs, "docker">, name: string): Progress {
  return new Progress(`TesseractService ${name}`, [inputs.docker?.keyPem, inputs.docker?.certPem]);
}

/** The outputs: inputs, the served set, and per-replica lists in image-major, replica order. */
function outputsOf(inputs: ServiceInputs, served: ServedSet, target: ServeTarget): ServiceOutputs {
  const order = new Map(replicaKeys(imagesOf(inputs).length, inputs.replicas).map((k, i) => [k, i]));
  const sorted = [...served.containers].sort((a, b) => (order.get(a.key) ?? 1e9) - (order.get(b.key) ?? 1e9));
  const urls = sorted.map((c) => target.url(inputs, c));
  return toPlainJson({
    ...inputs,
    serviceId: served.serviceId,
    engine: target.address(inputs),
    containers: sorted,
    url: urls[0],
    urls,
    containerIds: sorted.map((c) => c.id),
    containerNames: sorted.map((c) => c.name),
    hostPorts: sorted.map((c) => c.hostPort),
    debugPorts: sorted.flatMap((c) => (c.debugPort !== undefined ? [c.debugPort] : [])),
    imageIds: served.imageIds,
    networkCreated: served.networkCreated,
  });
}

export async function create(raw: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
  const inputs = resolveInputs(raw);
  const target = serveTargetFor(inputs);
  const served = await target.create(inputs, progressFor(inputs, inputs.serviceName));
  return { id: served.serviceId, outs: outputsOf(inputs, served, target) };
}

// ---- read -------------------------------------------------------------------------------------

/**
 * Refresh: re-inspects every replica. Dead or vanished replicas keep their record with a status
 * other than `running`; `diff` then reports a change and `update` recreates them, so
 * `pulumi up --refresh` heals the service in place.
 */
export async function read(id: string, props: ServiceOutputs): Promise<pulumi.dynamic.ReadResult> {
  const containers = await serveTargetFor(props).read(props);
  return { id, props: toPlainJson({ ...props, containers }) };
}

// ---- update -----------------------------------------------------------------------------------

/** In place: scaling, healing and the restart policy (see the target's `update`). */
export async function update(
  id: string,
  olds: ServiceOutputs,
  news: Record<string, unknown>,
): Promise<pulumi.dynamic.UpdateResult> {
  const inputs = resolveInputs(news);
  const target = serveTargetFor(inputs);
  const state = { ...olds, serviceId: olds.serviceId ?? id };
  const served = await target.update(state, inputs, progressFor(inputs, inputs.serviceName));
  return { outs: outputsOf(inputs, served, target) };
}

// ---- delete -----------------------------------------------------------------------------------

export async function remove(id: string, props: ServiceOutputs): Promise<void> {
  const state = { ...props, serviceId: props.serviceId ?? id };
  await serveTargetFor(props).remove(state, progressFor(props, props.serviceName ?? id));
}
