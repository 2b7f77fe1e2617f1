/**
 * Transport: one HTTP exchange with a Tesseract through undici's low-level `dispatch`, streaming a
 * 2xx body into a `ResponseParser` as it arrives, and the error-code helpers that recognise a
 * kept-alive connection the server has closed (retried once by the client).
 */
import type { Dispatcher, Pool } from "undici";
import { parseResponseBody, ResponseParser } from "./response-body";

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
  /** The body, unless it was parsed (2xx with `parse`). */
  raw: Buffer;
  parsed?: unknown;
  /** Set when a 2xx body could not be parsed; thrown by the caller (not a connection error). */
  parseError?: unknown;
}

function contentLengthOf(rawHeaders: Buffer[] | string[] | null | undefined): number {
  if (!rawHeaders) return Number.NaN;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toString();
    if (name.length === 14 && name.toLowerCase() === "content-length") return Number(rawHeaders[i + 1].toString());
  }
  return Number.NaN;
}

/**
 * One request through undici's low-level `dispatch` (no response stream object, no promise per
 * chunk). A 2xx body with `parse` goes through a `ResponseParser` chunk by chunk as it arrives, so
 * large base64 buffers are decoded while the rest is still on the wire; other bodies are collected
 * into one Buffer (preallocated when the length is announced).
 */
export function dispatch(
  pool: Pool,
  req: {
    method: "GET" | "POST";
    path: string;
    headers: Record<string, string>;
    body: string | Iterable<string | Buffer> | undefined;
    signal: AbortSignal | undefined;
    parse: boolean;
    /** Where binref buffers are read from, when the caller can read the service's output folder. */
    binrefDir?: string;
  },
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const { signal } = req;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let status = 0;
    let parser: ResponseParser | undefined;
    let parseError: unknown;
    let out: Buffer | undefined;
    let outLength = 0;
    let chunks: Buffer[] | undefined;
    let abort: ((err?: Error) => void) | undefined;
    const onAbort = () => abort?.(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    const handler = {
      onConnect(abortRequest: (err?: Error) => void) {
        abort = abortRequest;
        if (signal?.aborted) abortRequest(signal.reason);
      },
      onHeaders(statusCode: number, rawHeaders: Buffer[]) {
        status = statusCode;
        const length = contentLengthOf(rawHeaders);
        // small bodies are collected and parsed at once (parseResponseBody); large ones stream
        if (req.parse && statusCode >= 200 && statusCode < 300 && !(length < STREAM_THRESHOLD)) {
          parser = new ResponseParser(Number.isFinite(length) ? length : undefined, req.binrefDir);
        } else if (Number.isFinite(length) && length >= 0) out = Buffer.allocUnsafe(length);
        else chunks = [];
        return true;
      },
      onData(chunk: Buffer) {
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
          resolve({ status, raw: EMPTY, parsed, parseError });
          return;
        }
        const raw = out ? (outLength === out.length ? out : out.subarray(0, outLength)) : Buffer.concat(chunks ?? []);
        if (req.parse && status >= 200 && status < 300) {
          try {
            resolve({ status, raw: EMPTY, parsed: parseResponseBody(raw, req.binrefDir) });
          } catch (err) {
            resolve({ status, raw: EMPTY, parseError: err });
          }
          return;
        }
        resolve({ status, raw });
      },
      onError(err: Error) {
        settle();
        reject(err);
      },
    };
    pool.dispatch(
      // an iterable body is supported by undici at runtime (its types only list streams)
      { method: req.method, path: req.path, headers: req.headers, body: req.body as string | undefined },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
}

const EMPTY = Buffer.alloc(0);
/** Responses announced shorter than this are parsed in one go; longer ones as they stream in. */
const STREAM_THRESHOLD = 65536;
