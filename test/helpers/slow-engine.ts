/**
 * Fake Docker engines on unix sockets for discovery tests: each answers every request with `OK`
 * after a delay, like a dockerd busy with a heavy build on 2 cores. Close them with `close()`.
 */
import { createServer, type Server } from "node:net";
import path from "node:path";

export class SlowEngines {
  private readonly servers: Server[] = [];

  /** @param dir folder for the socket files */
  constructor(private readonly dir: string) {}

  /** Starts an engine at `<dir>/<name>` that answers after `delayMs`; returns its `unix://` host. */
  async start(name: string, delayMs: number): Promise<string> {
    const file = path.join(this.dir, name);
    const server = createServer((sock) => {
      sock.once("data", () => {
        const timer = setTimeout(() => {
          sock.end("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        }, delayMs);
        sock.once("close", () => clearTimeout(timer));
      });
      sock.on("error", () => undefined);
    });
    this.servers.push(server);
    await new Promise<void>((ok) => server.listen(file, ok));
    return `unix://${file}`;
  }

  async close(): Promise<void> {
    for (const s of this.servers) await new Promise((ok) => s.close(ok));
  }
}
