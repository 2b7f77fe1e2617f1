/**
 * Provider configuration of the `tesseract` plugin (`pulumi config set tesseract:dockerHost …`):
 * defaults for the `docker` input of TesseractImage/TesseractService and for TaskGroup's fractal-server
 * connection (the dynamic resources' `fractal:url|email|password|token`).
 */
import type { DockerConnection } from "../docker/connection";

/** The plugin's configuration keys (without the `tesseract:` namespace). */
export interface PluginConfig {
  dockerHost?: string;
  dockerContext?: string;
  dockerCaPem?: string;
  dockerCertPem?: string;
  dockerKeyPem?: string;
  dockerApiVersion?: string;
  fractalUrl?: string;
  fractalEmail?: string;
  fractalPassword?: string;
  fractalToken?: string;
}

const KEYS: (keyof PluginConfig)[] = [
  "dockerHost",
  "dockerContext",
  "dockerCaPem",
  "dockerCertPem",
  "dockerKeyPem",
  "dockerApiVersion",
  "fractalUrl",
  "fractalEmail",
  "fractalPassword",
  "fractalToken",
];

/**
 * Reads the engine's `Configure` request: `variables` are keyed `tesseract:config:<key>` (older
 * engines) or `tesseract:<key>`; `args` holds the same keys unprefixed. Values are strings.
 */
export function parseConfig(variables: Record<string, string>, args?: Record<string, unknown>): PluginConfig {
  const out: PluginConfig = {};
  for (const [k, v] of Object.entries(variables)) {
    const key = k.replace(/^tesseract:(config:)?/, "") as keyof PluginConfig;
    if (KEYS.includes(key) && typeof v === "string" && v !== "") out[key] = v;
  }
  for (const [k, v] of Object.entries(args ?? {})) {
    const key = k as keyof PluginConfig;
    if (KEYS.includes(key) && typeof v === "string" && v !== "" && out[key] === undefined) out[key] = v;
  }
  return out;
}

/** The `docker` input a resource gets when it sets none, or undefined without docker config. */
export function dockerDefault(config: PluginConfig): DockerConnection | undefined {
  const conn: DockerConnection = {
    host: config.dockerHost,
    context: config.dockerContext,
    caPem: config.dockerCaPem,
    certPem: config.dockerCertPem,
    keyPem: config.dockerKeyPem,
    apiVersion: config.dockerApiVersion,
  };
  const set = Object.fromEntries(Object.entries(conn).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? (set as DockerConnection) : undefined;
}

/** TaskGroup's provider configuration, in the shape its `configure` reads (`fractal:url`, …). */
export function fractalConfigRequest(config: PluginConfig) {
  const values: Record<string, string | undefined> = {
    "fractal:url": config.fractalUrl,
    "fractal:email": config.fractalEmail,
    "fractal:password": config.fractalPassword,
    "fractal:token": config.fractalToken,
  };
  return {
    config: {
      get: (key: string) => values[key],
      require: (key: string) => {
        const v = values[key];
        if (v === undefined) throw new Error(`missing required configuration ${key}`);
        return v;
      },
    },
  };
}
