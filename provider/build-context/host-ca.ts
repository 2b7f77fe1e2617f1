import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Where Debian keeps locally added CA certificates (e.g. a TLS-intercepting proxy's). */
export const HOST_CA_DIR = "/usr/local/share/ca-certificates";

/**
 * PEM text of the `.crt` files in `dir` (sorted, so the build context hash is stable), or
 * `undefined` when there are none: the value for `TesseractImage`'s `caCertificates` on a host
 * behind a TLS-intercepting proxy.
 */
export function hostCaCertificates(dir = HOST_CA_DIR): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".crt"));
  } catch {
    return undefined;
  }
  const pems = files.sort().map((f) => readFileSync(path.join(dir, f), "utf8"));
  return pems.length ? pems.join("\n") : undefined;
}
