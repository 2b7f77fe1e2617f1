/**
 * TLS material for a tcp:// dockerd, made with openssl the way Docker's "protect the daemon socket"
 * guide does: a CA, a server certificate for 127.0.0.1 (IP SAN, serverAuth) and a client
 * certificate (clientAuth). Written as ca.pem / cert.pem / key.pem (the client's, the names the
 * Docker CLI reads from DOCKER_CERT_PATH) plus server-cert.pem / server-key.pem.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface TlsFiles {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  serverCert: string;
  serverKey: string;
  /** PEM text of one file. */
  read(file: "ca" | "cert" | "key"): string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA plus server and client certificates in a new temporary folder (remove `dir` when done). */
export function makeTlsFiles(prefix = "/tmp/ptf-tls-"): TlsFiles {
  const dir = mkdtempSync(prefix);
  const days = "2";
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    days,
    "-subj",
    "/CN=pulumi-tesseract test CA",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  );
  writeFileSync(
    path.join(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  writeFileSync(path.join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, cn] of [
    ["server", "127.0.0.1"],
    ["client", "pulumi-tesseract test client"],
  ]) {
    openssl(
      dir,
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${name}-key.pem`,
      "-out",
      `${name}.csr`,
    );
    openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-days",
      days,
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}-cert.pem`,
    );
  }
  // The client's files under the names the Docker CLI reads.
  writeFileSync(path.join(dir, "cert.pem"), readFileSync(path.join(dir, "client-cert.pem")));
  writeFileSync(path.join(dir, "key.pem"), readFileSync(path.join(dir, "client-key.pem")), { mode: 0o600 });
  const at = (f: string) => path.join(dir, f);
  return {
    dir,
    ca: at("ca.pem"),
    cert: at("cert.pem"),
    key: at("key.pem"),
    serverCert: at("server-cert.pem"),
    serverKey: at("server-key.pem"),
    read: (file) => readFileSync(at(`${file}.pem`), "utf8"),
  };
}
