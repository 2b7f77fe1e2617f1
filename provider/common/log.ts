import * as pulumi from "@pulumi/pulumi";
import { currentResource } from "./resource-context";

/**
 * Progress reporting for long operations (builds, pushes, health waits, rollouts, collections).
 *
 * Inside `pulumi up`, lines go to the engine through `pulumi.log`, attached to the resource the
 * provider call works for (its URN, see resource-context.ts) so the display shows them on that
 * resource's row as they happen:
 * - {@link Progress.info} lines are *ephemeral*: live in the display, not repeated in the
 *   Diagnostics summary at the end (a build log would otherwise print twice);
 * - {@link Progress.summary} and {@link Progress.warn} lines stay and are listed in the summary
 *   (one line per finished step, and what the user should know).
 * A failure's explanation travels in the error (e.g. the end of the build log), which the engine
 * shows in the summary. Outside an engine (direct provider tests, scripts) lines go to stderr.
 * Known secrets are redacted from every line.
 */
export class Progress {
  private readonly secrets: string[];
  /**
   * @param sink where lines go instead of the engine/stderr (e.g. a library caller's `onProgress`).
   */
  constructor(
    private readonly prefix: string,
    secrets: readonly (string | undefined)[] = [],
    private readonly sink?: (line: string) => void,
  ) {
    this.secrets = secrets.filter((s): s is string => typeof s === "string" && s.length >= 4);
  }

  /** Replaces every known secret in `text` with `[secret]`. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("[secret]");
    return out;
  }

  /** A step of long work (a build log line, a wait): shown live, not kept in the summary. */
  info(message: string): void {
    this.write("info", message, true);
  }

  /** The outcome of a long step (e.g. "built … in 40 s"): shown live and kept in the summary. */
  summary(message: string): void {
    this.write("info", message, false);
  }

  /** Something the user should act on or know: kept in the summary. */
  warn(message: string): void {
    this.write("warn", message, false);
  }

  private write(level: "info" | "warn", message: string, ephemeral: boolean): void {
    const line = this.redact(`${this.prefix}: ${message}`);
    if (this.sink) this.sink(line);
    else emit(level, line, ephemeral);
  }
}

/** The minimal `pulumi.Resource` `pulumi.log` needs to attach a line to a resource: its URN. */
function resourceFor(urn: string | undefined): pulumi.Resource | undefined {
  return urn ? ({ urn: { promise: () => Promise.resolve(urn) } } as unknown as pulumi.Resource) : undefined;
}

function emit(level: "info" | "warn", line: string, ephemeral: boolean): void {
  if (connectToEngine()) {
    const resource = resourceFor(currentResource()?.urn);
    void pulumi.log[level](line, resource, undefined, ephemeral).catch(() => process.stderr.write(`${line}\n`));
  } else if (process.env.PULUMI_TESSERACT_QUIET !== "1") {
    process.stderr.write(`${line}\n`);
  }
}

type SettingsStore = { getStore(): { settings: { options: { engineAddr?: string } } } };

/**
 * True when log lines can reach the engine. The dynamic-provider process gets the engine address
 * as its first argument rather than in PULUMI_NODEJS_ENGINE, so `pulumi.log` would fall back to
 * stdout there: the SDK's settings are pointed at that address once. The provider plugin sets it
 * when it starts (plugin/server.ts); `hasEngine()` stays false until the first log connects, so
 * the address itself is what counts.
 */
export function connectToEngine(): boolean {
  if (pulumi.runtime.hasEngine()) return true;
  try {
    const state = require("@pulumi/pulumi/runtime/state") as SettingsStore;
    const options = state.getStore().settings.options;
    if (options.engineAddr) return true;
    const [, script, engineAddr] = process.argv;
    if (!script?.includes("dynamic-provider") || !engineAddr || !/^[\w.-]+:\d+$/.test(engineAddr)) return false;
    options.engineAddr = engineAddr;
    return true;
  } catch {
    return false;
  }
}
