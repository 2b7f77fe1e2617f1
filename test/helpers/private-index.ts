/**
 * A private PEP 503 package index behind HTTP basic auth on 127.0.0.1, for tests: a small Python
 * server (the venv's or the system's python3) serving wheels it builds itself from the given
 * `{ name: version }` list (pure-Python, one module each). Pages link to files relatively, as
 * devpi and pypiserver do. `stop()` kills it and removes its folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const SERVER = String.raw`
import base64, hashlib, http.server, os, sys, zipfile, json
root, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
pkgs = json.loads(sys.argv[4])
os.makedirs(os.path.join(root, "packages"), exist_ok=True)
files = {}
for name, version in pkgs.items():
    mod = name.replace("-", "_")
    fn = f"{mod}-{version}-py3-none-any.whl"
    di = f"{mod}-{version}.dist-info"
    content = {
        f"{mod}/__init__.py": f"VALUE = {name!r}\n",
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: pt-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{k},sha256={base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b'=').decode()},{len(v)}\n" for k, v in content.items())
    content[f"{di}/RECORD"] = record + f"{di}/RECORD,,\n"
    with zipfile.ZipFile(os.path.join(root, "packages", fn), "w") as z:
        for k, v in content.items():
            z.writestr(k, v)
    files.setdefault(name, []).append(fn)
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
log = open(os.path.join(root, "requests.log"), "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send(self, code, body, ctype="text/html"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="pt"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    def do_HEAD(self):
        self.do_GET()
    def do_GET(self):
        ok = self.headers.get("Authorization") == expected
        log.write(("AUTH " if ok else "NOAUTH ") + self.path + "\n")
        if not ok:
            return self.send(401, b"auth required\n", "text/plain")
        p = self.path.split("?")[0]
        if p in ("/simple", "/simple/"):
            body = "".join(f'<a href="{n}/">{n}</a>\n' for n in files)
            return self.send(200, f"<html><body>{body}</body></html>".encode())
        if p.startswith("/simple/"):
            n = p[len("/simple/"):].strip("/").lower().replace("_", "-")
            if n not in files:
                return self.send(404, b"not found\n", "text/plain")
            body = "".join(f'<a href="../../packages/{f}">{f}</a>\n' for f in files[n])
            return self.send(200, f"<html><body>{body}</body></html>".encode())
        if p.startswith("/packages/"):
            f = os.path.join(root, "packages", os.path.basename(p))
            if os.path.isfile(f):
                return self.send(200, open(f, "rb").read(), "application/octet-stream")
        self.send(404, b"not found\n", "text/plain")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
`;

export interface PrivateIndex {
  /** `http://user:password@127.0.0.1:<port>/simple/` */
  url: string;
  port: number;
  /** Request lines seen so far: `AUTH /simple/x/` or `NOAUTH ...`. */
  requests(): string[];
  stop(): Promise<void>;
}

/** Starts the index; `packages` maps distribution names to versions. */
export async function startPrivateIndex(
  user: string,
  password: string,
  packages: Record<string, string>,
): Promise<PrivateIndex> {
  const root = mkdtempSync(path.join(tmpdir(), "pt-index-"));
  writeFileSync(path.join(root, "server.py"), SERVER);
  const child: ChildProcess = spawn(
    "python3",
    [path.join(root, "server.py"), root, user, password, JSON.stringify(packages)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("private index did not start within 20 s")), 20_000);
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.stdout?.once("data", (d) => {
      clearTimeout(timer);
      resolve(Number(String(d).trim()));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`private index exited (${code}): ${err}`));
    });
  });
  const { readFileSync } = await import("node:fs");
  return {
    url: `http://${user}:${password}@127.0.0.1:${port}/simple/`,
    port,
    requests: () => {
      try {
        return readFileSync(path.join(root, "requests.log"), "utf8").split("\n").filter(Boolean);
      } catch {
        return [];
      }
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
