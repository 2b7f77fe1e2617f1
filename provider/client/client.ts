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
import { BinrefInputs, readBinrefs } from "./binref";
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
  redactUrlCredentials,
  TesseractConnectionError,
  TesseractEndpointNotFoundError,
  TesseractError,
  TesseractInputError,
  TesseractLimitError,
  TesseractResponseError,
  TesseractServerError,
  TesseractTimeoutError,
  TesseractValidationError,
} from "./errors";
import type { FromImageOptions, ServedTesseractClient } from "./from-image";
import {
  BadInputValue,
  checkJsonDepth,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_ERROR_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_RESPONSE_BYTES,
  formatBytes,
  LimitExceeded,
  limitExceeded,
  MAX_STRING_LENGTH,
} from "./limits";
import { inputSchemaOf, type OpenApiDocument, outputSchemaOf, validateRequest } from "./openapi";
import { EncodedBody, encodeRequestBody, encodeTree, toAbstract } from "./request-body";
import { DecodeContext, parseJson } from "./response-body";
import { dispatch, errorCode, isStaleConnection, type RawResponse, ResponseCutOff } from "./transport";

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
  /** Headers of every request (user headers, Basic auth from the url, Accept), built once. */
  private readonly requestHeaders: Record<string, string>;
  /** The array format responses are asked for. */
  private readonly responseFormat: ResponseFormat;
  /** Strings never shown in a message: url credentials, their Basic token, secret-looking header values. */
  private readonly secrets: string[];
  private exchanges = 0;
  private schemaPromise: Promise<OpenApiDocument> | undefined;

  /**
   * @param url Base url of the Tesseract, e.g. a `TesseractService`'s `url` output
   *   (`http://127.0.0.1:49321`). A path prefix is kept (for Tesseracts behind a proxy).
   *   Credentials in it (`http://user:pass@host`) are sent as Basic auth, as Python's `requests`
   *   does, and never shown: `url` and every message carry the url without them.
   * @param options Encoding, validation, timeouts, limits and connection pool settings.
   */
  constructor(url: string, options: TesseractClientOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(normalizeUrl(url));
    } catch {
      throw new TypeError(`Tesseract url ${JSON.stringify(redactUrlCredentials(String(url)))} is not a valid url`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`Tesseract url must be http(s), got ${JSON.stringify(redactUrlCredentials(String(url)))}`);
    }
    const credentials = urlCredentials(parsed);
    parsed.username = "";
    parsed.password = "";
    this.url = parsed.href.replace(/\/+$/, "");
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
      maxResponseBytes: positive(options.maxResponseBytes, "maxResponseBytes", DEFAULT_MAX_RESPONSE_BYTES),
      maxErrorBodyBytes: positive(options.maxErrorBodyBytes, "maxErrorBodyBytes", DEFAULT_MAX_ERROR_BODY_BYTES),
      maxJsonDepth: positive(options.maxJsonDepth, "maxJsonDepth", DEFAULT_MAX_JSON_DEPTH),
      headersTimeoutMs: nonNegative(options.headersTimeoutMs, "headersTimeoutMs", DEFAULT_HEADERS_TIMEOUT_MS),
      bodyTimeoutMs: nonNegative(options.bodyTimeoutMs, "bodyTimeoutMs", DEFAULT_BODY_TIMEOUT_MS),
      maxHeaderBytes: positive(options.maxHeaderBytes, "maxHeaderBytes", DEFAULT_MAX_HEADER_BYTES),
    };
    this.responseFormat = options.outputPath === undefined ? "json+base64" : "json+binref";
    const auth: Record<string, string> = credentials ? { authorization: credentials.header } : {};
    // as requests does: credentials in the url win over an Authorization header
    this.requestHeaders = {
      ...withoutAuthorization(this.options.headers, !!credentials),
      ...auth,
      accept: acceptHeader(this.responseFormat),
    };
    this.secrets = secretStrings(credentials, this.options.headers);
    if (this.options.encoding !== "base64" && this.options.encoding !== "json") {
      throw new TypeError(`encoding must be "base64" or "json", got ${JSON.stringify(options.encoding)}`);
    }
  }

  /** `text` with every secret of this client and every url credential replaced by `***`. */
  private redact(text: string): string {
    let out = redactUrlCredentials(text);
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join("***");
    return out;
  }

  private getPool(): Pool {
    if (!this.pool) {
      this.pool = new Pool(this.origin, {
        connections: this.options.connections,
        pipelining: 1,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        keepAliveMaxTimeout: Math.max(this.options.keepAliveTimeoutMs, 1000),
        // computations have no time limit unless asked for (timeoutMs); connecting does, and each
        // request sets its own header and body timeouts (headersTimeoutMs, bodyTimeoutMs)
        headersTimeout: 0,
        bodyTimeout: 0,
        maxHeaderSize: this.options.maxHeaderBytes,
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
    const maxBytes = positive(opts.maxResponseBytes, "maxResponseBytes", this.options.maxResponseBytes);
    // health and openapi.json compute nothing: their headers are due at once; a computation's
    // headers come when it is done (timeoutMs, none by default)
    const headersTimeout = method === "GET" ? this.options.headersTimeoutMs : 0;
    for (let attempt = 0; ; attempt++) {
      const reused = this.exchanges > 0;
      const ctx = parse
        ? new DecodeContext({ maxBytes, maxDepth: this.options.maxJsonDepth }, this.options.outputPath)
        : undefined;
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
          ctx,
          maxBytes,
          maxErrorBytes: this.options.maxErrorBodyBytes,
          headersTimeout,
          bodyTimeout: this.options.bodyTimeoutMs,
        });
      } catch (err) {
        if (timeoutSignal?.aborted) {
          throw new TesseractTimeoutError({ url: this.url, endpoint, timeoutMs: timeoutMs as number, cause: err });
        }
        if (opts.signal?.aborted) throw err;
        if (err instanceof LimitExceeded) throw this.limitError(err, endpoint);
        if (err instanceof ResponseCutOff)
          throw new TesseractResponseError({ url: this.url, endpoint, reason: err.message, cause: err });
        const code = errorCode(err);
        if (code === "UND_ERR_HEADERS_TIMEOUT")
          throw new TesseractTimeoutError({
            url: this.url,
            endpoint,
            timeoutMs: headersTimeout,
            option: "headersTimeoutMs",
            what: `send the response headers of ${endpoint}`,
            cause: err,
          });
        if (code === "UND_ERR_BODY_TIMEOUT")
          throw new TesseractTimeoutError({
            url: this.url,
            endpoint,
            timeoutMs: this.options.bodyTimeoutMs,
            option: "bodyTimeoutMs",
            what: `send more of the ${endpoint} response body (it paused)`,
            cause: err,
          });
        if (code === "UND_ERR_HEADERS_OVERFLOW")
          throw this.limitError(
            limitExceeded("maxHeaderBytes", this.options.maxHeaderBytes, "the size of the response headers"),
            endpoint,
          );
        if ((err as Error)?.name === "HTTPParserError" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH")
          throw new TesseractResponseError({
            url: this.url,
            endpoint,
            reason: `the answer is not valid HTTP/1.1 (${(err as Error).message})`,
            cause: err,
          });
        if (attempt === 0 && reused && isStaleConnection(err)) continue;
        throw new TesseractConnectionError({ url: this.url, endpoint, code, cause: err });
      }
      this.exchanges++;
      const status = res.status;
      if (status >= 200 && status < 300) {
        if (!parse) return res.raw;
        if (res.parseError !== undefined) throw this.responseError(res.parseError, endpoint, status, res.contentType);
        if (ctx?.binrefs.length) {
          try {
            await readBinrefs(ctx.binrefs, this.options.outputPath as string, maxBytes, signal);
          } catch (err) {
            if (timeoutSignal?.aborted)
              throw new TesseractTimeoutError({ url: this.url, endpoint, timeoutMs: timeoutMs as number, cause: err });
            if (opts.signal?.aborted) throw err;
            throw this.responseError(err, endpoint, status, res.contentType);
          }
        }
        return res.parsed;
      }
      const text = this.redact(res.raw.toString("utf8"));
      const cut = res.truncated
        ? `\n[… the rest of the error body was not read: more than maxErrorBodyBytes (${formatBytes(this.options.maxErrorBodyBytes)}; raise that option of the TesseractClient to read more)]`
        : "";
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
      throw new TesseractServerError({ url: this.url, endpoint, status, body: text + cut });
    }
  }

  /** A codec limit as the public error (with the url). */
  private limitError(err: LimitExceeded, endpoint: string): TesseractLimitError {
    return new TesseractLimitError({
      url: this.url,
      endpoint,
      limit: err.limit,
      message: this.redact(err.message),
      cause: err,
    });
  }

  /** Why a 2xx answer was refused, as the public error (limits keep their own class). */
  private responseError(err: unknown, endpoint: string, status: number, contentType?: string): TesseractError {
    if (err instanceof LimitExceeded) return this.limitError(err, endpoint);
    if (err instanceof TesseractError) return err;
    const reason = this.redact((err as Error)?.message ?? String(err));
    return new TesseractResponseError({ url: this.url, endpoint, status, reason, contentType, cause: err });
  }

  /** An input the encoder refused, as the public error (nothing was sent). */
  private inputError(err: unknown, endpoint: string): unknown {
    if (!(err instanceof BadInputValue)) return err;
    return new TesseractInputError({
      url: this.url,
      endpoint,
      property: err.path,
      type: err.type,
      message: err.message,
    });
  }

  /** A small JSON answer (`health`, `openapi.json`), parsed with the depth limit; refused clearly when it is not JSON. */
  private async getJson<T>(endpoint: string, opts: Pick<CallOptions, "timeoutMs" | "signal">): Promise<T> {
    const raw = await this.exchange("GET", endpoint, undefined, opts, false);
    try {
      if (raw.length > MAX_STRING_LENGTH)
        throw limitExceeded(
          "maxResponseBytes",
          MAX_STRING_LENGTH,
          `the ${endpoint} answer (${formatBytes(raw.length)}, longer than a JavaScript string)`,
        );
      const value = parseJson(raw.toString("utf8"));
      checkJsonDepth(value, this.options.maxJsonDepth, `the ${endpoint} answer`);
      return value as T;
    } catch (err) {
      throw this.responseError(err, endpoint, 200);
    }
  }

  private async post(endpoint: string, payload: Record<string, unknown>, opts: CallOptions = {}): Promise<unknown> {
    const files = this.options.inputPath === undefined ? undefined : new BinrefInputs(this.options.inputPath);
    try {
      let body: EncodedBody;
      try {
        body = encodeRequestBody(
          payload,
          opts.encoding ?? this.options.encoding,
          files?.writer,
          this.options.maxJsonDepth,
        );
      } catch (err) {
        throw this.inputError(err, endpoint);
      }
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
    const wire = encodeTree(payload, opts.encoding ?? this.options.encoding, () => "", undefined, {
      maxDepth: this.options.maxJsonDepth,
    }) as Record<string, unknown>;
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
    let body: EncodedBody;
    try {
      body = encodeRequestBody(
        { inputs: toAbstract(inputs, "inputs", new Set(), this.options.maxJsonDepth) },
        "json",
        undefined,
        this.options.maxJsonDepth,
      );
    } catch (err) {
      throw this.inputError(err, "abstract_eval");
    }
    return (await this.exchange("POST", "abstract_eval", body, opts ?? {}, true)) as AbstractEvalOutputs;
  }

  /**
   * Runs one upstream-format test case (`POST /test`; served only in debug mode) and returns the
   * runtime's verdict. A failed comparison is `status: "failed"`, not an exception.
   * @param spec `{endpoint, payload, expected_outputs | expected_exception, atol?, rtol?, ...}`, or
   *   its JSON text as read from a file (sent unchanged, so `5.0` stays a float for strict dtypes).
   */
  async test(spec: Record<string, unknown> | string, opts?: CallOptions): Promise<TestCaseVerdict> {
    let body: EncodedBody;
    try {
      body =
        typeof spec === "string"
          ? new EncodedBody([spec], Buffer.byteLength(spec))
          : encodeRequestBody(spec, "json", undefined, this.options.maxJsonDepth);
    } catch (err) {
      throw this.inputError(err, "test");
    }
    return (await this.exchange("POST", "test", body, opts ?? {}, true)) as TestCaseVerdict;
  }

  /** `GET /health`: `{status: "ok"}` when the Tesseract is up. */
  async health(opts?: Pick<CallOptions, "timeoutMs" | "signal">): Promise<{ status: string }> {
    return this.getJson("health", opts ?? {});
  }

  /**
   * The Tesseract's OpenAPI document (`GET /openapi.json`), fetched once per client and cached.
   * @param refresh Fetch again instead of using the cached copy.
   */
  async openapiSchema(
    opts: { refresh?: boolean } & Pick<CallOptions, "timeoutMs" | "signal"> = {},
  ): Promise<OpenApiDocument> {
    if (!this.schemaPromise || opts.refresh) {
      const p = this.getJson<OpenApiDocument>("openapi.json", opts);
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

/** Credentials of a url (percent-decoded, as requests' `get_auth_from_url`) and their Basic header. */
function urlCredentials(u: URL): { user: string; password: string; header: string } | undefined {
  if (!u.username && !u.password) return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = decode(u.username);
  const password = decode(u.password);
  const pair = `${user}:${password}`;
  // requests encodes latin-1; beyond it, UTF-8
  const encoding = [...pair].every((c) => (c.codePointAt(0) as number) <= 0xff) ? "latin1" : "utf8";
  return { user, password, header: `Basic ${Buffer.from(pair, encoding).toString("base64")}` };
}

/** Header names whose values are secrets. */
const SECRET_HEADER = /auth|token|key|secret|cookie|passw/i;

/** What must never appear in a message: the url's password (raw and decoded), its Basic token, secret header values. */
function secretStrings(credentials: ReturnType<typeof urlCredentials>, headers: Record<string, string>): string[] {
  const out = new Set<string>();
  if (credentials) {
    out.add(credentials.header.slice("Basic ".length));
    out.add(credentials.password);
    out.add(encodeURIComponent(credentials.password));
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!SECRET_HEADER.test(name) || typeof value !== "string") continue;
    out.add(value);
    const m = /^\s*\w+\s+(\S+)\s*$/.exec(value); // "Bearer <token>"
    if (m) out.add(m[1]);
  }
  // very short strings would blank out ordinary words
  return [...out].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** `headers` without an Authorization header, when the url's credentials replace it. */
function withoutAuthorization(headers: Record<string, string>, drop: boolean): Record<string, string> {
  if (!drop) return headers;
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
}

/** A positive number option, or its default; anything else is a TypeError naming the option. */
function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value > 0))
    throw new TypeError(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  return value;
}

/** A non-negative number option (0: none), or its default. */
function nonNegative(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0))
    throw new TypeError(`${name} must be 0 (none) or a positive number of ms, got ${JSON.stringify(value)}`);
  return value;
}
