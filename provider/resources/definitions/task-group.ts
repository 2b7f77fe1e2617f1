/**
 * TaskGroup's definition: its inputs (with the docs of each field), outputs, secret paths and
 * diff keys, written once (see define.ts for what derives from it; DEVELOPING.md "A resource's
 * definition, end to end"). The zod schema that validates the inputs (`TaskGroupInputsSchema`,
 * provider/fractal/schemas.ts) must accept exactly these types: a compile-time check there says so.
 */
import type { z } from "zod";
import type { Assert } from "../../common/inputs";
import type { TaskGroupOutputs } from "../../fractal/backend";
import type { TaskGroupInputsSchema, TaskInfo } from "../../fractal/schemas";
import type { ListsKeysOf, SchemaMatches, SecretPath, StateFits } from "./define";

/** `pip` collection: a package from a Python package index, or a local wheel file (uploaded to a server). */
export interface TaskGroupPip {
  /** Package-index name (exactly one of `package` / `wheelFile`). Forbidden: any of `` `#$&*()\|[]{};<>?! ``. */
  package?: string;
  /** Absolute path of a local wheel (`<dist>-<version>-...whl`); uploaded to the server, or installed locally. */
  wheelFile?: string;
  /** Version (index packages only). Exact, or a prefix as fractal-server resolves it; default: newest. */
  packageVersion?: string;
  /** Extras, e.g. `"extra1,extra2"` (no brackets). */
  packageExtras?: string;
  /**
   * Python version for the task venv: `3.9` … `3.15` (3.15 needs fractal-server 2.25.3+); default: the
   * server's default (local: `python3` on PATH). Checked at preview against what the server offers.
   */
  pythonVersion?: "3.9" | "3.10" | "3.11" | "3.12" | "3.13" | "3.14" | "3.15";
  /** `{package: version}` installed before the package (keys may use `[extra]`). */
  pinnedPackageVersionsPre?: Record<string, string>;
  /** `{package: version}` installed after the package (overrides its dependencies). */
  pinnedPackageVersionsPost?: Record<string, string>;
}

/** `custom` collection: register the tasks of an existing Python environment (nothing is installed). */
export interface TaskGroupCustom {
  /** The manifest object, or an absolute path to `__FRACTAL_MANIFEST__.json`. */
  manifest: string | Record<string, unknown>;
  /** Absolute path of the interpreter that runs the tasks. */
  pythonInterpreter: string;
  /** Name of the task group (its `pkgName`; not normalised). */
  label: string;
  /** Absolute folder of the installed package (exactly one of `packageRoot` / `packageName`). */
  packageRoot?: string;
  /** Importable package name; its folder is found with the interpreter (exactly one of `packageRoot` / `packageName`). */
  packageName?: string;
  /** Version recorded for the group and its tasks. */
  version?: string;
}

/**
 * `pixi` source: adopt a pixi task group that was collected on the server through fractal-server's
 * `/api/v2/task/collect/pixi/` (exact match only). Creating pixi groups is refused at preview.
 */
export interface TaskGroupPixi {
  /** Package name of the group (normalised like the server does). */
  package: string;
  /** Version of the group. */
  version: string;
  /** Pixi version the group was collected with (checked when set). */
  pixiVersion?: string;
}

/**
 * Per-resource fractal-server connection; overrides the provider config `fractal:url|email|password|token`.
 * The account is `email` + `password` (password login), or `token` (exactly one of the two).
 */
export interface TaskGroupServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Account e-mail (with `password`; not with `token`). */
  email?: string;
  /** Account password (with `email`; stored as a Pulumi secret). */
  password?: string;
  /**
   * Bearer token instead of `email`/`password`, e.g. from the server's OAuth login when it runs with
   * `FRACTAL_DISABLE_BASIC_AUTH=true` (stored as a Pulumi secret). Sent as is, never renewed: it
   * lasts the server's `JWT_EXPIRE_SECONDS` (180 s by default).
   */
  token?: string;
}

/** The inputs of a TaskGroup, plain (the Args are these with every part an Input). */
export interface TaskGroupInputFields {
  /** Collect a pip package or wheel (exactly one of `pip` / `custom`). */
  pip?: TaskGroupPip;
  /** Register an existing environment (exactly one of `pip` / `custom`). */
  custom?: TaskGroupCustom;
  /** Server backend: adopt an existing pixi group (instead of `pip` / `custom`). */
  pixi?: TaskGroupPixi;
  /** Whether the group's environment is installed (default true). `false` deactivates (removes the venv, keeps the freeze). */
  active?: boolean;
  /** `auto` (default: `server` when a server is configured, else `local`), `server`, or `local`. */
  backend?: "auto" | "server" | "local";
  /** Server connection overriding the provider config (the whole value is stored as a secret). */
  server?: TaskGroupServer;
  /** Server backend: keep the group private (no user group). */
  privateGroup?: boolean;
  /** Server backend: share the group with this user group (changed in place). */
  userGroupId?: number;
  /** Local backend: base folder (default `<base>/<project>/<stack>`, `<base>` = `$PULUMI_TESSERACT_TASKS_DIR` or `~/.cache/pulumi-tesseract/fractal-tasks`). */
  tasksDir?: string;
  /** Local backend: base interpreters per Python version, e.g. `{"3.12": "/usr/bin/python3.12"}`. */
  pythonInterpreters?: Record<string, string>;
  /** Local backend: pip `--index-url`. */
  pipIndexUrl?: string;
  /** Local backend: pip `--extra-index-url` values. */
  pipExtraIndexUrls?: string[];
  /** Local backend: pip `--find-links` values (folders or URLs). */
  pipFindLinks?: string[];
  /** Local backend: pip `--no-index` (then `pip.packageVersion` is required). */
  pipNoIndex?: boolean;
  /** Local backend: timeout of each step (venv, each pip call), seconds (default 600). */
  stepTimeoutSeconds?: number;
  /** Server backend: timeout of each server activity (collect, deactivate, reactivate, delete), seconds (default 1800). */
  timeoutSeconds?: number;
}

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

/** Inputs whose change replaces the group (and the derived file hashes). */
export const TASK_GROUP_REPLACE_ON_CHANGES = [
  "pip",
  "custom",
  "pixi",
  "privateGroup",
  "tasksDir",
  "pythonInterpreters",
  ...TASK_GROUP_DERIVED_INPUTS,
] as const;

/** Inputs that are applied in place (or only stored). */
export const TASK_GROUP_UPDATE_IN_PLACE = [
  "active",
  "userGroupId",
  "pipIndexUrl",
  "pipExtraIndexUrls",
  "pipFindLinks",
  "pipNoIndex",
  "stepTimeoutSeconds",
  "timeoutSeconds",
  "backend",
] as const;

/** Inputs the diff judges by their parts: `server` (another server or account replaces, a new password or token does not). */
export const TASK_GROUP_DIFFED_APART = ["server"] as const;

/** Compile-time check: the output list names exactly the output fields. */
export type TaskGroupOutputsListed = Assert<ListsKeysOf<typeof TASK_GROUP_OUTPUTS, TaskGroupOutputFields>>;
/** Compile-time check: the state the provider returns fills every output field with its type. */
export type TaskGroupStateFits = Assert<StateFits<TaskGroupOutputs, TaskGroupOutputFields>>;
/** Compile-time check: every input, and nothing else, is in a diff list (replace, in place, or judged apart). */
export type TaskGroupInputsDiffed = Assert<
  ListsKeysOf<
    readonly (
      | Exclude<(typeof TASK_GROUP_REPLACE_ON_CHANGES)[number], (typeof TASK_GROUP_DERIVED_INPUTS)[number]>
      | (typeof TASK_GROUP_UPDATE_IN_PLACE)[number]
      | (typeof TASK_GROUP_DIFFED_APART)[number]
    )[],
    TaskGroupInputFields
  >
>;
/** Compile-time check: the zod schema `check` validates with accepts exactly the inputs defined here. */
export type TaskGroupSchemaMatches = Assert<SchemaMatches<z.input<typeof TaskGroupInputsSchema>, TaskGroupInputFields>>;
