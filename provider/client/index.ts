/** The Tesseract HTTP client and its array codec. */
export * from "./client";
export {
  type ArrayEncoding,
  type ArrayInput,
  decodeBase64ToBuffer,
  encodeBase64,
  encodeRequestBody,
  isNDArray,
  type NDArray,
  ndarray,
  type PlainNDArray,
  parseResponseBody,
  toPlainArray,
  toPlainTree,
} from "./codec";
export { DTYPES, type DType, type TypedArray } from "./dtypes";
export * from "./errors";
export type { OpenApiDocument } from "./schema";
