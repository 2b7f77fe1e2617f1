/** The Tesseract HTTP client and its array values and wire encoding. */
export { decodeBase64ToBuffer, encodeBase64 } from "./array-bytes";
export * from "./client";
export { DTYPES, type DType, type TypedArray } from "./dtypes";
export * from "./errors";
export { type FromImageOptions, ServedTesseractClient } from "./from-image";
export {
  type ArrayInput,
  isNDArray,
  type NDArray,
  ndarray,
  type PlainNDArray,
  toPlainArray,
  toPlainTree,
} from "./ndarray";
export type { OpenApiDocument } from "./openapi";
export { type ArrayEncoding, encodeRequestBody } from "./request-body";
export { parseResponseBody } from "./response-body";
