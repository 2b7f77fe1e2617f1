/**
 * A loopback reverse proxy that adds a package index's credentials, run for the duration of one
 * build. Why: `custom_build_steps` run in the final image's stage, and the classic builder records
 * every build arg a stage declares (`ARG PIP_INDEX_URL`) on each later `RUN` in the image history,
 * which `push` uploads. With the proxy the build args carry `http://127.0.0.1:<port>/...` (no
 * credentials); the build reaches it with `buildNetwork: "host"`. The port is derived from the
 * index URL without its credentials, so the same index gets the same port (and the same cache key)
 * build after build; a rotated token does not rebuild anything.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { rootCertificates } from "node:tls";
import { Agent, fetch } from "undici";

/** Whether a URL carries credentials (a user name or a password). */
export function hasCredentials(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.username !== "" || u.password !== "";
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+@/i.test(url);
  }
}

/** A URL without its credentials (`https://host/simple`), safe to show and to hash. */
export function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.toString();
}

const PORT_BASE = 20_000;
const PORT_SPAN = 30_000;
const PORT_TRIES = 16;

/** The first port tried for an upstream: stable per credential-free URL. */
export function preferredPort(upstream: string): number {
  const h = createHash("sha256").update(withoutCredentials(upstream)).digest();
  return PORT_BASE + (h.readUInt32BE(0) % PORT_SPAN);
}

interface Running {
  server: Server;
  port: number;
  users: number;
}

/** One proxy per upstream URL (credentials included) in this process, shared by concurrent builds. */
const running = new Map<string, Promise<Running>>();

function listen(server: Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = () => {
      server.off("listening", onListening);
      resolve(false);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve(true);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

/** Response headers passed on; the body is re-streamed (decoded by fetch), so no length/encoding. */
const DROP_HEADERS = new Set(["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"]);

function handler(upstream: URL, authorization: string, self: () => string, dispatcher: Agent) {
  const origin = upstream.origin;
  const rewrite = (text: string) => text.split(origin).join(self());
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      const target = new URL(req.url ?? "/", origin);
      const headers: Record<string, string> = { authorization, "accept-encoding": "identity" };
      for (const h of ["accept", "user-agent", "range", "if-none-match", "if-modified-since"]) {
        const v = req.headers[h];
        if (typeof v === "string") headers[h] = v;
      }
      const r = await fetch(target, { method: req.method, headers, redirect: "manual", dispatcher });
      const out: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (!DROP_HEADERS.has(k)) out[k] = k === "location" ? rewrite(v) : v;
      });
      const type = r.headers.get("content-type") ?? "";
      // Index pages may link to files by absolute URL on the same host: those go through us too.
      if (/html|json|text/.test(type) && r.body) {
        const text = rewrite(await r.text());
        res.writeHead(r.status, out).end(req.method === "HEAD" ? undefined : text);
        return;
      }
      res.writeHead(r.status, out);
      if (!r.body || req.method === "HEAD") {
        res.end();
        return;
      }
      Readable.fromWeb(r.body as import("node:stream/web").ReadableStream).pipe(res);
    } catch {
      // never the upstream's address or the error (it may carry the URL): the build log is public
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("pulumi-tesseract index proxy: the package index could not be reached\n");
    }
  };
}

async function start(upstreamUrl: string, ca: string | undefined): Promise<Running> {
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username);
  const pass = decodeURIComponent(upstream.password);
  const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  let port = 0;
  // the build's caCertificates (e.g. a TLS-intercepting proxy's CA) are trusted here too
  const dispatcher = new Agent({ connect: ca ? { ca: [...rootCertificates, ca] } : {} });
  const server = createServer(handler(upstream, authorization, () => `http://127.0.0.1:${port}`, dispatcher));
  server.on("close", () => void dispatcher.close().catch(() => undefined));
  server.keepAliveTimeout = 5_000;
  const first = preferredPort(upstreamUrl);
  for (let k = 0; k < PORT_TRIES && port === 0; k++) {
    const p = PORT_BASE + ((first - PORT_BASE + k) % PORT_SPAN);
    if (await listen(server, p)) port = p;
  }
  if (port === 0) {
    if (!(await listen(server, 0))) throw new Error("cannot listen on 127.0.0.1 for the package index proxy");
    port = (server.address() as { port: number }).port;
  }
  server.unref();
  return { server, port, users: 0 };
}

/** Proxies in use by one build: credential-free replacements for its index URLs, and a release. */
export interface IndexProxies {
  /** The loopback URL standing for `url` (an URL without credentials is returned as is). */
  urlFor(url: string): string;
  /** Stops the proxies this build started (the last user of each stops it). */
  close(): Promise<void>;
}

/**
 * Starts (or joins) one loopback proxy per credential-bearing URL of `urls`; `ca` is PEM text of
 * extra CA certificates the proxy trusts for the index (the build's `caCertificates`).
 */
export async function startIndexProxies(urls: string[], ca?: string): Promise<IndexProxies> {
  const mine = new Map<string, Running>();
  try {
    for (const url of new Set(urls.filter(hasCredentials))) {
      let p = running.get(url);
      if (!p) {
        p = start(url, ca);
        running.set(url, p);
        p.catch(() => running.delete(url));
      }
      const r = await p;
      r.users++;
      mine.set(url, r);
    }
  } catch (err) {
    await release(mine);
    throw err;
  }
  return {
    urlFor(url: string): string {
      const r = mine.get(url);
      if (!r) return url;
      const u = new URL(url);
      return `http://127.0.0.1:${r.port}${u.pathname}${u.search}`;
    },
    close: () => release(mine),
  };
}

async function release(mine: Map<string, Running>): Promise<void> {
  for (const [url, r] of mine) {
    r.users--;
    if (r.users > 0) continue;
    running.delete(url);
    r.server.closeAllConnections();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
  }
  mine.clear();
}
