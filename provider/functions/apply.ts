import type * as pulumi from "@pulumi/pulumi";
import { clientFor, outputCall, plain, type TesseractCallArgs, type TesseractCallOutputArgs } from "./common";

/** Arguments of `apply`. */
export type ApplyArgs = TesseractCallArgs;

/** Arguments of `applyOutput`: like `ApplyArgs`, every field may be a `pulumi.Input`. */
export type ApplyOutputArgs = TesseractCallOutputArgs;

/** Result of `apply` / `applyOutput`. */
export interface ApplyResult {
  /**
   * The Tesseract's outputs as plain JSON: arrays are `{shape, dtype, data}` with a flat `data`
   * list (see `PlainNDArray`), so the result can be exported as a stack output.
   */
  readonly outputs: Record<string, unknown>;
}

/**
 * Runs a served Tesseract once (`POST /apply`) and returns its outputs as plain JSON.
 * Calls happen on every `pulumi up` and are not recorded in state.
 *
 * For typed-array results (and many calls), use `TesseractClient` directly.
 */
export async function apply(args: ApplyArgs, _opts?: pulumi.InvokeOptions): Promise<ApplyResult> {
  const out = await clientFor(args.url, args).apply(args.inputs, { runId: args.runId, timeoutMs: args.timeoutMs });
  return { outputs: plain(out) };
}

/**
 * `apply` taking `pulumi.Input`s and returning an `Output`. During preview, and while any argument
 * is unknown, no call is made and the result is unknown.
 */
export function applyOutput(args: ApplyOutputArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<ApplyResult> {
  return outputCall<ApplyArgs, ApplyResult>(args, opts, (a) => apply(a));
}
