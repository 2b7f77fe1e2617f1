import * as pulumi from "@pulumi/pulumi";
import type { CheckedInputs, TaskGroupOutputs } from "../fractal/backend";
import { type ArgsOf, type OutputFieldsOf, outputPlaceholders } from "./definitions/define";
import {
  TASK_GROUP_OUTPUTS,
  TASK_GROUP_SECRETS,
  type TaskGroupCustom,
  type TaskGroupInputFields,
  type TaskGroupOutputFields,
  type TaskGroupPip,
  type TaskGroupPixi,
  type TaskGroupServer,
  type TaskGroupTask,
} from "./definitions/task-group";
import { withSecretInputs, withSecretOutputs } from "./secret-inputs";
import { dynamicProvider, urnInput } from "./shim";

/**
 * The dynamic provider: a module-level singleton whose methods only load the lifecycle module by
 * package name, so nothing but these few lines is serialized into state.
 */
const provider = dynamicProvider<CheckedInputs, TaskGroupOutputs>(() =>
  require("pulumi-tesseract/lib/resources/task-group-impl.js"),
);

/** `pip` collection (see {@link TaskGroupPip}), every part an Input. */
export type TaskGroupPipArgs = ArgsOf<TaskGroupPip>;
/** `custom` collection (see {@link TaskGroupCustom}), every part an Input. */
export type TaskGroupCustomArgs = ArgsOf<TaskGroupCustom>;
/** `pixi` source (see {@link TaskGroupPixi}), every part an Input. */
export type TaskGroupPixiArgs = ArgsOf<TaskGroupPixi>;
/** Per-resource fractal-server connection (see {@link TaskGroupServer}), every part an Input. */
export type TaskGroupServerArgs = ArgsOf<TaskGroupServer>;

/** Arguments of a {@link TaskGroup}: its definition's inputs ({@link TaskGroupInputFields}), every part an Input. */
export type TaskGroupArgs = ArgsOf<TaskGroupInputFields>;

export type { TaskGroupTask };

/**
 * A Fractal task group: the tasks of a Python package collected the way fractal-server does it,
 * either on a real fractal-server (REST; provider config `fractal:url` and `fractal:email` +
 * `fractal:password` or `fractal:token`) or locally (a venv per package/version under a tasks directory).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below adds only the output fields Pulumi sets on the instance
export class TaskGroup extends pulumi.dynamic.Resource {
  /**
   * @param name resource name
   * @param args what to collect and where
   * @param opts resource options
   */
  constructor(name: string, args: TaskGroupArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<string, unknown> = {
      // Every output, unknown until the provider answers (the definition's list); an input of the
      // same name (`active`) overrides its placeholder.
      ...outputPlaceholders(TASK_GROUP_OUTPUTS),
      ...args,
      // Hidden: tells the provider process which resource it works for (progress, per-stack defaults).
      __urn: urnInput(name, "fractal", "TaskGroup", opts),
    };
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

// The output fields come from the definition (declaration merging: a class's instance type takes
// the members of an interface of the same name), so they are never written twice.
export interface TaskGroup extends OutputFieldsOf<TaskGroupOutputFields> {}
