import type * as pulumi from "@pulumi/pulumi";
import { type CallSettings, clientFor, outputCall, plain } from "./common";

/** Arguments of `abstractEval`. */
export interface AbstractEvalArgs extends Pick<CallSettings, "timeoutMs" | "headers"> {
  /** Base url of the served Tesseract. */
  url: string;
  /**
   * The InputSchema with every array as `{shape, dtype}` (real arrays, typed or `{shape, dtype,
   * data}`, are reduced to that). Scalars declared as arrays (e.g. `Float64`) need
   * `{shape: [], dtype}` too.
   */
  inputs: Record<string, unknown>;
}

/** Arguments of `abstractEvalOutput`: every field may be a `pulumi.Input`. */
export interface AbstractEvalOutputArgs {
  /** Base url of the served Tesseract. */
  url: pulumi.Input<string>;
  /** The InputSchema with arrays as `{shape, dtype}`. */
  inputs: pulumi.Input<Record<string, unknown>>;
  /** Overall time limit for the call, ms. */
  timeoutMs?: pulumi.Input<number>;
  /** Extra HTTP headers. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Result of `abstractEval` / `abstractEvalOutput`. */
export interface AbstractEvalResult {
  /** The OutputSchema with every array as `{shape, dtype}`. */
  readonly outputs: Record<string, unknown>;
}

/** Output shapes and dtypes for given input shapes, without computing (`POST /abstract_eval`). */
export async function abstractEval(args: AbstractEvalArgs, _opts?: pulumi.InvokeOptions): Promise<AbstractEvalResult> {
  const out = await clientFor(args.url, args).abstractEval(args.inputs, { timeoutMs: args.timeoutMs });
  return { outputs: plain(out) };
}

/** `abstractEval` taking `pulumi.Input`s; no call during preview or while an argument is unknown. */
export function abstractEvalOutput(
  args: AbstractEvalOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<AbstractEvalResult> {
  return outputCall<AbstractEvalArgs, AbstractEvalResult>(args, opts, (a) => abstractEval(a));
}
