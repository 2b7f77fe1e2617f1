/**
 * A scripted stand-in for a Tesseract's HTTP API on 127.0.0.1, recording every request.
 * `apply` echoes its inputs back (arrays stay in wire form), `openapi.json` lists a few paths.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface RecordedRequest {
  method?: string;
  url?: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FakeTesseract {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeTesseract(): Promise<FakeTesseract> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const path = (req.url ?? "").split("?")[0];
      res.setHeader("content-type", "application/json");
      if (path === "/apply") return res.end(JSON.stringify(JSON.parse(body).inputs));
      if (path === "/health") return res.end('{"status":"ok"}');
      if (path === "/openapi.json") {
        return res.end(JSON.stringify({ openapi: "3.1.0", paths: { "/apply": {}, "/health": {}, "/jacobian": {} } }));
      }
      res.statusCode = 404;
      res.end('{"detail":"Not Found"}');
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
