/** Options and result types of `TesseractClient` (kept apart so the client file holds only behaviour). */

import type { NDArray } from "./ndarray";
import type { ArrayEncoding } from "./request-body";

/** Options for a `TesseractClient` (and for the Tesseract functions). */
export interface TesseractClientOptions {
  /** How arrays are sent: `"base64"` (default, fast and exact) or `"json"` (readable lists). */
  encoding?: ArrayEncoding;
  /**
   * Check inputs against the Tesseract's input schema (fetched once from `/openapi.json`) before
   * sending, and report every problem with its path. Default `false`: the server validates anyway.
   */
  validateInputs?: boolean;
  /** Overall time limit per call in milliseconds. Default: none (computations may run long). */
  timeoutMs?: number;
  /** Time limit for opening a TCP connection in milliseconds. Default 10,000. */
  connectTimeoutMs?: number;
  /** Maximum concurrent connections to the Tesseract. Default 32. */
  connections?: number;
  /** How long an idle kept-alive connection is reused, in ms. Default 30,000 (the server keeps 60 s). */
  keepAliveTimeoutMs?: number;
  /** Extra HTTP headers sent with every request (e.g. for a proxy in front of the Tesseract). */
  headers?: Record<string, string>;
  /**
   * The Tesseract's output folder as this process sees it (e.g. the host folder mounted as a
   * `TesseractService`'s `outputPath`). When set, arrays come back as `json+binref`: the server
   * writes them to `.bin` files there and the client reads them, with no base64 on either side.
   */
  outputPath?: string;
  /**
   * The Tesseract's input folder as this process sees it (the host folder mounted as its
   * `inputPath`). When set, arrays of 4 KiB and more are written there as `.bin` files and sent as
   * `binref` references (removed after the call), instead of base64 in the request body.
   */
  inputPath?: string;
  /**
   * Compression of the arrays in responses: `"lz4"` asks for lz4 frames on every call when the
   * server offers them (tesseract-core 1.15 advertises `x-supported-compressions` in
   * `/openapi.json`; the document is fetched once), and plain arrays otherwise; `"none"` asks for
   * none even from a server configured with `TESSERACT_COMPRESSION=lz4`. Default: the server's
   * default. Worth it on slow links: lz4 costs the server time and saves bytes.
   */
  compression?: ResponseCompression;
  /**
   * Largest response the client takes, in bytes: the body on the wire, and the arrays decoded from
   * it (lz4 frames and binref files included). A larger Content-Length, body or array claim is
   * refused (`TesseractLimitError`) before the memory is allocated. Default 2 GiB.
   */
  maxResponseBytes?: number;
  /** Bytes of an error answer (non-2xx) read for the error message; the rest is not read. Default 64 KiB. */
  maxErrorBodyBytes?: number;
  /** Deepest nesting of JSON sent or received (objects and lists). Default 1000 (Python's json gives up near there). */
  maxJsonDepth?: number;
  /**
   * Time limit for the response headers of `health()` and `openapi.json` (which compute nothing),
   * in ms; 0 for none. Default 30,000. Computing calls wait for their headers as long as `timeoutMs`.
   */
  headersTimeoutMs?: number;
  /** Longest pause while a response body arrives, in ms (every call); 0 for none. Default 60,000. */
  bodyTimeoutMs?: number;
  /** Largest response header block, in bytes. Default 16 KiB (Node's default). */
  maxHeaderBytes?: number;
}

/** What `compression` can ask for. */
export type ResponseCompression = "lz4" | "none";

/** Per-call options. */
export interface CallOptions {
  /** Run id for the Tesseract's logs (`run_<id>/` under its output path); the server picks one otherwise. */
  runId?: string;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
  /** Overrides the client's `encoding` for this call. */
  encoding?: ArrayEncoding;
  /** Overrides the client's `validateInputs` for this call. */
  validateInputs?: boolean;
  /** Overrides the client's `compression` for this call. */
  compression?: ResponseCompression;
  /** Overrides the client's `maxResponseBytes` for this call. */
  maxResponseBytes?: number;
}

/** Outputs of `apply`: the Tesseract's OutputSchema, with every array decoded to an `NDArray`. */
export type ApplyOutputs = Record<string, unknown>;
/** Jacobian blocks: `{outputPath: {inputPath: NDArray of shape (*out.shape, *in.shape)}}`. */
export type JacobianBlocks = Record<string, Record<string, NDArray>>;
/** JVP result: `{outputPath: NDArray}`. */
export type JvpOutputs = Record<string, NDArray>;
/** VJP result: `{inputPath: NDArray}`. */
export type VjpOutputs = Record<string, NDArray>;
/** The runtime's verdict on one test case (`POST /test`). */
export interface TestCaseVerdict {
  /** `passed`, `failed` (outputs or exception differ) or `error` (the endpoint raised unexpectedly). */
  status: "passed" | "failed" | "error";
  /** Empty when passed; what differed otherwise. */
  message: string;
  /** The endpoint the case exercised. */
  endpoint: string;
}
/** `abstract_eval` result: the OutputSchema with every array as `{shape, dtype}`. */
export type AbstractEvalOutputs = Record<string, unknown>;
