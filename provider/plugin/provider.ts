/**
 * The `tesseract` provider plugin: the same lifecycle functions as the dynamic resources
 * (`lib/resources/<name>-impl.js`), served to any Pulumi language (YAML, Python, …) through
 * `@pulumi/pulumi/provider`'s `Provider` interface, with the package schema, provider
 * configuration, per-property diffs, import by ID, and the Tesseract functions as invokes.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { sameValue } from "../common/diff";
import { toPlainJson } from "../common/plain";
import { inResource } from "../common/resource-context";
import { SECRET_MARKS_KEY, withoutMarks } from "../common/secrets";
import { serviceContextInputs } from "../resources/definitions/tesseract-service";
import * as taskGroupImpl from "../resources/task-group-impl";
import * as imageImpl from "../resources/tesseract-image-impl";
import * as serviceImpl from "../resources/tesseract-service-impl";
import { dockerDefault, fractalConfigRequest, type PluginConfig, parseConfig } from "./config";
import { PLUGIN_FUNCTIONS } from "./functions";
import { importImage } from "./import";
import { importService } from "./import-service";
import { importTaskGroup } from "./import-task-group";
import { SCHEMA } from "./schema.generated";
import { markSecret, reveal, secretKeys, secretPaths } from "./secrets";

type Props = Record<string, unknown>;

/** The dynamic-provider lifecycle every `<name>-impl` module exports. */
interface Lifecycle {
  check(olds: any, news: any): Promise<provider.CheckResult>;
  diff(id: string, olds: any, news: any): Promise<provider.DiffResult>;
  create(inputs: any): Promise<provider.CreateResult>;
  read(id: string, props: any): Promise<provider.ReadResult>;
  update(id: string, olds: any, news: any): Promise<provider.UpdateResult>;
  delete(id: string, props: any): Promise<void>;
}

/** A lifecycle module's functions (`delete` is exported as `delete`, `remove` or `del`). */
function lifecycle(mod: object): Lifecycle {
  const m = mod as Record<string, (...args: any[]) => Promise<any>>;
  const del = m.delete ?? m.remove ?? m.del;
  return {
    check: (o, n) => m.check(o, n),
    diff: (id, o, n) => m.diff(id, o, n),
    create: (i) => m.create(i),
    read: (id, p) => m.read(id, p),
    update: (id, o, n) => m.update(id, o, n),
    delete: (id, p) => del(id, p),
  };
}

interface ResourceKind {
  impl: Lifecycle;
  /** Adds what the TypeScript resource class adds to the inputs (names, config defaults). */
  prepare(news: Props, urn: URNParts, config: PluginConfig): Props;
  /** Reads an existing object by the ID given to `pulumi import`. */
  importById?(id: string, config: PluginConfig, urn: URNParts): Promise<provider.ReadResult>;
  /** The property a change is attributed to when only something outside the inputs changed. */
  changeCause: string;
}

interface URNParts {
  stack: string;
  project: string;
  type: string;
  name: string;
}

/** `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`. */
export function parseUrn(urn: string): URNParts {
  const [head, project, qualifiedType, ...rest] = urn.split("::");
  return {
    stack: head.replace(/^urn:pulumi:/, ""),
    project,
    type: qualifiedType.split("$").pop() ?? qualifiedType,
    name: rest.join("::"),
  };
}

const withDockerDefault = (news: Props, config: PluginConfig): Props => {
  const docker = dockerDefault(config);
  return news.docker === undefined && docker ? { ...news, docker } : news;
};

const RESOURCES: Record<string, ResourceKind> = {
  "tesseract:index:TesseractImage": {
    impl: lifecycle(imageImpl),
    prepare: (news, _urn, config) => withDockerDefault(news, config),
    importById: (id) => importImage(id),
    changeCause: "srcDir",
  },
  "tesseract:index:TesseractService": {
    impl: lifecycle(serviceImpl),
    // The inputs the TypeScript class adds from where the resource is (container names, labels), from the URN.
    prepare: (news, urn, config) => ({ ...withDockerDefault(news, config), ...serviceContextInputs(urn) }),
    importById: (id, config, urn) => importService(id, dockerDefault(config), serviceContextInputs(urn)),
    changeCause: "image",
  },
  "tesseract:index:TaskGroup": {
    impl: lifecycle(taskGroupImpl),
    prepare: (news) => news,
    importById: (id) => importTaskGroup(id),
    changeCause: "pip",
  },
};

type SchemaResource = { inputProperties: Props; properties: Record<string, { secret?: boolean }> };

/** Output properties the schema marks secret (always stored as secrets). */
function schemaSecrets(type: string): string[] {
  const r = (SCHEMA.resources as Record<string, SchemaResource>)[type];
  return Object.entries(r?.properties ?? {}).flatMap(([k, p]) => (p.secret ? [k] : []));
}

function kindOf(urn: string): [ResourceKind, URNParts] {
  const parts = parseUrn(urn);
  const kind = RESOURCES[parts.type];
  if (!kind) throw new Error(`tesseract: unknown resource type ${parts.type}`);
  return [kind, parts];
}

/** `PropertyDiff.Kind` of pulumi's provider protocol. */
export const DiffKind = {
  ADD: 0,
  ADD_REPLACE: 1,
  DELETE: 2,
  DELETE_REPLACE: 3,
  UPDATE: 4,
  UPDATE_REPLACE: 5,
} as const;

/** A diff with Pulumi's per-property detail. */
export interface DetailedDiffResult extends provider.DiffResult {
  detailedDiff: Record<string, number>;
}

/**
 * Per-property kinds: every input whose value changed (from the old inputs, or the state when the
 * engine sends none), every property the lifecycle's diff replaces, and, when the lifecycle found a
 * change outside the inputs (edited sources, a rebuilt image, a dead container), the resource's
 * `changeCause` property.
 */
export function detailedDiff(
  result: provider.DiffResult,
  oldInputs: Props,
  news: Props,
  changeCause: string,
): Record<string, number> {
  const replaces = new Set((result.replaces ?? []).map((k) => (k.startsWith("fractal:") ? "server" : k)));
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(oldInputs), ...Object.keys(news)])) {
    if (k === "__provider" || sameValue(oldInputs[k], news[k])) continue;
    const added = oldInputs[k] === undefined;
    const deleted = news[k] === undefined;
    const r = replaces.has(k);
    out[k] = added
      ? r
        ? DiffKind.ADD_REPLACE
        : DiffKind.ADD
      : deleted
        ? r
          ? DiffKind.DELETE_REPLACE
          : DiffKind.DELETE
        : r
          ? DiffKind.UPDATE_REPLACE
          : DiffKind.UPDATE;
  }
  for (const k of replaces) if (out[k] === undefined) out[k] = DiffKind.UPDATE_REPLACE;
  if (result.changes && Object.keys(out).length === 0) out[changeCause] = DiffKind.UPDATE;
  return out;
}

/** Functions served as invokes: the same functions the TypeScript API exports (see functions.ts). */
const FUNCTIONS = new Map(PLUGIN_FUNCTIONS.map((f) => [f.token, f]));

/** The provider object served by `main()` (plus `configure` and `diffDetailed`, see server.ts). */
export class TesseractProvider implements provider.Provider {
  readonly version: string;
  private config: PluginConfig = {};

  constructor(version: string) {
    this.version = version;
  }

  async getSchema(): Promise<string> {
    return JSON.stringify({ ...SCHEMA, version: this.version });
  }

  /** Records the provider configuration (`tesseract:*`) from the engine's Configure request. */
  async configure(variables: Record<string, string>, args?: Props): Promise<void> {
    this.config = parseConfig(variables, reveal(args));
    await taskGroupImpl.configure(fractalConfigRequest(this.config) as never);
  }

  async check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
    const [kind, parts] = kindOf(urn);
    const secret = secretKeys(news);
    const plain = kind.prepare(reveal<Props>(news), parts, this.config);
    if (plain.docker !== undefined && news.docker === undefined && this.config.dockerKeyPem) secret.add("docker");
    // The lifecycle sees plain values: the paths of the secret ones go along (and are not kept).
    const marks = secretPaths(news).filter(Boolean);
    const result = await kind.impl.check(reveal(olds), { ...plain, [SECRET_MARKS_KEY]: marks });
    const inputs = withoutMarks((result.inputs ?? plain) as Props);
    return {
      inputs: markSecret(inputs, secret),
      ...(result.failures?.length ? { failures: result.failures } : {}),
    };
  }

  async diff(id: string, urn: string, olds: Props, news: Props): Promise<provider.DiffResult> {
    return this.diffDetailed(id, urn, olds, news, undefined);
  }

  /** `diff` with the old inputs (sent by the engine) and a per-property `detailedDiff`. */
  async diffDetailed(
    id: string,
    urn: string,
    olds: Props,
    news: Props,
    oldInputs: Props | undefined,
  ): Promise<DetailedDiffResult> {
    const [kind] = kindOf(urn);
    const state = reveal<Props>(olds);
    const plainNews = reveal<Props>(news);
    const result = await kind.impl.diff(id, state, plainNews);
    const before = oldInputs && Object.keys(oldInputs).length ? reveal<Props>(oldInputs) : state;
    return { ...result, detailedDiff: detailedDiff(result, before, plainNews, kind.changeCause) };
  }

  async create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    const [kind, parts] = kindOf(urn);
    // The URN scopes the call: progress lines go to this resource's row, per-stack defaults.
    const result = await inResource(urn, () => kind.impl.create(reveal(inputs)));
    return { id: result.id, outs: this.outputs(parts.type, result.outs, inputs) };
  }

  async read(id: string, urn: string, props?: Props): Promise<provider.ReadResult> {
    const [kind, parts] = kindOf(urn);
    const plain = reveal<Props>(props ?? {});
    if (Object.keys(plain).length === 0) {
      // `pulumi import` / a `get`: nothing but the ID is known.
      if (!kind.importById) throw new Error(`tesseract: ${parts.type} cannot be imported by ID yet`);
      const found = await kind.importById(id, this.config, parts);
      return found.id ? { ...found, props: this.outputs(parts.type, found.props, {}) } : { id: "", props: {} };
    }
    const result = await kind.impl.read(id, plain);
    if (!result.id) return { id: "", props: {} };
    return { id: result.id, props: this.outputs(parts.type, result.props, props ?? {}) };
  }

  async update(id: string, urn: string, olds: Props, news: Props): Promise<provider.UpdateResult> {
    const [kind, parts] = kindOf(urn);
    const result = await inResource(urn, () => kind.impl.update(id, reveal(olds), reveal(news)));
    return { outs: this.outputs(parts.type, result.outs, news) };
  }

  async delete(id: string, urn: string, props: Props): Promise<void> {
    const [kind] = kindOf(urn);
    await inResource(urn, () => kind.impl.delete(id, reveal(props)));
  }

  async invoke(token: string, inputs: Props): Promise<provider.InvokeResult> {
    const fn = FUNCTIONS.get(token);
    if (!fn) throw new Error(`tesseract: unknown function ${token}`);
    const args = reveal<Props>(inputs);
    const spec = (SCHEMA.functions as Record<string, { inputs: { required?: string[]; properties: Props } }>)[token];
    const missing = (spec.inputs.required ?? []).filter((k) => args[k] === undefined || args[k] === null);
    if (missing.length)
      return {
        failures: missing.map((k) => ({
          property: k,
          reason: `${k}: required (${(spec.inputs.properties[k] as { description?: string }).description ?? ""})`,
        })),
      };
    const marked = secretPaths(inputs).filter(Boolean);
    const outputs = toPlainJson((await fn.call(args, marked)) as Props);
    // A result computed from a secret is a secret (as the TypeScript `…Output` forms make it).
    return { outputs: marked.length ? markSecret(outputs, Object.keys(outputs)) : outputs };
  }

  /** Outputs as state: plain JSON; schema secrets and properties that came in secret stay secret. */
  private outputs(type: string, outs: unknown, secretSource: Props): Props {
    const plain = toPlainJson((outs ?? {}) as Props);
    return markSecret(plain, [...schemaSecrets(type), ...secretKeys(secretSource)]);
  }
}
