/** A bounded load generator for the faults tier (calls, errors, RSS of this process). */

/** Runs `total` calls with at most `concurrency` in flight; returns errors and peak RSS. */
export async function loadTest(
  call: (i: number) => Promise<void>,
  total: number,
  concurrency: number,
): Promise<{ errors: string[]; peakRssMb: number; startRssMb: number; endRssMb: number; seconds: number }> {
  const errors: string[] = [];
  global.gc?.();
  const startRss = process.memoryUsage().rss;
  let peak = startRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        await call(i);
      } catch (err) {
        if (errors.length < 10) errors.push(String(err).slice(0, 300));
        else errors.push("…");
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;
  return {
    errors,
    peakRssMb: mb(peak),
    startRssMb: mb(startRss),
    endRssMb: mb(process.memoryUsage().rss),
    seconds: (Date.now() - t0) / 1000,
  };
}
