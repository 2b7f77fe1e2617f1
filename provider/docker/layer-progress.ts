/**
 * Progress of a push or pull stream, per layer: each state change of a layer once, and the bytes
 * moved so far at most every 5 s (the engine sends a message per chunk).
 */
import type { Progress } from "../common/log";
import type { PushMessage } from "./types";

/** What differs between a push and a pull: which statuses move bytes, which are noise, the words. */
export interface LayerProgressKind {
  /** Statuses whose `progressDetail.current` counts bytes moved ("Pushing"; "Downloading", "Extracting"). */
  transfer: readonly string[];
  /** Statuses not worth a line ("Preparing", "Waiting", "Verifying Checksum"). */
  noise: readonly string[];
  /** The line for the bytes so far, e.g. `pushing: 12.3 MB sent`. */
  bytesLine: (megabytes: string) => string;
}

/** A message handler reporting `kind`'s layer progress to `progress`. */
export function layerReporter(progress: Progress, kind: LayerProgressKind): (m: PushMessage) => void {
  const moved = new Map<string, number>();
  const states = new Map<string, string>();
  let lastBytes = Date.now();
  return (m) => {
    if (!m.id || !m.status) return;
    if (kind.transfer.includes(m.status)) {
      moved.set(m.id, m.progressDetail?.current ?? 0);
      if (Date.now() - lastBytes >= 5_000) {
        lastBytes = Date.now();
        const total = [...moved.values()].reduce((a, b) => a + b, 0);
        progress.info(kind.bytesLine((total / 1e6).toFixed(1)));
      }
      return;
    }
    if (kind.noise.includes(m.status) || states.get(m.id) === m.status) return;
    states.set(m.id, m.status);
    progress.info(`layer ${m.id}: ${m.status}`);
  };
}
