/**
 * The Accept header of a call. It names the array format of the response (`json+base64`, or
 * `json+binref` when the client reads the server's output folder) and, when asked for and offered,
 * a compression: `application/json+base64; compression="lz4"` (tesseract-core 1.15 negotiates it
 * per request). A parameter is only ever sent to a server that advertises it: older runtimes take
 * everything after the last `/` as the format name and answer 500.
 */
import type { ResponseCompression } from "./client-types";
import type { OpenApiDocument } from "./openapi";

/** Array formats a response can be asked for. */
export type ResponseFormat = "json+base64" | "json+binref";

/** `application/<format>`, plus `; compression="<c>"` when one is given. */
export function acceptHeader(format: ResponseFormat, compression?: ResponseCompression): string {
  return compression === undefined ? `application/${format}` : `application/${format}; compression="${compression}"`;
}

/** Compressions the server can negotiate (`x-supported-compressions`; none on older runtimes). */
export function offeredCompressions(doc: OpenApiDocument): string[] {
  const offered = doc["x-supported-compressions"];
  return Array.isArray(offered) ? offered.filter((c): c is string => typeof c === "string") : [];
}

/** Checks a `compression` option (a typo must not silently mean "server default"). */
export function checkCompression(value: unknown, where: string): ResponseCompression | undefined {
  if (value === undefined || value === "lz4" || value === "none") return value;
  throw new TypeError(`${where} must be "lz4" or "none", got ${JSON.stringify(value)}`);
}
