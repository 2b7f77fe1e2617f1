/**
 * The stack configuration of the TaskGroup provider (`fractal:url`, and the account: `fractal:email`
 * + `fractal:password`, or `fractal:token`): from `configure`, else from `PULUMI_CONFIG`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { UserError } from "../common/errors";
import type { CheckedInputs, TaskGroupOutputs } from "./backend";
import type { ServerCredentials } from "./client";

let config: Partial<ServerCredentials> = {};

const KEYS = ["url", "email", "password", "token"] as const;

/** Records `fractal:url`, `fractal:email`, `fractal:password`, `fractal:token` from the stack configuration. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const get = (k: string) => {
    try {
      return req.config.get(k) || undefined;
    } catch {
      return undefined;
    }
  };
  config = Object.fromEntries(KEYS.map((k) => [k, get(`fractal:${k}`)]));
}

/** The configuration as the engine passes it to the provider process's environment. */
export function configFromEnv(): Partial<ServerCredentials> {
  try {
    const c = JSON.parse(process.env.PULUMI_CONFIG || "{}") as Record<string, string>;
    return Object.fromEntries(KEYS.map((k) => [k, c[`fractal:${k}`] || undefined]));
  } catch {
    return {};
  }
}

/** `configure`'s values, else the environment's. */
export function providerConfig(): Partial<ServerCredentials> {
  const env = configFromEnv();
  return Object.fromEntries(KEYS.map((k) => [k, config[k] ?? env[k]]));
}

/**
 * The account part of the configuration: `fractal:token`, or `fractal:email` + `fractal:password`
 * (exactly one); the problem as text when it is incomplete or both are set.
 */
function configAccount(c: Partial<ServerCredentials>): ServerCredentials | string {
  const url = c.url as string;
  if (c.token && (c.email || c.password))
    return "the stack config sets both fractal:token and fractal:email/fractal:password: keep one (`pulumi config rm fractal:token`, or `pulumi config rm fractal:password`)";
  if (c.token) return { url, token: c.token };
  const missing = (["email", "password"] as const).filter((k) => !c[k]);
  if (missing.length)
    return `fractal:${missing.join(", fractal:")} (or fractal:token, a bearer token) missing from the stack config (pulumi config set fractal:password --secret ..., or pulumi config set fractal:token --secret ...)`;
  return { url, email: c.email, password: c.password };
}

/** Credentials for a new group: the `server` input, else the stack configuration. */
export function credentials(inputs: Pick<CheckedInputs, "server">): ServerCredentials {
  if (inputs.server) return inputs.server;
  const c = providerConfig();
  if (!c.url) {
    throw new UserError(
      "the server backend needs fractal:url and an account (fractal:email + fractal:password, or fractal:token) in the stack config (pulumi config set fractal:password --secret ...) or a `server` input",
    );
  }
  const account = configAccount(c);
  if (typeof account === "string") throw new UserError(`the server backend: ${account}, or give a \`server\` input`);
  return account;
}

/** Same server URL, ignoring trailing slashes. */
const sameUrl = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

/**
 * Credentials for an existing group: the `server` input it was made with, else the configuration.
 * A bearer token recorded in the state may have expired by the time of `refresh` or `destroy`: a
 * `fractal:token` configured for the same server (or without `fractal:url`) is used instead.
 */
export function serverCredsFromState(o: Pick<TaskGroupOutputs, "server" | "serverUrl">): ServerCredentials {
  const c = providerConfig();
  if (o.server) {
    if (o.server.token && c.token && (!c.url || sameUrl(c.url, o.server.url))) return { ...o.server, token: c.token };
    return o.server;
  }
  const account = configAccount(c);
  if (typeof account === "string") throw new UserError(`${account} (needed to reach the server)`);
  return { ...account, url: o.serverUrl ?? (c.url as string) };
}

/** The provider's own configured secrets, password and token (to redact from logs and errors). */
export function configuredSecrets(): (string | undefined)[] {
  const env = configFromEnv();
  return [config.password, config.token, env.password, env.token];
}

/** The provider's own configured password (a secret to redact from logs). */
export function configuredPassword(): string | undefined {
  return config.password;
}
