/**
 * The stack configuration of the TaskGroup provider (`fractal:url`, `fractal:email`,
 * `fractal:password`): from `configure`, else from `PULUMI_CONFIG`.
 */
import type * as pulumi from "@pulumi/pulumi";
import { UserError } from "../common/errors";
import type { CheckedInputs, TaskGroupOutputs } from "./backend";
import type { ServerCredentials } from "./client";

let config: Partial<ServerCredentials> = {};

/** Records `fractal:url`, `fractal:email`, `fractal:password` from the stack configuration. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const get = (k: string) => {
    try {
      return req.config.get(k) || undefined;
    } catch {
      return undefined;
    }
  };
  config = { url: get("fractal:url"), email: get("fractal:email"), password: get("fractal:password") };
}

/** The configuration as the engine passes it to the provider process's environment. */
export function configFromEnv(): Partial<ServerCredentials> {
  try {
    const c = JSON.parse(process.env.PULUMI_CONFIG || "{}") as Record<string, string>;
    return { url: c["fractal:url"], email: c["fractal:email"], password: c["fractal:password"] };
  } catch {
    return {};
  }
}

/** `configure`'s values, else the environment's. */
export function providerConfig(): Partial<ServerCredentials> {
  const env = configFromEnv();
  return { url: config.url ?? env.url, email: config.email ?? env.email, password: config.password ?? env.password };
}

/** Credentials for a new group: the `server` input, else the stack configuration. */
export function credentials(inputs: Pick<CheckedInputs, "server">): ServerCredentials {
  if (inputs.server) return inputs.server;
  const c = providerConfig();
  const missing = (["url", "email", "password"] as const).filter((k) => !c[k]);
  if (missing.length) {
    throw new UserError(
      `the server backend needs fractal:${missing.join(", fractal:")} in the stack config (pulumi config set fractal:password --secret ...) or a \`server\` input`,
    );
  }
  return c as ServerCredentials;
}

/** Credentials for an existing group: the `server` input it was made with, else the configuration. */
export function serverCredsFromState(o: Pick<TaskGroupOutputs, "server" | "serverUrl">): ServerCredentials {
  if (o.server) return o.server;
  const c = providerConfig();
  if (!c.email || !c.password)
    throw new UserError(
      "fractal:email / fractal:password are missing from the stack config (needed to reach the server)",
    );
  return { url: o.serverUrl ?? (c.url as string), email: c.email, password: c.password };
}

/** The provider's own configured password (a secret to redact from logs). */
export function configuredPassword(): string | undefined {
  return config.password;
}
