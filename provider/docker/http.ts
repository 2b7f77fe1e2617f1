/** Request plumbing of the Engine API client: option and response shapes, query encoding. */
import type { Readable } from "node:stream";

export type Query = Record<string, string | number | boolean | undefined | string[]>;

export interface RequestOptions {
  query?: Query;
  json?: unknown;
  body?: Readable | Buffer | string;
  headers?: Record<string, string>;
  /** Status codes treated as success (default: any 2xx). */
  ok?: number[];
  signal?: AbortSignal;
}

export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Buffer> & {
    text(): Promise<string>;
    json(): Promise<unknown>;
    dump(): Promise<void>;
  };
}

/** A failure of the connection itself (the engine went away), not an answer of the engine. */
export function isSocketError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? "";
  return /UND_ERR_SOCKET|ECONNRESET|EPIPE|ECONNREFUSED|ENOENT/.test(code) || /other side closed/.test(String(err));
}

/** `?k=v&…`: arrays repeat the key, `true` is `1`, `false`/undefined are left out. */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === false) continue;
    const values = Array.isArray(v) ? v : [v === true ? "1" : String(v)];
    for (const one of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Compares Engine API versions `1.NN`. */
export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split(".").map(Number);
  const [b1, b2] = b.split(".").map(Number);
  return a1 - b1 || a2 - b2;
}
