/**
 * `TesseractClient`: calls a served Tesseract's HTTP API (`apply`, `jacobian`,
 * `jacobian_vector_product`, `vector_jacobian_product`, `abstract_eval`, `health`, `openapi.json`).
 *
 * - One undici `Pool` per client (one origin) with keep-alive; a request that fails because a
 *   kept-alive connection was closed by the server is retried once on a fresh connection.
 * - Arrays go out as base64 (or JSON on request) and always come back as base64
 *   (`Accept: application/json+base64`, lz4-compressed on request when the server offers it) or,
 *   when the client can read the server's output folder, as binref files; decoded into typed
 *   arrays (`NDArray`).
 * - No timeout on computations by default (a Jacobian may take hours); connecting times out.
 */
import { Pool } from "undici";
import { acceptHeader, checkCompression, offeredCompressions, type ResponseFormat } from "./accept";
import { BinrefInputs } from "./binref";
import type {
  AbstractEvalOutputs,
  ApplyOutputs,
  CallOptions,
  JacobianBlocks,
  JvpOutputs,
  TesseractClientOptions,
  TestCaseVerdict,
  VjpOutputs,
} from "./client-types";
import {
  parseValidationBody,
  TesseractConnectionError,
  TesseractEndpointNotFoundError,
  TesseractError,
  TesseractServerError,
  TesseractTimeoutError,
  TesseractValidationError,
} from "./errors";
import type { FromImageOptions, ServedTesseractClient } from "./from-image";
import { inputSchemaOf, type OpenApiDocument, outputSchemaOf, validateRequest } from "./openapi";
import { EncodedBody, encodeRequestBody, encodeTree, toAbstract } from "./request-body";
import { dispatch, errorCode, isStaleConnection, type RawResponse } from "./transport";

export * from "./client-types";

const OPTIONAL_ENDPOINTS = new Set(["jacobian", "jacobian_vector_product", "vector_jacobian_product", "abstract_eval"]);

/** `http://` added when there is no scheme, trailing `/` removed (as tesseract-core's client does). */
export function normalizeUrl(url: string): string {
  const trimmed = url.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`;
  return withScheme.replace(/\/+$/, "");
}

/**
 * A client for one served Tesseract.
 *
 * ```ts
 * const t = new TesseractClient("http://127.0.0.1:8000");
 * const out = await t.apply({ a: new Float64Array([1, 2, 3]), b: new Float64Array([4, 5, 6]), s: 2 });
 * out.result; // { shape: [3], dtype: "float64", data: Float64Array [...] }
 * await t.close();
 * ```
 */
export class TesseractClient {
  /** Normalised base url (scheme added, no trailing slash). */
  readonly url: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly options: Required<
    Omit<TesseractClientOptions, "timeoutMs" | "headers" | "outputPath" | "inputPath" | "compression">
  > & {
    timeoutMs?: number;
    compression?: TesseractClientOptions["compression"];
    headers: Record<string, string>;
    outputPath?: string;
    inputPath?: string;
  };
  private pool: Pool | undefined;
  /** Headers of every request (user headers and Accept), built once. */
  private readonly requestHeaders: Record<string, string>;
  /** The array format responses are asked for. */
  private readonly responseFormat: ResponseFormat;
  private exchanges = 0;
  private schemaPromise: Promise<OpenApiDocument> | undefined;

  /**
   * @param url Base url of the Tesseract, e.g. a `TesseractService`'s `url` output
   *   (`http://127.0.0.1:49321`). A path prefix is kept (for Tesseracts behind a proxy).
   * @param options Encoding, validation, timeouts and connection pool settings.
   */
  constructor(url: string, options: TesseractClientOptions = {}) {
    this.url = normalizeUrl(url);
    const parsed = new URL(this.url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`Tesseract url must be http(s), got ${JSON.stringify(url)}`);
    }
    this.origin = parsed.origin;
    this.basePath = parsed.pathname.replace(/\/+$/, "");
    this.options = {
      encoding: options.encoding ?? "base64",
      validateInputs: options.validateInputs ?? false,
      timeoutMs: options.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      connections: options.connections ?? 32,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 30_000,
      headers: { ...(options.headers ?? {}) },
      outputPath: options.outputPath,
      inputPath: options.inputPath,
      compression: checkCompression(options.compression, "compression"),
    };
    this.responseFormat = options.outputPath === undefined ? "json+base64" : "json+binref";
    this.requestHeaders = { ...this.options.headers, accept: acceptHeader(this.responseFormat) };
    if (this.options.encoding !== "base64" && this.options.encoding !== "json") {
      throw new TypeError(`encoding must be "base64" or "json", got ${JSON.stringify(options.encoding)}`);
    }
  }

  private getPool(): Pool {
    if (!this.pool) {
      this.pool = new Pool(this.origin, {
        connections: this.options.connections,
        pipelining: 1,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        keepAliveMaxTimeout: Math.max(this.options.keepAliveTimeoutMs, 1000),
        // computations have no time limit unless asked for (timeoutMs); connecting does
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: { timeout: this.options.connectTimeoutMs },
      });
    }
    return this.pool;
  }

  /**
   * Runs one HTTP exchange and returns the body of a 2xx answer (parsed and decoded as it streams
   * in when `parse` is set, else raw); maps everything else to a `TesseractError`. Retries once
   * when a kept-alive connection turns out to be closed.
   */
  private async exchange(
    method: "GET" | "POST",
    endpoint: string,
    body: EncodedBody | undefined,
    opts: CallOptions,
    parse: true,
    accept?: string,
  ): Promise<unknown>;
  private async exchange(
    method: "GET" | "POST",
    endpoint: string,
    body: EncodedBody | undefined,
    opts: CallOptions,
    parse: false,
  ): Promise<Buffer>;
  private async exchange(
    method: "GET" | "POST",
    endpoint: string,
    body: EncodedBody | undefined,
    opts: CallOptions,
    parse: boolean,
    accept?: string,
  ): Promise<unknown> {
    const query = opts.runId ? `?run_id=${encodeURIComponent(opts.runId)}` : "";
    const path = `${this.basePath}/${endpoint}${query}`;
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
    const timeoutSignal = timeoutMs && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal =
      timeoutSignal && opts.signal ? AbortSignal.any([timeoutSignal, opts.signal]) : (timeoutSignal ?? opts.signal);
    const base = accept === undefined ? this.requestHeaders : { ...this.requestHeaders, accept };
    const headers = body
      ? { ...base, "content-type": "application/json", "content-length": String(body.byteLength) }
      : base;
    for (let attempt = 0; ; attempt++) {
      const reused = this.exchanges > 0;
      let res: RawResponse;
      try {
        res = await dispatch(this.getPool(), {
          method,
          path,
          headers,
          // several parts: an iterable body, base64-encoded slice by slice as it is written
          body: body ? (body.parts.length === 1 ? (body.parts[0] as string) : body.stream()) : undefined,
          signal,
          parse,
          binrefDir: this.options.outputPath,
        });
      } catch (err) {
        if (timeoutSignal?.aborted) {
          throw new TesseractTimeoutError({ url: this.url, endpoint, timeoutMs: timeoutMs as number, cause: err });
        }
        if (opts.signal?.aborted) throw err;
        if (attempt === 0 && reused && isStaleConnection(err)) continue;
        throw new TesseractConnectionError({ url: this.url, endpoint, code: errorCode(err), cause: err });
      }
      this.exchanges++;
      const status = res.status;
      if (status >= 200 && status < 300) {
        if (!parse) return res.raw;
        if (res.parseError !== undefined) throw res.parseError;
        return res.parsed;
      }
      const text = res.raw.toString("utf8");
      if (status === 422) {
        throw new TesseractValidationError({
          url: this.url,
          endpoint,
          issues: parseValidationBody(text),
          source: "server",
        });
      }
      if (status === 404) {
        if (OPTIONAL_ENDPOINTS.has(endpoint)) throw new TesseractEndpointNotFoundError({ url: this.url, endpoint });
        throw new TesseractError(
          `nothing answers ${method} ${path} at ${this.origin} (404): is ${this.url} the url of a Tesseract?`,
          { url: this.url, endpoint, status },
        );
      }
      throw new TesseractServerError({ url: this.url, endpoint, status, body: text });
    }
  }

  private async post(endpoint: string, payload: Record<string, unknown>, opts: CallOptions = {}): Promise<unknown> {
    const files = this.options.inputPath === undefined ? undefined : new BinrefInputs(this.options.inputPath);
    try {
      const body = encodeRequestBody(payload, opts.encoding ?? this.options.encoding, files?.writer);
      if (opts.validateInputs ?? this.options.validateInputs) {
        await this.validate(endpoint, payload, opts);
      }
      return await this.exchange("POST", endpoint, body, opts, true, await this.negotiatedAccept(opts));
    } finally {
      files?.remove();
    }
  }

  /**
   * The Accept header with the compression asked for, when the server offers it (its OpenAPI
   * document says so; fetched once); undefined for the client's default header.
   */
  private async negotiatedAccept(opts: CallOptions): Promise<string | undefined> {
    const wanted = checkCompression(opts.compression, "compression") ?? this.options.compression;
    if (wanted === undefined) return undefined;
    const doc = await this.openapiSchema({ timeoutMs: opts.timeoutMs, signal: opts.signal });
    return offeredCompressions(doc).includes(wanted) ? acceptHeader(this.responseFormat, wanted) : undefined;
  }

  private async validate(endpoint: string, payload: Record<string, unknown>, opts: CallOptions): Promise<void> {
    const doc = await this.openapiSchema();
    // validate the wire form (arrays as {shape, dtype, data}); small buffers are enough for that
    const wire = encodeTree(payload, opts.encoding ?? this.options.encoding, () => "") as Record<string, unknown>;
    const issues = validateRequest(doc, endpoint, wire);
    if (issues.length) throw new TesseractValidationError({ url: this.url, endpoint, issues, source: "client" });
  }

  /**
   * Runs the Tesseract (`POST /apply`).
   * @param inputs The InputSchema as a plain object; arrays as typed arrays, `NDArray`-likes or plain lists.
   * @returns The outputs, arrays decoded to `NDArray`s.
   */
  async apply(inputs: Record<string, unknown>, opts?: CallOptions): Promise<ApplyOutputs> {
    return (await this.post("apply", { inputs }, opts)) as ApplyOutputs;
  }

  /**
   * Jacobian of `jacOutputs` with respect to `jacInputs` at `inputs` (`POST /jacobian`).
   * @param jacInputs Differentiable input paths, e.g. `["a", "s"]`.
   * @param jacOutputs Differentiable output paths, e.g. `["result"]`.
   * @returns `{out: {in: NDArray}}`, each block of shape `(*out.shape, *in.shape)`.
   */
  async jacobian(
    inputs: Record<string, unknown>,
    jacInputs: Iterable<string>,
    jacOutputs: Iterable<string>,
    opts?: CallOptions,
  ): Promise<JacobianBlocks> {
    return (await this.post(
      "jacobian",
      { inputs, jac_inputs: [...jacInputs], jac_outputs: [...jacOutputs] },
      opts,
    )) as JacobianBlocks;
  }

  /**
   * Jacobian-vector product `J·v` (`POST /jacobian_vector_product`).
   * @param tangentVector One array per entry of `jvpInputs`, shaped like that input.
   * @returns `{out: NDArray}` for each entry of `jvpOutputs`.
   */
  async jacobianVectorProduct(
    inputs: Record<string, unknown>,
    jvpInputs: Iterable<string>,
    jvpOutputs: Iterable<string>,
    tangentVector: Record<string, unknown>,
    opts?: CallOptions,
  ): Promise<JvpOutputs> {
    return (await this.post(
      "jacobian_vector_product",
      { inputs, jvp_inputs: [...jvpInputs], jvp_outputs: [...jvpOutputs], tangent_vector: tangentVector },
      opts,
    )) as JvpOutputs;
  }

  /**
   * Vector-Jacobian product `vᵀ·J` (`POST /vector_jacobian_product`).
   * @param cotangentVector One array per entry of `vjpOutputs`, shaped like that output.
   * @returns `{in: NDArray}` for each entry of `vjpInputs`.
   */
  async vectorJacobianProduct(
    inputs: Record<string, unknown>,
    vjpInputs: Iterable<string>,
    vjpOutputs: Iterable<string>,
    cotangentVector: Record<string, unknown>,
    opts?: CallOptions,
  ): Promise<VjpOutputs> {
    return (await this.post(
      "vector_jacobian_product",
      { inputs, vjp_inputs: [...vjpInputs], vjp_outputs: [...vjpOutputs], cotangent_vector: cotangentVector },
      opts,
    )) as VjpOutputs;
  }

  /**
   * Output shapes and dtypes without running the computation (`POST /abstract_eval`).
   * @param inputs The InputSchema with arrays as `{shape, dtype}`; real arrays are reduced to that.
   * @returns The OutputSchema with every array as `{shape, dtype}`.
   */
  async abstractEval(inputs: Record<string, unknown>, opts?: CallOptions): Promise<AbstractEvalOutputs> {
    const body = encodeRequestBody({ inputs: toAbstract(inputs) }, "json");
    return (await this.exchange("POST", "abstract_eval", body, opts ?? {}, true)) as AbstractEvalOutputs;
  }

  /**
   * Runs one upstream-format test case (`POST /test`; served only in debug mode) and returns the
   * runtime's verdict. A failed comparison is `status: "failed"`, not an exception.
   * @param spec `{endpoint, payload, expected_outputs | expected_exception, atol?, rtol?, ...}`, or
   *   its JSON text as read from a file (sent unchanged, so `5.0` stays a float for strict dtypes).
   */
  async test(spec: Record<string, unknown> | string, opts?: CallOptions): Promise<TestCaseVerdict> {
    const body =
      typeof spec === "string" ? new EncodedBody([spec], Buffer.byteLength(spec)) : encodeRequestBody(spec, "json");
    return (await this.exchange("POST", "test", body, opts ?? {}, true)) as TestCaseVerdict;
  }

  /** `GET /health`: `{status: "ok"}` when the Tesseract is up. */
  async health(opts?: Pick<CallOptions, "timeoutMs" | "signal">): Promise<{ status: string }> {
    return JSON.parse((await this.exchange("GET", "health", undefined, opts ?? {}, false)).toString("utf8"));
  }

  /**
   * The Tesseract's OpenAPI document (`GET /openapi.json`), fetched once per client and cached.
   * @param refresh Fetch again instead of using the cached copy.
   */
  async openapiSchema(
    opts: { refresh?: boolean } & Pick<CallOptions, "timeoutMs" | "signal"> = {},
  ): Promise<OpenApiDocument> {
    if (!this.schemaPromise || opts.refresh) {
      const p = this.exchange("GET", "openapi.json", undefined, opts, false).then(
        (raw) => JSON.parse(raw.toString("utf8")) as OpenApiDocument,
      );
      this.schemaPromise = p;
      p.catch(() => {
        if (this.schemaPromise === p) this.schemaPromise = undefined;
      });
    }
    return this.schemaPromise;
  }

  /** JSON Schema of the `inputs` object (`components.schemas.Apply_InputSchema`; `$ref`s point into the OpenAPI document). */
  async inputSchema(): Promise<Record<string, unknown>> {
    const doc = await this.openapiSchema();
    const s = inputSchemaOf(doc);
    if (!s) throw new TesseractError(`the OpenAPI document of ${this.url} has no Apply_InputSchema`, { url: this.url });
    return s;
  }

  /** JSON Schema of `apply`'s outputs (`components.schemas.Apply_OutputSchema`). */
  async outputSchema(): Promise<Record<string, unknown>> {
    const doc = await this.openapiSchema();
    const s = outputSchemaOf(doc);
    if (!s)
      throw new TesseractError(`the OpenAPI document of ${this.url} has no Apply_OutputSchema`, { url: this.url });
    return s;
  }

  /** Endpoints the Tesseract serves, e.g. `["apply", "jacobian", "health", ...]` (paths without the leading `/`). */
  async availableEndpoints(): Promise<string[]> {
    const doc = await this.openapiSchema();
    return Object.keys(doc.paths ?? {}).map((p) => p.replace(/^\//, ""));
  }

  /** Closes the connection pool. The client can be used again afterwards (a new pool is opened). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.exchanges = 0;
    if (pool) await pool.close();
  }

  /** `await using t = ...` calls `close()` at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Serves `image` in a new container on a free loopback port and returns a client for it once
   * `GET /health` answers; `close()` (or `await using`) removes the container. Debug is off
   * unless `options.debug` is set.
   *
   * ```ts
   * await using t = await TesseractClient.fromImage("vectoradd:1.0.0");
   * const out = await t.apply({ a: new Float64Array([1, 2]), b: new Float64Array([3, 4]) });
   * ```
   */
  static async fromImage(image: string, options?: FromImageOptions): Promise<ServedTesseractClient> {
    const { fromImage } = await import("./from-image");
    return fromImage(image, options);
  }
}
