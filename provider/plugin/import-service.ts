/**
 * `pulumi import tesseract:index:TesseractService <name> <serviceId>`: adopts the containers a
 * TesseractService started (label `pulumi-tesseract.service-id`) on the provider's Docker engine.
 * The inputs are rebuilt from what `containerSpec` wrote into each container (labels, command,
 * environment, host config) and the state is the one a create of those inputs stores, so the
 * program `pulumi import --out` generates previews with no changes. What a container cannot tell
 * (whether its host port was fixed, `startupTimeout`) is left to the defaults.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { UserError } from "../common/errors";
import { LABELS } from "../common/labels";
import type { DockerConnection } from "../docker/connection";
import { engineFor } from "../docker/engine";
import type { ContainerInspect } from "../docker/types";
import { RESERVED_LABELS, validateInputs } from "../serve/args";
import type { ContainerRecord } from "../serve/container-state";
import { ContainerServeTarget } from "../serve/container-target";
import { networkOwner } from "../serve/network";
import { CONTAINER_API_PORT, CONTAINER_DEBUG_PORT } from "../serve/ports";
import { statusOf } from "../serve/replicas";
import { BUILTIN_NETWORKS, defaultUser } from "../serve/spec";
import { CONTAINER_INPUT_PATH, CONTAINER_OUTPUT_PATH, isUrlPath } from "../serve/volumes";

/** Host settings `containerSpec` writes that the shared inspect type leaves out. */
interface HostSettings {
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  Binds?: string[] | null;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  Memory?: number;
  DeviceRequests?: { Count?: number; DeviceIDs?: string[] | null }[] | null;
  NetworkMode?: string;
}

/** Environment variables `serviceEnv` derives from other inputs (not `environment`/`runtimeConfig`). */
const DERIVED_ENV = new Set([
  "TESSERACT_OUTPUT_FORMAT",
  "TESSERACT_INPUT_PATH",
  "TESSERACT_OUTPUT_PATH",
  "TESSERACT_DEBUG",
  "TESSERACT_DEBUGPY_PORT",
  "TESSERACT_DEBUGPY_HOST",
  "TESSERACT_RUNTIME_DEBUGPY_PORT",
  "TESSERACT_RUNTIME_DEBUGPY_HOST",
]);

/** `bytes` in the largest unit that divides it (`536870912` → `512m`). */
function memoryText(bytes: number): string {
  for (const [unit, size] of [
    ["g", 1024 ** 3],
    ["m", 1024 ** 2],
    ["k", 1024],
  ] as const)
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

const envMap = (env: string[] | null | undefined): Map<string, string> =>
  new Map((env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));

const flag = (cmd: string[], name: string): string | undefined => {
  const i = cmd.indexOf(name);
  return i >= 0 ? cmd[i + 1] : undefined;
};

/** Reads the service's containers; returns `{ id: "" }` when no container carries the ID. */
export async function importService(
  id: string,
  docker: DockerConnection | undefined,
  names: { serviceName: string; stack: string; project: string },
): Promise<provider.ReadResult> {
  const engine = engineFor(docker);
  const listed = await engine.listContainers({ label: [`${LABELS.serviceId}=${id}`] }, true);
  if (listed.length === 0) {
    const other = await engine.inspectContainer(id);
    const prefixed = await engine.listContainers({ name: [`^/${id}-`] }, true);
    if (other || prefixed.length)
      throw new UserError(
        `TesseractService import: ${JSON.stringify(id)} names container(s) that were not started by a TesseractService (no ${LABELS.serviceId} label); import a service by the ID its containers carry in that label (the service's serviceId output)`,
      );
    return { id: "", props: {} };
  }
  const infos = (await Promise.all(listed.map((c) => engine.inspectContainer(c.Id)))).filter(
    (c): c is ContainerInspect => c !== undefined,
  );
  const labelled = infos.filter(
    (c) => c.Config.Labels?.[LABELS.managed] === "true" && c.Config.Labels?.[LABELS.replica],
  );
  if (labelled.length !== infos.length || labelled.length === 0)
    throw new UserError(
      `TesseractService import: container(s) labelled ${LABELS.serviceId}=${id} were not started by a TesseractService (they lack the ${LABELS.managed} and ${LABELS.replica} labels)`,
    );
  const keyOf = (c: ContainerInspect) => c.Config.Labels?.[LABELS.replica] ?? "0-0";
  labelled.sort((a, b) => keyOf(a).localeCompare(keyOf(b), undefined, { numeric: true }));
  const first = labelled[0];
  const labels = first.Config.Labels ?? {};
  const host = first.HostConfig as HostSettings;
  const cmd = first.Config.Cmd ?? [];

  // Images and replicas from the replica keys `<image index>-<replica index>`.
  const images: string[] = [];
  const firstOfImage: ContainerInspect[] = [];
  let replicas = 0;
  for (const c of labelled) {
    const [img, r] = keyOf(c).split("-").map(Number);
    if (images[img] === undefined) {
      images[img] = c.Config.Labels?.[LABELS.image] ?? c.Config.Image;
      firstOfImage[img] = c;
    }
    replicas = Math.max(replicas, r + 1);
  }
  const imageInfo = await engine.inspectImage(first.Config.Image).catch(() => undefined);
  const imageEnv = envMap(imageInfo?.Config?.Env);
  const imageLabels = imageInfo?.Config?.Labels ?? {};

  const raw: Record<string, unknown> = images.length === 1 ? { image: images[0] } : { images };
  if (replicas !== 1) raw.replicas = replicas;
  const network =
    host.NetworkMode && host.NetworkMode !== "default" && host.NetworkMode !== "bridge" ? host.NetworkMode : undefined;
  const hostNet = network === "host";
  const api = host.PortBindings?.[`${CONTAINER_API_PORT}/tcp`]?.[0];
  const hostIp = hostNet ? flag(cmd, "--host") : api?.HostIp;
  if (hostIp && hostIp !== "127.0.0.1") raw.hostIp = hostIp;

  const volumes: string[] = [];
  for (const bind of host.Binds ?? []) {
    const [source, target] = bind.split(":");
    if (target === CONTAINER_INPUT_PATH) raw.inputPath = source;
    else if (target === CONTAINER_OUTPUT_PATH) raw.outputPath = source;
    else volumes.push(bind);
  }
  if (volumes.length) raw.volumes = volumes;

  const env = envMap(first.Config.Env);
  const environment: Record<string, string> = {};
  const runtimeConfig: Record<string, string> = {};
  for (const [k, v] of env) {
    if (imageEnv.get(k) === v || DERIVED_ENV.has(k)) continue;
    if (k.startsWith("TESSERACT_")) runtimeConfig[k.slice("TESSERACT_".length).toLowerCase()] = v;
    else environment[k] = v;
  }
  for (const [k, input] of [
    ["TESSERACT_INPUT_PATH", "inputPath"],
    ["TESSERACT_OUTPUT_PATH", "outputPath"],
  ] as const)
    if (raw[input] === undefined && isUrlPath(env.get(k) ?? "") && imageEnv.get(k) !== env.get(k))
      raw[input] = env.get(k);
  if (Object.keys(environment).length) raw.environment = environment;
  if (Object.keys(runtimeConfig).length) raw.runtimeConfig = runtimeConfig;
  if (env.has("TESSERACT_OUTPUT_FORMAT")) raw.outputFormat = env.get("TESSERACT_OUTPUT_FORMAT");
  if (env.get("TESSERACT_DEBUG") === "1") raw.debug = true;

  if (first.Config.User && first.Config.User !== defaultUser()) raw.user = first.Config.User;
  if (host.Memory) raw.memory = memoryText(host.Memory);
  const gpu = host.DeviceRequests?.[0];
  if (gpu) raw.gpus = gpu.Count === -1 ? "all" : (gpu.DeviceIDs ?? []);
  const workers = flag(cmd, "--num-workers");
  if (workers !== undefined) raw.numWorkers = Number(workers);
  if (network) raw.network = network;
  if (network && !BUILTIN_NETWORKS.has(network)) {
    const endpoint = first.NetworkSettings.Networks?.[network] as { Aliases?: string[] | null } | undefined;
    const own = new Set([first.Name.replace(/^\//, ""), first.Id.slice(0, 12)]);
    const alias = (endpoint?.Aliases ?? []).find((a) => !own.has(a));
    if (alias) raw.networkAlias = alias;
  }
  const policy = host.RestartPolicy?.Name || "no";
  const restartPolicy =
    policy === "on-failure" && host.RestartPolicy?.MaximumRetryCount
      ? `${policy}:${host.RestartPolicy.MaximumRetryCount}`
      : policy;
  if (restartPolicy !== "unless-stopped") raw.restartPolicy = restartPolicy;
  const userLabels = Object.entries(labels).filter(([k, v]) => !RESERVED_LABELS.includes(k) && imageLabels[k] !== v);
  if (userLabels.length) raw.labels = Object.fromEntries(userLabels);

  // The names the service was created under; the resource being imported must carry the same.
  const serviceName = labels[LABELS.service] ?? names.serviceName;
  if (serviceName !== names.serviceName)
    throw new UserError(
      `TesseractService import: the service ${id} was created as ${JSON.stringify(serviceName)}; import it under that resource name (pulumi import tesseract:index:TesseractService ${serviceName} ${id}) so its containers keep their names`,
    );
  const withNames = {
    ...raw,
    ...(docker ? { docker } : {}),
    serviceName,
    stack: labels[LABELS.stack] ?? names.stack,
    project: labels[LABELS.project] ?? names.project,
  };
  const { inputs, failures } = validateInputs(withNames, new Set(), process.cwd());
  if (!inputs)
    throw new UserError(
      `TesseractService import: the containers of ${id} give inputs a TesseractService does not accept:\n${failures.map((f) => `  - ${f.reason}`).join("\n")}`,
    );

  const containers: ContainerRecord[] = await Promise.all(
    labelled.map(async (c) => {
      const ports = (c.HostConfig as HostSettings).PortBindings ?? {};
      const hostPort = Number(
        hostNet ? flag(c.Config.Cmd ?? [], "--port") : ports[`${CONTAINER_API_PORT}/tcp`]?.[0]?.HostPort,
      );
      const debug = ports[`${CONTAINER_DEBUG_PORT}/tcp`]?.[0]?.HostPort;
      return {
        key: keyOf(c),
        id: c.Id,
        name: c.Name.replace(/^\//, ""),
        image: c.Config.Labels?.[LABELS.image] ?? c.Config.Image,
        hostPort,
        ...(debug ? { debugPort: Number(debug) } : {}),
        status: await statusOf(engine, c.Id, inputs.network),
      };
    }),
  );
  let networkCreated = false;
  if (network && !BUILTIN_NETWORKS.has(network)) {
    const net = await engine.inspectNetwork(network);
    networkCreated = net?.Labels?.[LABELS.networkOwner] === networkOwner(inputs);
  }
  // Rebuilt from containers, so never a Kubernetes service: the container target's inputs.
  const { kubernetes: _never, slurm: _neither, ...containerInputs } = inputs;
  const state = new ContainerServeTarget().outputsOf(containerInputs, {
    serviceId: id,
    containers,
    imageIds: firstOfImage.map((c) => c.Image),
    networkCreated,
  });
  // Stored inputs as `check` returns them (defaults filled, names set), minus the connection that
  // comes from the provider configuration rather than the program.
  const { docker: _fromConfig, ...stored } = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
  return { id, props: state, inputs: stored };
}
