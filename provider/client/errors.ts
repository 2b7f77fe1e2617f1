/**
 * Errors raised by `TesseractClient` and the Tesseract functions. All extend `TesseractError`, which
 * carries the url and endpoint, so callers can catch one class or tell cases apart.
 */

import { TesseractPulumiError } from "../common/errors";

/**
 * `http://user:secret@host` → `http://***@host`, anywhere in `text`: credentials in a url are
 * sent as Basic auth and never shown.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]*@/gi, "$1***@");
}

/**
 * `text` a server sent, safe to print: control characters other than newline and tab (a terminal
 * escape sequence, a NUL, the bytes of a compressed body) are shown as `\uXXXX`, so a hostile
 * answer cannot rewrite the terminal or the log that shows the error.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Base class: something went wrong calling a Tesseract. */
export class TesseractError extends TesseractPulumiError {
  /** Base url of the Tesseract. */
  readonly url: string;
  /** Endpoint name (`apply`, `jacobian`, `openapi.json`, …), when the error concerns one call. */
  readonly endpoint?: string;
  /** HTTP status, when the server answered. */
  readonly status?: number;

  constructor(
    message: string,
    opts: { url: string; endpoint?: string; status?: number; cause?: unknown; property?: string; hint?: string },
  ) {
    super(redactUrlCredentials(message), { cause: opts.cause, property: opts.property, hint: opts.hint });
    this.name = "TesseractError";
    this.url = redactUrlCredentials(opts.url);
    this.endpoint = opts.endpoint;
    this.status = opts.status;
  }
}

/** One validation problem: where (`inputs.a`, `jac_inputs[0]`), what kind, and why. */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `inputs.a` or `tangent_vector.x`. */
  path: string;
  /** Machine-readable type, e.g. `array_shape_mismatch`, `missing`, `extra_forbidden`. */
  type: string;
  /** Human-readable reason. */
  message: string;
  /** Short description of the offending value (never the whole value). */
  input?: string;
}

/**
 * The inputs were rejected: HTTP 422 from the Tesseract (`source: "server"`), or the client-side
 * check against the Tesseract's input schema when `validateInputs` is on (`source: "client"`).
 */
export class TesseractValidationError extends TesseractError {
  readonly issues: ValidationIssue[];
  readonly source: "server" | "client";

  constructor(opts: { url: string; endpoint: string; issues: ValidationIssue[]; source: "server" | "client" }) {
    const head =
      opts.source === "server"
        ? `Tesseract at ${opts.url} rejected the ${opts.endpoint} request (422): ${opts.issues.length} invalid field(s)`
        : `inputs for ${opts.endpoint} do not match the input schema of the Tesseract at ${opts.url}: ${opts.issues.length} problem(s)`;
    const lines = opts.issues.map(
      (i) => `  - ${i.path}: ${i.message} [${i.type}]${i.input ? ` (got ${i.input})` : ""}`,
    );
    super([head, ...lines].join("\n"), {
      url: opts.url,
      endpoint: opts.endpoint,
      status: opts.source === "server" ? 422 : undefined,
    });
    this.name = "TesseractValidationError";
    this.issues = opts.issues;
    this.source = opts.source;
  }
}

/** The Tesseract does not implement an optional endpoint (HTTP 404), e.g. `jacobian`. */
export class TesseractEndpointNotFoundError extends TesseractError {
  constructor(opts: { url: string; endpoint: string }) {
    super(
      `the Tesseract at ${opts.url} does not implement the ${opts.endpoint} endpoint (404): ` +
        `define ${opts.endpoint}() in its tesseract_api.py, or check that the url points at a Tesseract`,
      { url: opts.url, endpoint: opts.endpoint, status: 404 },
    );
    this.name = "TesseractEndpointNotFoundError";
  }
}

/** The Tesseract answered with an error status other than 404/422 (typically 500); `body` is its text. */
export class TesseractServerError extends TesseractError {
  /** The response body as text (a Python traceback when the Tesseract runs with debug on). */
  readonly body: string;

  constructor(opts: { url: string; endpoint: string; status: number; body: string }) {
    const text = opts.body.trim();
    const shown = printable(text.length > 20000 ? `…${text.slice(-20000)}` : text);
    const hint =
      opts.status >= 500 && text === "Internal Server Error"
        ? " (the Tesseract raised an exception; serve it with TESSERACT_DEBUG=1 to get the traceback)"
        : "";
    super(`Tesseract at ${opts.url} failed on ${opts.endpoint} with HTTP ${opts.status}${hint}:\n${shown}`, {
      url: opts.url,
      endpoint: opts.endpoint,
      status: opts.status,
    });
    this.name = "TesseractServerError";
    this.body = redactUrlCredentials(opts.body);
  }
}

/** No HTTP exchange happened: connection refused, DNS failure, reset, … `code` is the system code. */
export class TesseractConnectionError extends TesseractError {
  readonly code?: string;

  constructor(opts: { url: string; endpoint?: string; code?: string; cause?: unknown }) {
    const reason =
      opts.code === "ECONNREFUSED"
        ? "connection refused (is the Tesseract served, and on this host and port?)"
        : opts.code === "ENOTFOUND" || opts.code === "EAI_AGAIN"
          ? "host name not found"
          : opts.code === "UND_ERR_CONNECT_TIMEOUT"
            ? "connect timed out"
            : (opts.cause as Error | undefined)?.message || opts.code || "connection failed";
    super(`cannot reach the Tesseract at ${opts.url}${opts.endpoint ? ` (${opts.endpoint})` : ""}: ${reason}`, {
      url: opts.url,
      endpoint: opts.endpoint,
      cause: opts.cause,
    });
    this.name = "TesseractConnectionError";
    this.code = opts.code;
  }
}

/**
 * The call did not finish within the configured `timeoutMs`, or a phase of it within its own
 * limit (`option`: `headersTimeoutMs` for the response headers of `health`/`openapi.json`,
 * `bodyTimeoutMs` for a pause inside a response body).
 */
export class TesseractTimeoutError extends TesseractError {
  /** The option whose time ran out (`timeoutMs`, `headersTimeoutMs`, `bodyTimeoutMs`). */
  readonly option: string;

  constructor(opts: {
    url: string;
    endpoint: string;
    timeoutMs: number;
    cause?: unknown;
    /** Default `timeoutMs`. */
    option?: string;
    /** What did not happen in time, default "answer <endpoint>". */
    what?: string;
  }) {
    const option = opts.option ?? "timeoutMs";
    const what = opts.what ?? `answer ${opts.endpoint}`;
    super(
      option === "timeoutMs"
        ? `Tesseract at ${opts.url} did not ${what} within ${opts.timeoutMs} ms`
        : `Tesseract at ${opts.url} did not ${what} within ${opts.timeoutMs} ms (${option}; fix: raise the ${option} option of the TesseractClient if the server is just slow)`,
      { ...opts, hint: `raise ${option}` },
    );
    this.name = "TesseractTimeoutError";
    this.option = option;
  }
}

/**
 * A response broke one of the client's limits (`limit`: `maxResponseBytes`, `maxErrorBodyBytes`,
 * `maxJsonDepth`, `maxHeaderBytes`); refused before the memory was taken. The message says how to
 * raise it.
 */
export class TesseractLimitError extends TesseractError {
  /** The option that raises the limit. */
  readonly limit: string;

  constructor(opts: { url: string; endpoint?: string; limit: string; message: string; cause?: unknown }) {
    super(`Tesseract at ${opts.url}${opts.endpoint ? ` (${opts.endpoint})` : ""}: ${opts.message}`, {
      url: opts.url,
      endpoint: opts.endpoint,
      cause: opts.cause,
      hint: `raise the ${opts.limit} option`,
    });
    this.name = "TesseractLimitError";
    this.limit = opts.limit;
  }
}

/**
 * A 2xx answer the client refuses: not JSON, an array whose bytes do not fill its shape or dtype,
 * bad base64, a binref that points outside the output folder or at something that is not a file,
 * a body cut off before its end.
 */
export class TesseractResponseError extends TesseractError {
  /** The response's Content-Type, when it had one. */
  readonly contentType?: string;

  constructor(opts: {
    url: string;
    endpoint: string;
    status?: number;
    reason: string;
    contentType?: string;
    cause?: unknown;
  }) {
    super(
      `the ${opts.endpoint} answer of the Tesseract at ${opts.url} is refused: ${opts.reason}${opts.contentType !== undefined ? ` [content-type ${opts.contentType}]` : ""}`,
      { url: opts.url, endpoint: opts.endpoint, status: opts.status, cause: opts.cause },
    );
    this.name = "TesseractResponseError";
    this.contentType = opts.contentType;
  }
}

/**
 * An input value the client cannot send as given (`property` is its path, e.g. `inputs.a[1]`): a
 * value out of range for its dtype, not an integer for an integer dtype, a circular reference, or
 * nesting beyond `maxJsonDepth`. Nothing was sent.
 */
export class TesseractInputError extends TesseractError {
  /** Machine-readable rule, e.g. `out_of_range`, `not_an_integer`, `circular_reference`, `too_deep`. */
  readonly type: string;

  constructor(opts: { url: string; endpoint: string; property: string; type: string; message: string }) {
    super(`${opts.endpoint} inputs refused before sending to ${opts.url}: ${opts.message}`, {
      url: opts.url,
      endpoint: opts.endpoint,
      property: opts.property,
    });
    this.name = "TesseractInputError";
    this.type = opts.type;
  }
}

/** Short description of a value for error messages: arrays by dtype and shape, long text cut. */
export function summarizeValue(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string")
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 57))}…` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value)) {
    if (value.length <= 4 && value.every((v) => typeof v !== "object" || v === null)) return JSON.stringify(value);
    return `list of ${value.length}${value.length ? ` (first: ${summarizeValue(value[0], depth + 1)})` : ""}`;
  }
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (Array.isArray(o.shape) && typeof o.dtype === "string") {
      const enc = (o.data as { encoding?: string } | undefined)?.encoding;
      return `${o.dtype} array of shape [${(o.shape as unknown[]).join(", ")}]${enc ? ` (${enc})` : ""}`;
    }
    const keys = Object.keys(o);
    if (depth > 0 || keys.length > 6)
      return `object with keys ${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", …" : ""}`;
    return `{${keys.map((k) => `${k}: ${summarizeValue(o[k], depth + 1)}`).join(", ")}}`;
  }
  return typeof value;
}

/** Dotted path from a pydantic `loc` (`["body","inputs","a",0]` → `inputs.a[0]`). */
export function locToPath(loc: readonly unknown[]): string {
  let out = "";
  const parts = loc[0] === "body" ? loc.slice(1) : loc;
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || "(body)";
}

/** Parses FastAPI's `{"detail": [...]}` 422 body into issues; falls back to the raw text. */
export function parseValidationBody(text: string): ValidationIssue[] {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown };
    if (Array.isArray(parsed.detail)) {
      return parsed.detail.map((d: { loc?: unknown[]; type?: string; msg?: string; input?: unknown }) => ({
        path: locToPath(d.loc ?? []),
        type: d.type ?? "invalid",
        message: d.msg ?? "invalid value",
        input: "input" in d ? summarizeValue(d.input) : undefined,
      }));
    }
    if (typeof parsed.detail === "string") return [{ path: "(body)", type: "invalid", message: parsed.detail }];
  } catch {
    // not JSON
  }
  return [{ path: "(body)", type: "invalid", message: printable(text.slice(0, 2000)) }];
}
