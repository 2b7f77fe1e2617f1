import { parseBuildLine } from "../docker/build-log";

/**
 * Follows a build's log to learn which images it created (removed again when the build fails)
 * and which image ends its first stage (the dependency cache, kept tagged).
 */
export class BuildLogTracker {
  /** Images created by steps of this build (not reused from the cache, not base images). */
  readonly created: string[] = [];
  /** Last image of the first stage (`FROM` … up to the next `FROM`). */
  stageImage: string | undefined;
  /** The last lines of the log (at most 500). */
  readonly lines: string[] = [];
  private stage = 0;
  private inFrom = false;
  private lastWasCache = false;

  /** Feeds one log line. */
  feed(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 500) this.lines.shift();
    const parsed = parseBuildLine(line);
    if (!parsed) return;
    if (parsed.kind === "step") {
      if (parsed.from) this.stage++;
      this.inFrom = parsed.from;
      this.lastWasCache = false;
    } else if (parsed.kind === "cache") {
      this.lastWasCache = true;
    } else {
      if (this.stage === 1) this.stageImage = parsed.id;
      if (!this.inFrom && !this.lastWasCache) this.created.push(parsed.id);
      this.lastWasCache = false;
    }
  }
}
