/**
 * An error caused by the user's input or environment, with a message meant to be read as is:
 * what is wrong, with which value, and how to fix it.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** Error text without the noise of nested causes; keeps a cause's message when it adds something. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
  }
  return String(err);
}
