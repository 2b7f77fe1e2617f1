import type * as pulumi from "@pulumi/pulumi";
import { toPlainJson } from "../common/plain";
import { type CallSettings, clientFor, outputCall } from "./common";

/** Arguments of `getOpenApiSchema` and `getAvailableEndpoints`. */
export interface GetOpenApiSchemaArgs extends Pick<CallSettings, "timeoutMs" | "headers"> {
  /** Base url of the served Tesseract. */
  url: string;
}

/** Arguments of `getOpenApiSchemaOutput` and `getAvailableEndpointsOutput`. */
export interface GetOpenApiSchemaOutputArgs {
  /** Base url of the served Tesseract. */
  url: pulumi.Input<string>;
  /** Overall time limit for the call, ms. */
  timeoutMs?: pulumi.Input<number>;
  /** Extra HTTP headers. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Result of `getOpenApiSchema` / `getOpenApiSchemaOutput`. */
export interface GetOpenApiSchemaResult {
  /** The Tesseract's OpenAPI document (`GET /openapi.json`). */
  readonly schema: Record<string, unknown>;
  /** JSON Schema of `inputs` (`components.schemas.Apply_InputSchema`), if present. */
  readonly inputSchema?: Record<string, unknown>;
  /** JSON Schema of `apply`'s outputs (`components.schemas.Apply_OutputSchema`), if present. */
  readonly outputSchema?: Record<string, unknown>;
}

/** Reads a served Tesseract's OpenAPI document. */
export async function getOpenApiSchema(
  args: GetOpenApiSchemaArgs,
  _opts?: pulumi.InvokeOptions,
): Promise<GetOpenApiSchemaResult> {
  const doc = await clientFor(args.url, args).openapiSchema({ refresh: true, timeoutMs: args.timeoutMs });
  const schemas = doc.components?.schemas ?? {};
  return toPlainJson({ schema: doc, inputSchema: schemas.Apply_InputSchema, outputSchema: schemas.Apply_OutputSchema });
}

/** `getOpenApiSchema` taking `pulumi.Input`s; no call during preview or while the url is unknown. */
export function getOpenApiSchemaOutput(
  args: GetOpenApiSchemaOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetOpenApiSchemaResult> {
  return outputCall<GetOpenApiSchemaArgs, GetOpenApiSchemaResult>(args, opts, (a) => getOpenApiSchema(a));
}

/** Arguments of `getAvailableEndpoints`. */
export type GetAvailableEndpointsArgs = GetOpenApiSchemaArgs;
/** Arguments of `getAvailableEndpointsOutput`. */
export type GetAvailableEndpointsOutputArgs = GetOpenApiSchemaOutputArgs;

/** Result of `getAvailableEndpoints` / `getAvailableEndpointsOutput`. */
export interface GetAvailableEndpointsResult {
  /** Endpoint names without the leading `/`, e.g. `["apply", "jacobian", "health", ...]`. */
  readonly endpoints: string[];
}

/** Lists the endpoints a served Tesseract implements (from its OpenAPI document). */
export async function getAvailableEndpoints(
  args: GetAvailableEndpointsArgs,
  _opts?: pulumi.InvokeOptions,
): Promise<GetAvailableEndpointsResult> {
  const { schema } = await getOpenApiSchema(args);
  const paths = (schema.paths ?? {}) as Record<string, unknown>;
  return { endpoints: Object.keys(paths).map((p) => p.replace(/^\//, "")) };
}

/** `getAvailableEndpoints` taking `pulumi.Input`s; no call during preview or while the url is unknown. */
export function getAvailableEndpointsOutput(
  args: GetAvailableEndpointsOutputArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetAvailableEndpointsResult> {
  return outputCall<GetAvailableEndpointsArgs, GetAvailableEndpointsResult>(args, opts, (a) =>
    getAvailableEndpoints(a),
  );
}
