import * as pulumi from "@pulumi/pulumi";
import type { Assert, SameKeys } from "../common/inputs";
import { TASK_GROUP_SECRETS } from "../common/secret-fields";
import type { CheckedInputs, TaskGroupOutputs } from "../fractal/backend";
import type { TaskGroupInputs, TaskInfo } from "../fractal/schemas";
import { withSecretInputs, withSecretOutputs } from "./secret-inputs";
import { dynamicProvider, urnInput } from "./shim";

/**
 * The dynamic provider: a module-level singleton whose methods only load the lifecycle module by
 * package name, so nothing but these few lines is serialized into state.
 */
const provider = dynamicProvider<CheckedInputs, TaskGroupOutputs>(() =>
  require("pulumi-tesseract/lib/resources/task-group-impl.js"),
);

/** `pip` collection: a package from a Python package index, or a local wheel file (uploaded to a server). */
export interface TaskGroupPipArgs {
  /** Package-index name (exactly one of `package` / `wheelFile`). Forbidden: any of `` `#$&*()\|[]{};<>?! ``. */
  package?: pulumi.Input<string>;
  /** Absolute path of a local wheel (`<dist>-<version>-...whl`); uploaded to the server, or installed locally. */
  wheelFile?: pulumi.Input<string>;
  /** Version (index packages only). Exact, or a prefix as fractal-server resolves it; default: newest. */
  packageVersion?: pulumi.Input<string>;
  /** Extras, e.g. `"extra1,extra2"` (no brackets). */
  packageExtras?: pulumi.Input<string>;
  /**
   * Python version for the task venv: `3.9` … `3.15` (3.15 needs fractal-server 2.25.3+); default: the
   * server's default (local: `python3` on PATH). Checked at preview against what the server offers.
   */
  pythonVersion?: pulumi.Input<"3.9" | "3.10" | "3.11" | "3.12" | "3.13" | "3.14" | "3.15">;
  /** `{package: version}` installed before the package (keys may use `[extra]`). */
  pinnedPackageVersionsPre?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** `{package: version}` installed after the package (overrides its dependencies). */
  pinnedPackageVersionsPost?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** `custom` collection: register the tasks of an existing Python environment (nothing is installed). */
export interface TaskGroupCustomArgs {
  /** The manifest object, or an absolute path to `__FRACTAL_MANIFEST__.json`. */
  manifest: pulumi.Input<string | Record<string, unknown>>;
  /** Absolute path of the interpreter that runs the tasks. */
  pythonInterpreter: pulumi.Input<string>;
  /** Name of the task group (its `pkgName`; not normalised). */
  label: pulumi.Input<string>;
  /** Absolute folder of the installed package (exactly one of `packageRoot` / `packageName`). */
  packageRoot?: pulumi.Input<string>;
  /** Importable package name; its folder is found with the interpreter (exactly one of `packageRoot` / `packageName`). */
  packageName?: pulumi.Input<string>;
  /** Version recorded for the group and its tasks. */
  version?: pulumi.Input<string>;
}

/**
 * `pixi` source: adopt a pixi task group that was collected on the server through fractal-server's
 * `/api/v2/task/collect/pixi/` (exact match only). Creating pixi groups is refused at preview.
 */
export interface TaskGroupPixiArgs {
  /** Package name of the group (normalised like the server does). */
  package: pulumi.Input<string>;
  /** Version of the group. */
  version: pulumi.Input<string>;
  /** Pixi version the group was collected with (checked when set). */
  pixiVersion?: pulumi.Input<string>;
}

/**
 * Per-resource fractal-server connection; overrides the provider config `fractal:url|email|password|token`.
 * The account is `email` + `password` (password login), or `token` (exactly one of the two).
 */
export interface TaskGroupServerArgs {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: pulumi.Input<string>;
  /** Account e-mail (with `password`; not with `token`). */
  email?: pulumi.Input<string>;
  /** Account password (with `email`; stored as a Pulumi secret). */
  password?: pulumi.Input<string>;
  /**
   * Bearer token instead of `email`/`password`, e.g. from the server's OAuth login when it runs with
   * `FRACTAL_DISABLE_BASIC_AUTH=true` (stored as a Pulumi secret). Sent as is, never renewed: it
   * lasts the server's `JWT_EXPIRE_SECONDS` (180 s by default).
   */
  token?: pulumi.Input<string>;
}

/** Arguments of a {@link TaskGroup}. */
export interface TaskGroupArgs {
  /** Collect a pip package or wheel (exactly one of `pip` / `custom`). */
  pip?: pulumi.Input<TaskGroupPipArgs>;
  /** Register an existing environment (exactly one of `pip` / `custom`). */
  custom?: pulumi.Input<TaskGroupCustomArgs>;
  /** Server backend: adopt an existing pixi group (instead of `pip` / `custom`). */
  pixi?: pulumi.Input<TaskGroupPixiArgs>;
  /** Whether the group's environment is installed (default true). `false` deactivates (removes the venv, keeps the freeze). */
  active?: pulumi.Input<boolean>;
  /** `auto` (default: `server` when a server is configured, else `local`), `server`, or `local`. */
  backend?: pulumi.Input<"auto" | "server" | "local">;
  /** Server connection overriding the provider config (the whole value is stored as a secret). */
  server?: pulumi.Input<TaskGroupServerArgs>;
  /** Server backend: keep the group private (no user group). */
  privateGroup?: pulumi.Input<boolean>;
  /** Server backend: share the group with this user group (changed in place). */
  userGroupId?: pulumi.Input<number>;
  /** Local backend: base folder (default `<base>/<project>/<stack>`, `<base>` = `$PULUMI_TESSERACT_TASKS_DIR` or `~/.cache/pulumi-tesseract/fractal-tasks`). */
  tasksDir?: pulumi.Input<string>;
  /** Local backend: base interpreters per Python version, e.g. `{"3.12": "/usr/bin/python3.12"}`. */
  pythonInterpreters?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Local backend: pip `--index-url`. */
  pipIndexUrl?: pulumi.Input<string>;
  /** Local backend: pip `--extra-index-url` values. */
  pipExtraIndexUrls?: pulumi.Input<pulumi.Input<string>[]>;
  /** Local backend: pip `--find-links` values (folders or URLs). */
  pipFindLinks?: pulumi.Input<pulumi.Input<string>[]>;
  /** Local backend: pip `--no-index` (then `pip.packageVersion` is required). */
  pipNoIndex?: pulumi.Input<boolean>;
  /** Local backend: timeout of each step (venv, each pip call), seconds (default 600). */
  stepTimeoutSeconds?: pulumi.Input<number>;
  /** Server backend: timeout of each server activity (collect, deactivate, reactivate, delete), seconds (default 1800). */
  timeoutSeconds?: pulumi.Input<number>;
}

/** A collected task: name, type, commands, metadata, args schemas, category, modality, tags, docs. */
export type TaskGroupTask = Omit<TaskInfo, "version">;

/** Compile-time check: the Args and the schema-inferred plain inputs name the same keys. */
export type TaskGroupArgsMatchInputs = Assert<SameKeys<TaskGroupArgs, TaskGroupInputs>>;

/**
 * A Fractal task group: the tasks of a Python package collected the way fractal-server does it,
 * either on a real fractal-server (REST; provider config `fractal:url` and `fractal:email` +
 * `fractal:password` or `fractal:token`) or locally (a venv per package/version under a tasks directory).
 */
export class TaskGroup extends pulumi.dynamic.Resource {
  /** Server task-group id (server backend only). */
  declare readonly taskGroupId: pulumi.Output<number | undefined>;
  /** Normalised package name (custom: the label). */
  declare readonly pkgName: pulumi.Output<string>;
  /** Collected version. */
  declare readonly version: pulumi.Output<string | undefined>;
  /** Python version of the task venv. */
  declare readonly pythonVersion: pulumi.Output<string | undefined>;
  /** Folder of the group (`<tasksDir>/[<user id>/]<pkg>/<version>`). */
  declare readonly path: pulumi.Output<string | undefined>;
  /** The group's venv. */
  declare readonly venvPath: pulumi.Output<string | undefined>;
  /** `pypi`, `wheel-file`, `pixi` (adopted) or `other` (custom). */
  declare readonly origin: pulumi.Output<string>;
  /** Pixi version of a `pixi` group. */
  declare readonly pixiVersion: pulumi.Output<string | undefined>;
  /** `pip freeze --all` recorded at collection: drift is measured against it, repairs reinstall it. */
  declare readonly envInfo: pulumi.Output<string | undefined>;
  /**
   * What `pulumi refresh` found changed since the collection (venv gone, freeze or tasks changed by
   * hand), each with its repair (`reinstall`, `patch-tasks`, `replace`) done by the next `pulumi up`.
   */
  declare readonly drift: pulumi.Output<{ what: string; detail: string; repair: string }[] | undefined>;
  /** Whether the environment is installed. */
  declare readonly active: pulumi.Output<boolean>;
  /** The collected tasks. */
  declare readonly tasks: pulumi.Output<TaskGroupTask[]>;
  /** Tail of the last activity log. */
  declare readonly activityLog: pulumi.Output<string>;
  /** `server` or `local`: where the group lives. */
  declare readonly resolvedBackend: pulumi.Output<"server" | "local">;

  /**
   * @param name resource name
   * @param args what to collect and where
   * @param opts resource options
   */
  constructor(name: string, args: TaskGroupArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<string, unknown> = {
      ...args,
      // Hidden: tells the provider process which resource it works for (progress, per-stack defaults).
      __urn: urnInput(name, "fractal", "TaskGroup", opts),
      taskGroupId: undefined,
      pkgName: undefined,
      version: undefined,
      pythonVersion: undefined,
      path: undefined,
      venvPath: undefined,
      origin: undefined,
      pixiVersion: undefined,
      envInfo: undefined,
      drift: undefined,
      tasks: undefined,
      activityLog: undefined,
      resolvedBackend: undefined,
    };
    if (args.active === undefined) props.active = undefined;
    // Secret in the state's inputs and outputs (TASK_GROUP_SECRETS): `server` (password, token) and the index URLs.
    super(
      provider,
      name,
      withSecretInputs(props, TASK_GROUP_SECRETS),
      withSecretOutputs(opts, TASK_GROUP_SECRETS),
      "fractal",
      "TaskGroup",
    );
  }
}
