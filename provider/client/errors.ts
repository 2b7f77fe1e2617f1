/**
 * Errors raised by `TesseractClient` and the Tesseract functions. All extend `TesseractError`, which
 * carries the url and endpoint, so callers can catch one class or tell cases apart.
 */

import { TesseractPulumiError } from "../common/errors";

/** Base class: something went wrong calling a Tesseract. */
export class TesseractError extends TesseractPulumiError {
  /** Base url of the Tesseract. */
  readonly url: string;
  /** Endpoint name (`apply`, `jacobian`, `openapi.json`, …), when the error concerns one call. */
  readonly endpoint?: string;
  /** HTTP status, when the server answered. */
  readonly status?: number;

  constructor(message: string, opts: { url: string; endpoint?: string; status?: number; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "TesseractError";
    this.url = opts.url;
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
    const shown = text.length > 20000 ? `…${text.slice(-20000)}` : text;
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
    this.body = opts.body;
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

/** The call did not finish within the configured `timeoutMs`. */
export class TesseractTimeoutError extends TesseractError {
  constructor(opts: { url: string; endpoint: string; timeoutMs: number; cause?: unknown }) {
    super(`Tesseract at ${opts.url} did not answer ${opts.endpoint} within ${opts.timeoutMs} ms`, opts);
    this.name = "TesseractTimeoutError";
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
  return [{ path: "(body)", type: "invalid", message: text.slice(0, 2000) }];
}
