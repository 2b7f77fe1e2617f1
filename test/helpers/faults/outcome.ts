/** Plumbing shared by the fault files: bounded waits and reading a failed `pulumi up`. */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds; throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  cond: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Attaches handlers at once (a rejection while the test is busy elsewhere is not "unhandled"). */
export function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error instanceof Error ? error : new Error(String(error)) }),
  );
}

/** The engine-side error line(s) of a failed `pulumi up`. */
export function engineError(err: Error | undefined): string {
  // The "Diagnostics:" section of pulumi's output holds the full (multi-line) provider errors.
  const text = String(err ?? "");
  const start = text.indexOf("Diagnostics:");
  const body = start >= 0 ? text.slice(start + "Diagnostics:".length) : text;
  const end = body.search(/\n(Resources|Outputs|Duration):/);
  const diag = (end >= 0 ? body.slice(0, end) : body).replace(/\s+/g, " ");
  // From the first provider error on (progress lines before it are noise here).
  const m = /error: (?!update failed)/.exec(diag);
  return (m ? diag.slice(m.index) : diag).trim().slice(0, 1200);
}
