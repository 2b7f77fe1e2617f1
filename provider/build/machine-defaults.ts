import { readFileSync } from "node:fs";
import { hostCaCertificates } from "../build-context/host-ca";
import { TesseractPulumiError } from "../common/errors";

/** Environment variable: the Docker network mode of builds that do not set `buildNetwork`. */
export const BUILD_NETWORK_ENV = "PULUMI_TESSERACT_BUILD_NETWORK";
/**
 * Environment variable: the CA certificates of builds that do not set `caCertificates`: `host`
 * (the host's extra CAs, as `hostCaCertificates()`) or the path of a PEM bundle.
 */
export const CA_CERTIFICATES_ENV = "PULUMI_TESSERACT_CA_CERTIFICATES";

/**
 * A machine's build settings, for every TesseractImage that leaves them unset: a host behind a
 * TLS-intercepting proxy, or whose builds reach package indexes only through the host's network,
 * says so once in its environment instead of in every stack (the quick start runs unchanged
 * there). Applied at `check`, so the values are the resource's recorded inputs and a change shows
 * as one; an explicit input always wins.
 */
export function withMachineDefaults<T extends { buildNetwork?: unknown; caCertificates?: unknown }>(
  news: T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const out = { ...news };
  const network = env[BUILD_NETWORK_ENV]?.trim();
  if (out.buildNetwork === undefined && network) out.buildNetwork = network;
  const ca = env[CA_CERTIFICATES_ENV]?.trim();
  if (out.caCertificates === undefined && ca) {
    const pem = ca === "host" ? hostCaCertificates() : readBundle(ca);
    if (pem !== undefined) out.caCertificates = pem;
  }
  return out;
}

function readBundle(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new TesseractPulumiError(
      `${CA_CERTIFICATES_ENV}=${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
      { property: "caCertificates", hint: `set ${CA_CERTIFICATES_ENV} to "host" or to a readable PEM file` },
    );
  }
}
