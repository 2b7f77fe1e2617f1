/** What an error says beyond its message. */
export interface ErrorDetails {
  /** The input at fault (a property path such as `port` or `volumes[1]`), when an input is. */
  property?: string;
  /** How to fix it, when the message does not already say. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base of every error this package lets a user see (resources, functions, `TesseractClient`,
 * `buildTesseractImage`): catch this one class, or a subclass to tell cases apart. `property`
 * names the input at fault as data, so nobody parses messages to find it.
 */
export class TesseractPulumiError extends Error {
  /** The input at fault (e.g. `port`, `volumes[1]`, `srcDir`), when an input is. */
  readonly property?: string;
  /** How to fix it, when known. */
  readonly hint?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "TesseractPulumiError";
    this.property = details.property;
    this.hint = details.hint;
  }
}

/**
 * An error caused by the user's input or environment, with a message meant to be read as is:
 * what is wrong, with which value, and how to fix it.
 */
export class UserError extends TesseractPulumiError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details);
    this.name = "UserError";
  }
}

/**
 * What an error of this package tells a user: its message, then its `hint` as the fix unless the
 * message already says it (check failures, the plugin and the shim's failures read it from here).
 */
export function messageWithFix(err: TesseractPulumiError): string {
  if (!err.hint || err.message.includes(err.hint)) return err.message;
  return `${err.message} (fix: ${err.hint})`;
}

/** Error text without the noise of nested causes; keeps a cause's message when it adds something. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
  }
  return String(err);
}
