import * as pulumi from "@pulumi/pulumi";

/**
 * Progress reporting for long operations (builds, health waits, collections): lines go to the
 * engine through `pulumi.log`, so `pulumi up` shows them as they happen, and to stderr when no
 * engine is attached (direct provider tests, scripts). Known secrets are redacted from every line.
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

  info(message: string): void {
    const line = this.redact(`${this.prefix}: ${message}`);
    if (this.sink) this.sink(line);
    else emit("info", line);
  }

  warn(message: string): void {
    const line = this.redact(`${this.prefix}: ${message}`);
    if (this.sink) this.sink(line);
    else emit("warn", line);
  }
}

function emit(level: "info" | "warn", line: string): void {
  if (connectToEngine()) {
    void pulumi.log[level](line).catch(() => process.stderr.write(`${line}\n`));
  } else if (process.env.PULUMI_TESSERACT_QUIET !== "1") {
    process.stderr.write(`${line}\n`);
  }
}

/**
 * The dynamic-provider process gets the engine address as its first argument rather than in
 * PULUMI_NODEJS_ENGINE, so `pulumi.log` would fall back to stdout there. Point the SDK's settings
 * at that address once so log lines reach the engine as real diagnostics.
 */
export function connectToEngine(): boolean {
  if (pulumi.runtime.hasEngine()) return true;
  const [, script, engineAddr] = process.argv;
  if (!script?.includes("dynamic-provider") || !engineAddr || !/^[\w.-]+:\d+$/.test(engineAddr)) return false;
  try {
    const state = require("@pulumi/pulumi/runtime/state") as {
      getStore(): { settings: { options: { engineAddr?: string } } };
    };
    state.getStore().settings.options.engineAddr = engineAddr;
    return pulumi.runtime.hasEngine() || Boolean(state.getStore().settings.options.engineAddr);
  } catch {
    return false;
  }
}
