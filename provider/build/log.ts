import { parseBuildLine } from "../docker/build-log";

/**
 * Follows a build's log to learn which images it created (removed again when the build fails,
 * or, the build stage's, with `keepBuildCache: false`) and which image ends its first stage
 * (the dependency cache, kept tagged).
 */
export class BuildLogTracker {
  /** Images created by steps of this build (not reused from the cache, not base images). */
  readonly created: string[] = [];
  /** Last image of the first stage (`FROM` … up to the next `FROM`). */
  stageImage: string | undefined;
  /** The last lines of the log (at most 500). */
  readonly lines: string[] = [];
  /** The stage (1-based) each of `created` was made in. */
  private readonly createdIn: number[] = [];
  private stage = 0;
  private inFrom = false;
  private lastWasCache = false;

  /**
   * Created images of every stage but the last one seen. A stage of the classic builder is a
   * chain of images from its `FROM` image, so none of these is an ancestor of the final image
   * unless the last stage starts `FROM` an earlier stage (the generated Dockerfile never does).
   */
  get createdBeforeLastStage(): string[] {
    return this.created.filter((_, i) => this.createdIn[i] < this.stage);
  }

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
      if (!this.inFrom && !this.lastWasCache) {
        this.created.push(parsed.id);
        this.createdIn.push(this.stage);
      }
      this.lastWasCache = false;
    }
  }
}
