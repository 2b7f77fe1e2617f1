/**
 * TaskGroup's definition: its inputs (the zod schema `check` validates with: each field's rule, docs
 * and diff mark once; the nested objects' fields in their schemas, provider/fractal/schemas.ts),
 * outputs, secret paths and diff keys (see define.ts for what derives from it; DEVELOPING.md "A
 * resource's definition, end to end").
 */
import { z } from "zod";
import type { Assert } from "../../common/inputs";
import type { TaskGroupOutputs } from "../../fractal/backend";
import { CustomSpec, PipSpec, PixiSpec, ServerSpec, type TaskInfo } from "../../fractal/schemas";
import { absolutePathStr, httpUrlStr, nonEmptyStr, PYTHON_VERSIONS, validateCmd } from "../../fractal/validators";
import { field, fields, inputsOn, type ListsKeysOf, type SecretPath, type StateFits } from "./define";

/** `pip` collection: a package from a Python package index, or a local wheel file (uploaded to a server). */
export type TaskGroupPip = z.input<typeof PipSpec>;

/** `custom` collection: register the tasks of an existing Python environment (nothing is installed). */
export type TaskGroupCustom = z.input<typeof CustomSpec>;

/**
 * `pixi` source: adopt a pixi task group that was collected on the server through fractal-server's
 * `/api/v2/task/collect/pixi/` (exact match only). Creating pixi groups is refused at preview.
 */
export type TaskGroupPixi = z.input<typeof PixiSpec>;

/**
 * Per-resource fractal-server connection; overrides the provider config `fractal:url|email|password|token`.
 * The account is `email` + `password` (password login), or `token` (exactly one of the two).
 */
export type TaskGroupServer = z.input<typeof ServerSpec>;

/**
 * Everything the TaskGroup resource accepts (after defaults): each field's rule, its docs (JSDoc) and
 * how a change of it applies (`field`), once. `check` validates with it; the plain inputs, the Args,
 * the diff's key lists and the plugin schema derive from it.
 */
export const TaskGroupInputsSchema = z
  .strictObject(
    fields({
      /** Collect a pip package or wheel (exactly one of `pip` / `custom`). */
      pip: field("replace", PipSpec.optional()),
      /** Register an existing environment (exactly one of `pip` / `custom`). */
      custom: field("replace", CustomSpec.optional()),
      /** Server backend: adopt an existing pixi group (instead of `pip` / `custom`). */
      pixi: field("replace", PixiSpec.optional()),
      /** Whether the group's environment is installed (default true). `false` deactivates (removes the venv, keeps the freeze). */
      active: field("update", z.boolean().default(true)),
      /** `auto` (default: `server` when a server is configured, else `local`), `server`, or `local`. */
      backend: field("update", z.enum(["auto", "server", "local"]).default("auto")),
      /** Server connection overriding the provider config (the whole value is stored as a secret). */
      server: field("apart", ServerSpec.optional()),
      /** Server backend: keep the group private (no user group). */
      privateGroup: field("replace", z.boolean().optional()),
      /** Server backend: share the group with this user group (changed in place). */
      userGroupId: field("update", z.number().int().nonnegative().optional()),
      /** Local backend: base folder (default `<base>/<project>/<stack>`, `<base>` = `$PULUMI_TESSERACT_TASKS_DIR` or `~/.cache/pulumi-tesseract/fractal-tasks`). */
      tasksDir: field("replace", absolutePathStr.optional()),
      /** Local backend: base interpreters per Python version, e.g. `{"3.12": "/usr/bin/python3.12"}`. */
      pythonInterpreters: field("replace", z.partialRecord(z.enum(PYTHON_VERSIONS), absolutePathStr).optional()),
      /** Local backend: pip `--index-url`. */
      pipIndexUrl: field("update", httpUrlStr.optional()),
      /** Local backend: pip `--extra-index-url` values. */
      pipExtraIndexUrls: field("update", z.array(httpUrlStr).optional()),
      /** Local backend: pip `--find-links` values (folders or URLs). */
      pipFindLinks: field("update", z.array(nonEmptyStr).optional()),
      /** Local backend: pip `--no-index` (then `pip.packageVersion` is required). */
      pipNoIndex: field("update", z.boolean().optional()),
      /** Local backend: timeout of each step (venv, each pip call), seconds (default 600). */
      stepTimeoutSeconds: field("update", z.number().positive().max(86400).optional()),
      /** Server backend: timeout of each server activity (collect, deactivate, reactivate, delete), seconds (default 1800). */
      timeoutSeconds: field("update", z.number().positive().max(86400).optional()),
    }),
  )
  .check((ctx) => {
    const v = ctx.value;
    const sources = (["pip", "custom", "pixi"] as const).filter((k) => v[k] !== undefined);
    if (sources.length !== 1) {
      ctx.issues.push({
        code: "custom",
        message:
          sources.length === 0
            ? "set exactly one of `pip` and `custom` (neither is set; `pixi` adopts a pixi group of the server)"
            : `set exactly one of \`pip\` and \`custom\` (or \`pixi\`): both are set (${sources.join(", ")})`,
        input: v,
      });
    }
    if (v.privateGroup === true && v.userGroupId !== undefined) {
      ctx.issues.push({
        code: "custom",
        message: "`privateGroup: true` and `userGroupId` cannot both be set",
        input: v,
        path: ["userGroupId"],
      });
    }
    if (v.pipNoIndex && v.pipIndexUrl !== undefined) {
      ctx.issues.push({
        code: "custom",
        message:
          "`pipNoIndex` and `pipIndexUrl` cannot both be set (fix: remove pipIndexUrl to install from pipFindLinks only, or remove pipNoIndex)",
        input: v,
        path: ["pipIndexUrl"],
      });
    }
    for (const [i, s] of (v.pipFindLinks ?? []).entries()) {
      const err = validateCmd(s);
      if (err) ctx.issues.push({ code: "custom", message: err, input: v, path: ["pipFindLinks", i] });
    }
  });

/** The inputs of a TaskGroup, plain (the Args are these with every part an Input). */
export type TaskGroupInputFields = z.input<typeof TaskGroupInputsSchema>;

/** A collected task: name, type, commands, metadata, args schemas, category, modality, tags, docs. */
export type TaskGroupTask = Omit<TaskInfo, "version">;

/** The outputs of a TaskGroup (the class's output fields; the state holds the inputs too). */
export interface TaskGroupOutputFields {
  /** Server task-group id (server backend only). */
  taskGroupId?: number;
  /** Normalised package name (custom: the label). */
  pkgName: string;
  /** Collected version. */
  version?: string;
  /** Python version of the task venv. */
  pythonVersion?: string;
  /** Folder of the group (`<tasksDir>/[<user id>/]<pkg>/<version>`). */
  path?: string;
  /** The group's venv. */
  venvPath?: string;
  /** `pypi`, `wheel-file`, `pixi` (adopted) or `other` (custom). */
  origin: string;
  /** Pixi version of a `pixi` group. */
  pixiVersion?: string;
  /** `pip freeze --all` recorded at collection: drift is measured against it, repairs reinstall it. */
  envInfo?: string;
  /**
   * What `pulumi refresh` found changed since the collection (venv gone, freeze or tasks changed by
   * hand), each with its repair (`reinstall`, `patch-tasks`, `replace`) done by the next `pulumi up`.
   */
  drift?: { what: string; detail: string; repair: string }[];
  /** Whether the environment is installed. */
  active: boolean;
  /** The collected tasks. */
  tasks: TaskGroupTask[];
  /** Tail of the last activity log. */
  activityLog: string;
  /** `server` or `local`: where the group lives. */
  resolvedBackend: "server" | "local";
  /** Server backend: the fractal-server the group lives on (`server.url`, else the provider config's `fractal:url`). */
  serverUrl?: string;
}

/** The output fields, in the schema's order (checked against {@link TaskGroupOutputFields} below). */
export const TASK_GROUP_OUTPUTS = [
  "taskGroupId",
  "pkgName",
  "version",
  "pythonVersion",
  "path",
  "venvPath",
  "origin",
  "pixiVersion",
  "envInfo",
  "drift",
  "active",
  "tasks",
  "activityLog",
  "resolvedBackend",
  "serverUrl",
] as const;

/** TaskGroup: the server's password and bearer token (the whole `server` input is a secret in state), index URLs (may carry credentials). */
export const TASK_GROUP_SECRETS = [
  "server.password",
  "server.token",
  "pipIndexUrl",
  "pipExtraIndexUrls",
] as const satisfies readonly SecretPath<TaskGroupInputFields>[];

/** Hashes `check` adds of the files the inputs name (a changed wheel or manifest file replaces the group). */
export const TASK_GROUP_DERIVED_INPUTS = ["wheelSha256", "manifestSha256"] as const;

/** Inputs whose change replaces the group (marked `replace` in the schema), and the derived file hashes. */
export const TASK_GROUP_REPLACE_ON_CHANGES: readonly string[] = [
  ...inputsOn(TaskGroupInputsSchema.shape, "replace"),
  ...TASK_GROUP_DERIVED_INPUTS,
];

/** Inputs that are applied in place (or only stored): marked `update` in the schema. */
export const TASK_GROUP_UPDATE_IN_PLACE: readonly string[] = inputsOn(TaskGroupInputsSchema.shape, "update");

/** Inputs the diff judges by their parts (marked `apart`): `server` (another server or account replaces, a new password or token does not). */
export const TASK_GROUP_DIFFED_APART: readonly string[] = inputsOn(TaskGroupInputsSchema.shape, "apart");

/** Compile-time check: the output list names exactly the output fields. */
export type TaskGroupOutputsListed = Assert<ListsKeysOf<typeof TASK_GROUP_OUTPUTS, TaskGroupOutputFields>>;
/** Compile-time check: the state the provider returns fills every output field with its type. */
export type TaskGroupStateFits = Assert<StateFits<TaskGroupOutputs, TaskGroupOutputFields>>;
