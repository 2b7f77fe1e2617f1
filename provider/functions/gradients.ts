import type * as pulumi from "@pulumi/pulumi";
import { clientFor, outputCall, plain, type TesseractCallArgs, type TesseractCallOutputArgs } from "./common";

type OutputSettings = TesseractCallOutputArgs;
type PlainSettings = TesseractCallArgs;

// ---- jacobian ------------------------------------------------------------------------------------

/** Arguments of `jacobian`. */
export interface JacobianArgs extends PlainSettings {
  /** Differentiable input paths to differentiate with respect to, e.g. `["a", "s"]`. */
  jacInputs: string[];
  /** Differentiable output paths to differentiate, e.g. `["result"]`. */
  jacOutputs: string[];
}

/** Arguments of `jacobianOutput`: like `JacobianArgs`, every field may be a `pulumi.Input`. */
export interface JacobianOutputArgs extends OutputSettings {
  /** Differentiable input paths. */
  jacInputs: pulumi.Input<pulumi.Input<string>[]>;
  /** Differentiable output paths. */
  jacOutputs: pulumi.Input<pulumi.Input<string>[]>;
}

/** Result of `jacobian` / `jacobianOutput`. */
export interface JacobianResult {
  /**
   * `{outputPath: {inputPath: {shape, dtype, data}}}`, each block of shape
   * `(*output.shape, *input.shape)`, as plain JSON.
   */
  readonly jacobian: Record<string, Record<string, unknown>>;
}

/** Computes the Jacobian of a served Tesseract (`POST /jacobian`). */
export async function jacobian(args: JacobianArgs, _opts?: pulumi.InvokeOptions): Promise<JacobianResult> {
  const out = await clientFor(args.url, args).jacobian(args.inputs, args.jacInputs, args.jacOutputs, {
    runId: args.runId,
    timeoutMs: args.timeoutMs,
  });
  return { jacobian: plain(out) };
}

/** `jacobian` taking `pulumi.Input`s; no call during preview or while an argument is unknown. */
export function jacobianOutput(
  args: JacobianOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<JacobianResult> {
  return outputCall<JacobianArgs, JacobianResult>(args, opts, (a) => jacobian(a));
}

// ---- JVP -----------------------------------------------------------------------------------------

/** Arguments of `jacobianVectorProduct`. */
export interface JacobianVectorProductArgs extends PlainSettings {
  /** Differentiable input paths the tangent vector covers. */
  jvpInputs: string[];
  /** Differentiable output paths to return. */
  jvpOutputs: string[];
  /** One array per entry of `jvpInputs`, shaped like that input. */
  tangentVector: Record<string, unknown>;
}

/** Arguments of `jacobianVectorProductOutput`: every field may be a `pulumi.Input`. */
export interface JacobianVectorProductOutputArgs extends OutputSettings {
  /** Differentiable input paths the tangent vector covers. */
  jvpInputs: pulumi.Input<pulumi.Input<string>[]>;
  /** Differentiable output paths to return. */
  jvpOutputs: pulumi.Input<pulumi.Input<string>[]>;
  /** One array per entry of `jvpInputs`. */
  tangentVector: pulumi.Input<Record<string, unknown>>;
}

/** Result of `jacobianVectorProduct` / `jacobianVectorProductOutput`. */
export interface JacobianVectorProductResult {
  /** `J·v` as `{outputPath: {shape, dtype, data}}`, plain JSON. */
  readonly jvp: Record<string, unknown>;
}

/** Computes a Jacobian-vector product `J·v` (`POST /jacobian_vector_product`). */
export async function jacobianVectorProduct(
  args: JacobianVectorProductArgs,
  _opts?: pulumi.InvokeOptions,
): Promise<JacobianVectorProductResult> {
  const out = await clientFor(args.url, args).jacobianVectorProduct(
    args.inputs,
    args.jvpInputs,
    args.jvpOutputs,
    args.tangentVector,
    { runId: args.runId, timeoutMs: args.timeoutMs },
  );
  return { jvp: plain(out) };
}

/** `jacobianVectorProduct` taking `pulumi.Input`s; no call during preview or while an argument is unknown. */
export function jacobianVectorProductOutput(
  args: JacobianVectorProductOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<JacobianVectorProductResult> {
  return outputCall<JacobianVectorProductArgs, JacobianVectorProductResult>(args, opts, (a) =>
    jacobianVectorProduct(a),
  );
}

// ---- VJP -----------------------------------------------------------------------------------------

/** Arguments of `vectorJacobianProduct`. */
export interface VectorJacobianProductArgs extends PlainSettings {
  /** Differentiable input paths to return. */
  vjpInputs: string[];
  /** Differentiable output paths the cotangent vector covers. */
  vjpOutputs: string[];
  /** One array per entry of `vjpOutputs`, shaped like that output. */
  cotangentVector: Record<string, unknown>;
}

/** Arguments of `vectorJacobianProductOutput`: every field may be a `pulumi.Input`. */
export interface VectorJacobianProductOutputArgs extends OutputSettings {
  /** Differentiable input paths to return. */
  vjpInputs: pulumi.Input<pulumi.Input<string>[]>;
  /** Differentiable output paths the cotangent vector covers. */
  vjpOutputs: pulumi.Input<pulumi.Input<string>[]>;
  /** One array per entry of `vjpOutputs`. */
  cotangentVector: pulumi.Input<Record<string, unknown>>;
}

/** Result of `vectorJacobianProduct` / `vectorJacobianProductOutput`. */
export interface VectorJacobianProductResult {
  /** `vᵀ·J` as `{inputPath: {shape, dtype, data}}`, plain JSON. */
  readonly vjp: Record<string, unknown>;
}

/** Computes a vector-Jacobian product `vᵀ·J` (`POST /vector_jacobian_product`). */
export async function vectorJacobianProduct(
  args: VectorJacobianProductArgs,
  _opts?: pulumi.InvokeOptions,
): Promise<VectorJacobianProductResult> {
  const out = await clientFor(args.url, args).vectorJacobianProduct(
    args.inputs,
    args.vjpInputs,
    args.vjpOutputs,
    args.cotangentVector,
    { runId: args.runId, timeoutMs: args.timeoutMs },
  );
  return { vjp: plain(out) };
}

/** `vectorJacobianProduct` taking `pulumi.Input`s; no call during preview or while an argument is unknown. */
export function vectorJacobianProductOutput(
  args: VectorJacobianProductOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<VectorJacobianProductResult> {
  return outputCall<VectorJacobianProductArgs, VectorJacobianProductResult>(args, opts, (a) =>
    vectorJacobianProduct(a),
  );
}
