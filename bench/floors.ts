/**
 * Lower bounds for bench/client.ts: what a client that does no work at all would measure against
 * the same server, so a ratio goal can be checked for reachability on this machine.
 *
 * - `socketPoster`: POST of prebuilt request bytes over one keep-alive TCP socket, reading the
 *   response only as far as its Content-Length says (no HTTP library, no encoding, no decoding).
 *   Used only to measure: the package itself talks to Tesseracts through undici.
 * - `poolPoster`: POST of a prebuilt body to `/apply` through a bare undici Pool, the answer drained
 *   undecoded: what any undici client pays with no encoding and no decoding.
 * - `freshMemoryMs`: time to allocate and first-touch fresh memory, which any encode+decode that
 *   returns new outputs must pay (the kernel zero-fills each new page on first write).
 */
import net from "node:net";
import { Pool } from "undici";

/** A function that POSTs `body` to `path` and resolves with the response status once it is read. */
export type Poster = () => Promise<number>;

export async function socketPoster(
  url: string,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ post: Poster; close(): void }> {
  const u = new URL(url);
  const head = [`POST ${path} HTTP/1.1`, `host: ${u.host}`, `content-length: ${body.length}`]
    .concat(Object.entries(headers).map(([k, v]) => `${k}: ${v}`))
    .join("\r\n");
  const request = Buffer.concat([Buffer.from(`${head}\r\n\r\n`, "latin1"), body]);
  const socket = net.connect(Number(u.port || 80), u.hostname);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let waiting: { resolve(status: number): void; reject(err: Error): void } | undefined;
  let held: Buffer = Buffer.alloc(0);
  let status = 0;
  let remaining = -1; // body bytes still to come; -1 while reading headers
  socket.on("data", (chunk: Buffer) => {
    let buf = held.length ? Buffer.concat([held, chunk]) : chunk;
    held = Buffer.alloc(0);
    if (remaining < 0) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) {
        held = buf;
        return;
      }
      const text = buf.toString("latin1", 0, end);
      status = Number(text.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (!m) {
        waiting?.reject(new Error("socket floor: response without content-length"));
        return;
      }
      remaining = Number(m[1]);
      buf = buf.subarray(end + 4);
    }
    remaining -= buf.length;
    if (remaining <= 0) {
      remaining = -1;
      const w = waiting;
      waiting = undefined;
      w?.resolve(status);
    }
  });
  socket.on("error", (err) => waiting?.reject(err));
  return {
    post: () =>
      new Promise<number>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(request);
      }),
    close: () => socket.destroy(),
  };
}

/** Milliseconds to allocate and write `bytes` of fresh memory (one pass, like a decoder's output). */
export function freshMemoryMs(bytes: number): number {
  const t0 = performance.now();
  new Uint8Array(bytes).fill(1);
  return performance.now() - t0;
}

/** A bare undici Pool that POSTs prebuilt bodies to `/apply` and drains the answer undecoded. */
export function poolPoster(
  url: string,
  connections: number,
): { post(body: string | Buffer, accept?: string): Promise<void>; close(): Promise<void> } {
  const pool = new Pool(url, { connections, headersTimeout: 0, bodyTimeout: 0 });
  return {
    async post(body, accept = "application/json+base64") {
      const r = await pool.request({
        method: "POST",
        path: "/apply",
        body,
        headers: { "content-type": "application/json", accept },
      });
      for await (const _ of r.body);
      if (r.statusCode !== 200) throw new Error(`bare apply: ${r.statusCode}`);
    },
    close: () => pool.close(),
  };
}
