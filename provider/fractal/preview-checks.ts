/**
 * What a TaskGroup's `check` asks the fractal-server before anything is created, so that `preview`
 * fails on what the server would refuse at `up`: an unsupported server version (with the supported
 * range), a `pip.pythonVersion` the server's resource does not offer, and a `pixi` group that is not
 * there to adopt. A server that cannot be reached is not a check failure (the collection reports it).
 */
import { createHash } from "node:crypto";
import { type CheckFailure, failureOf } from "../common/check";
import { FractalClient, FractalLoginError, type ServerCredentials } from "./client";
import { localPipFailures } from "./local-paths";
import { findPixiGroup, type PixiSpec, pixiCreateRefusal } from "./origins";
import { pythonVersionRefusal } from "./python-versions";
import type { PipSpec } from "./schemas";
import { serverFeatures, serverVersion } from "./server-version";

interface CheckedSources {
  pip?: PipSpec;
  pixi?: PixiSpec;
}

/**
 * Failures of the local backend known without running anything: pixi groups cannot be made here,
 * and names and versions must be plain folder names that pip cannot read as options (local-paths.ts).
 */
export function localPreviewFailures(inputs: CheckedSources): CheckFailure[] {
  const failures = localPipFailures(inputs.pip);
  if (inputs.pixi) failures.push({ property: "pixi", reason: `pixi: ${pixiCreateRefusal(inputs.pixi, "local")}` });
  return failures;
}

/** Failures the server would cause at `up`; `creds` undefined (not configured yet) checks nothing. */
export async function serverPreviewFailures(
  inputs: CheckedSources,
  creds: ServerCredentials | undefined,
): Promise<CheckFailure[]> {
  if (!creds?.url) return [];
  try {
    await serverVersion(creds.url);
  } catch {
    return []; // unreachable now: create says so, with the reason
  }
  const failures: CheckFailure[] = [];
  let features: Awaited<ReturnType<typeof serverFeatures>>;
  try {
    features = await serverFeatures(creds.url);
  } catch (err) {
    return [{ property: "backend", reason: (err as Error).message }];
  }
  if (!creds.token && (!creds.email || !creds.password)) return failures;
  const client = new FractalClient(creds);
  // Per server and account; a token is keyed by a digest (the cache never holds the secret).
  const key = `${creds.url} ${creds.token ? `token:${createHash("sha256").update(creds.token).digest("hex").slice(0, 16)}` : creds.email}`;
  try {
    const py = inputs.pip?.pythonVersion;
    if (py) {
      const refusal = await pythonVersionRefusal(client, key, features, py);
      if (refusal) failures.push({ property: "pip.pythonVersion", reason: `pip.pythonVersion "${py}": ${refusal}` });
    }
    if (inputs.pixi) {
      const { problem } = await findPixiGroup(client, inputs.pixi, creds.url);
      if (problem) failures.push({ property: "pixi", reason: `pixi: ${problem}` });
    }
  } catch (err) {
    // A refused login is worth failing the preview for; anything else shows up at create.
    if (err instanceof FractalLoginError) failures.push(failureOf(err, "server"));
  }
  return failures;
}
