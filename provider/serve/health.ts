import { request } from "undici";
import type { ContainerEngine } from "../docker/engine";

/** Poll interval of the health wait (upstream polls every 100 ms). */
export const HEALTH_POLL_MS = 100;

export type HealthOutcome =
  | { ok: true; seconds: number }
  | { ok: false; reason: "exited" | "timeout" | "vanished"; detail: string };

/** One `GET /health` with a short deadline; true on 200. */
export async function probeHealth(baseUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await request(`${baseUrl}/health`, {
      method: "GET",
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      reset: true,
    });
    const body = await res.body.text();
    return res.statusCode === 200 && body.includes("ok");
  } catch {
    return false;
  }
}

/**
 * Waits until `GET <baseUrl>/health` answers 200, polling every {@link HEALTH_POLL_MS}. Fails
 * early when the container stops running or restarts (a crash under a restart policy), and after
 * `timeoutSeconds`.
 */
export async function waitHealthy(
  docker: Pick<ContainerEngine, "inspectContainer">,
  containerId: string,
  baseUrl: string,
  timeoutSeconds: number,
): Promise<HealthOutcome> {
  const started = Date.now();
  const deadline = started + timeoutSeconds * 1000;
  let polls = 0;
  while (Date.now() < deadline) {
    if (await probeHealth(baseUrl, Math.min(1000, Math.max(100, deadline - Date.now())))) {
      return { ok: true, seconds: (Date.now() - started) / 1000 };
    }
    // The engine is asked every other poll: cheap, and a crash is seen within ~0.3 s.
    if (polls++ % 2 === 1) {
      const info = await docker.inspectContainer(containerId);
      if (!info) return { ok: false, reason: "vanished", detail: "the container was removed while starting" };
      const s = info.State;
      if (!s.Running || s.Status === "restarting" || info.RestartCount > 0) {
        const code = `exited with code ${s.ExitCode}${s.Running || s.Status === "restarting" ? " (and the restart policy restarted it)" : ""}`;
        return {
          ok: false,
          reason: "exited",
          detail: `${code}${s.OOMKilled ? " (killed: out of memory; raise `memory`)" : ""}${s.Error ? `: ${s.Error}` : ""}`,
        };
      }
    }
    await new Promise((r) => setTimeout(r, Math.min(HEALTH_POLL_MS, Math.max(0, deadline - Date.now()))));
  }
  return { ok: false, reason: "timeout", detail: `did not answer GET /health within ${timeoutSeconds} s` };
}
