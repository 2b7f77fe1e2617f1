/**
 * Transport: one HTTP exchange with a Tesseract through undici's low-level `dispatch`, streaming a
 * 2xx body into a `ResponseParser` as it arrives, and the error-code helpers that recognise a
 * kept-alive connection the server has closed (retried once by the client).
 */
import type { Dispatcher, Pool } from "undici";
import { formatBytes, limitExceeded } from "./limits";
import { type DecodeContext, parseResponseBody, ResponseParser } from "./response-body";

/** Error codes of a kept-alive connection that the server closed between two requests. */
const STALE_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

/** The first error code found on `err`, its aggregated errors or its causes. */
export function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; errors?: { code?: string }[]; cause?: unknown };
  if (typeof e?.code === "string") return e.code;
  if (Array.isArray(e?.errors)) for (const x of e.errors) if (typeof x?.code === "string") return x.code;
  if (e?.cause && e.cause !== err) return errorCode(e.cause);
  return undefined;
}

/** True when `err` says a kept-alive connection was closed by the server (worth one retry). */
export function isStaleConnection(err: unknown): boolean {
  const code = errorCode(err);
  if (code && STALE_CODES.has(code)) return true;
  return /other side closed|socket hang up/i.test((err as Error)?.message ?? "");
}

export interface RawResponse {
  status: number;
  /** The body, unless it was parsed (2xx with `parse`); an error body only up to `maxErrorBytes`. */
  raw: Buffer;
  parsed?: unknown;
  /** Set when a 2xx body could not be parsed; thrown by the caller (not a connection error). */
  parseError?: unknown;
  /** The response's Content-Type (and Content-Encoding, which is never decoded), for messages. */
  contentType?: string;
  /** Set when an error body was longer than `maxErrorBytes` (the rest was not read). */
  truncated?: boolean;
}

/** The connection failed after the response had begun: the answer is cut off (not worth a retry). */
export class ResponseCutOff extends Error {
  constructor(
    readonly received: number,
    readonly expected: number | undefined,
    cause: unknown,
  ) {
    super(
      `the response was cut off after ${received} bytes${expected !== undefined && Number.isFinite(expected) ? ` of the ${expected} its Content-Length announced` : ""} (${(cause as Error)?.message ?? cause})`,
      { cause },
    );
    this.name = "ResponseCutOff";
  }
}

function headerOf(rawHeaders: Buffer[] | string[] | null | undefined, wanted: string): string | undefined {
  if (!rawHeaders) return undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toString();
    if (name.length === wanted.length && name.toLowerCase() === wanted) return rawHeaders[i + 1].toString();
  }
  return undefined;
}

function contentLengthOf(rawHeaders: Buffer[] | string[] | null | undefined): number {
  const v = headerOf(rawHeaders, "content-length");
  return v === undefined || !/^\s*\d+\s*$/.test(v) ? Number.NaN : Number(v);
}

/** One request: what to send, and the limits and timeouts of the answer. */
export interface ExchangeRequest {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body: string | Iterable<string | Buffer> | undefined;
  signal: AbortSignal | undefined;
  parse: boolean;
  /** Decoding limits and the binref arrays found (with the output folder), for a parsed 2xx body. */
  ctx?: DecodeContext;
  /** Bytes of a 2xx body (`maxResponseBytes`): a longer announcement or body is refused. */
  maxBytes: number;
  /** Bytes of an error body kept for the message (`maxErrorBodyBytes`); the rest is not read. */
  maxErrorBytes: number;
  /** undici's time limit for the response headers (0: none). */
  headersTimeout: number;
  /** undici's time limit between two pieces of the body (0: none). */
  bodyTimeout: number;
}

/**
 * One request through undici's low-level `dispatch` (no response stream object, no promise per
 * chunk). A 2xx body with `parse` goes through a `ResponseParser` chunk by chunk as it arrives, so
 * large base64 buffers are decoded while the rest is still on the wire; other bodies are collected
 * into one Buffer (preallocated when the length is announced). Limits are checked before memory is
 * taken: an announced or received 2xx body beyond `maxBytes` ends the exchange with a
 * `LimitExceeded`; an error body is read up to `maxErrorBytes`, then the connection is dropped.
 */
export function dispatch(pool: Pool, req: ExchangeRequest): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const { signal } = req;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let status = 0;
    let contentType: string | undefined;
    let announced = Number.NaN;
    let received = 0;
    let done = false;
    let parser: ResponseParser | undefined;
    let parseError: unknown;
    let out: Buffer | undefined;
    let outLength = 0;
    let chunks: Buffer[] | undefined;
    let ok = false;
    let limitError: unknown;
    let abort: ((err?: Error) => void) | undefined;
    const onAbort = () => abort?.(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    const fail = (err: Error) => {
      limitError = err;
      abort?.(err);
    };
    const finishError = (truncated: boolean) => {
      done = true;
      settle();
      const raw = out ? out.subarray(0, outLength) : Buffer.concat(chunks ?? []);
      resolve({ status, raw, contentType, truncated });
    };
    const handler = {
      onConnect(abortRequest: (err?: Error) => void) {
        abort = abortRequest;
        if (signal?.aborted) abortRequest(signal.reason);
      },
      onHeaders(statusCode: number, rawHeaders: Buffer[]) {
        status = statusCode;
        contentType = headerOf(rawHeaders, "content-type");
        const encoding = headerOf(rawHeaders, "content-encoding");
        // the client asks for no encoding; one the server applies anyway is not undone (no bombs)
        if (encoding && encoding !== "identity")
          contentType = `${contentType}; content-encoding ${encoding}, not decoded`;
        announced = contentLengthOf(rawHeaders);
        ok = statusCode >= 200 && statusCode < 300;
        if (ok && announced > req.maxBytes) {
          fail(
            limitExceeded(
              "maxResponseBytes",
              req.maxBytes,
              `the response's Content-Length (${formatBytes(announced)})`,
            ),
          );
          return false;
        }
        // small bodies are collected and parsed at once (parseResponseBody); large ones stream
        if (req.parse && ok && !(announced < STREAM_THRESHOLD)) {
          parser = new ResponseParser(Number.isFinite(announced) ? announced : undefined, req.ctx);
        } else if (Number.isFinite(announced) && announced >= 0)
          out = Buffer.allocUnsafe(ok ? announced : Math.min(announced, req.maxErrorBytes));
        else chunks = [];
        return true;
      },
      onData(chunk: Buffer) {
        if (done) return false;
        received += chunk.length;
        if (!ok) {
          // an error body is only read for its message: keep the first maxErrorBytes, drop the rest
          const room = req.maxErrorBytes - (out ? outLength : (chunks ?? []).reduce((n, c) => n + c.length, 0));
          const keep = chunk.subarray(0, Math.max(0, room));
          if (out) outLength += keep.copy(out, outLength, 0, Math.min(keep.length, out.length - outLength));
          else if (keep.length) chunks?.push(Buffer.from(keep));
          if (chunk.length > room) {
            finishError(true);
            abort?.(new Error("error body longer than maxErrorBodyBytes: not read further"));
            return false;
          }
          return true;
        }
        if (received > req.maxBytes) {
          fail(limitExceeded("maxResponseBytes", req.maxBytes, "the response body"));
          return false;
        }
        if (parser) {
          if (parseError === undefined) {
            try {
              parser.push(chunk);
            } catch (err) {
              parseError = err;
            }
          }
        } else if (out) {
          // undici enforces content-length, so a chunk never overflows; guard anyway
          outLength += chunk.copy(out, outLength, 0, Math.min(chunk.length, out.length - outLength));
        } else chunks?.push(chunk);
        return true;
      },
      onComplete() {
        if (done) return;
        done = true;
        settle();
        if (parser) {
          let parsed: unknown;
          if (parseError === undefined) {
            try {
              parsed = parser.finish();
            } catch (err) {
              parseError = err;
            }
          }
          resolve({ status, raw: EMPTY, parsed, parseError, contentType });
          return;
        }
        const raw = out ? (outLength === out.length ? out : out.subarray(0, outLength)) : Buffer.concat(chunks ?? []);
        if (req.parse && ok) {
          try {
            resolve({ status, raw: EMPTY, parsed: parseResponseBody(raw, req.ctx), contentType });
          } catch (err) {
            resolve({ status, raw: EMPTY, parseError: err, contentType });
          }
          return;
        }
        resolve({ status, raw, contentType });
      },
      onError(err: Error) {
        if (done) return;
        done = true;
        settle();
        if (limitError !== undefined) reject(limitError);
        else if (status !== 0 && !signal?.aborted && !isTimeout(err))
          reject(new ResponseCutOff(received, announced, err));
        else reject(err);
      },
    };
    pool.dispatch(
      // an iterable body is supported by undici at runtime (its types only list streams)
      {
        method: req.method,
        path: req.path,
        headers: req.headers,
        body: req.body as string | undefined,
        headersTimeout: req.headersTimeout,
        bodyTimeout: req.bodyTimeout,
      },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
}

/** undici's own header and body timeouts. */
export function isTimeout(err: unknown): boolean {
  const code = errorCode(err);
  return code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
}

const EMPTY = Buffer.alloc(0);
/** Responses announced shorter than this are parsed in one go; longer ones as they stream in. */
const STREAM_THRESHOLD = 65536;
