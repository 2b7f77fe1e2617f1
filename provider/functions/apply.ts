import type * as pulumi from "@pulumi/pulumi";
import { type CallSettings, clientFor, outputCall, plain } from "./common";

/** Arguments of `apply`. */
export interface ApplyArgs extends CallSettings {
  /** Base url of the served Tesseract, e.g. a `TesseractService`'s `url` output. */
  url: string;
  /**
   * The Tesseract's InputSchema as an object. Arrays may be typed arrays, `{shape, dtype, data}`
   * values, or plain numbers and nested lists.
   */
  inputs: Record<string, unknown>;
  /** Run id for the Tesseract's logs (`run_<id>/`); the server picks one otherwise. */
  runId?: string;
}

/** Arguments of `applyOutput`: like `ApplyArgs`, every field may be a `pulumi.Input`. */
export interface ApplyOutputArgs {
  /** Base url of the served Tesseract, e.g. a `TesseractService`'s `url` output. */
  url: pulumi.Input<string>;
  /** The Tesseract's InputSchema; values anywhere inside may be `pulumi.Input`s. */
  inputs: pulumi.Input<Record<string, unknown>>;
  /** Run id for the Tesseract's logs. */
  runId?: pulumi.Input<string>;
  /** `"base64"` (default) or `"json"`. */
  encoding?: pulumi.Input<CallSettings["encoding"]>;
  /** Check inputs against the Tesseract's input schema before sending. */
  validateInputs?: pulumi.Input<boolean>;
  /** Overall time limit for the call, ms. */
  timeoutMs?: pulumi.Input<number>;
  /** Extra HTTP headers. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

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
