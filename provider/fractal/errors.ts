import { UserError } from "../common/errors";

/**
 * A fractal-server activity (collection, reactivation, deactivation, deletion) that ended
 * `failed`: the message carries the end of the server's activity log.
 */
export class FractalActivityError extends UserError {
  constructor(
    message: string,
    /** The activity's id on the server. */
    readonly activityId: number,
  ) {
    super(message);
    this.name = "FractalActivityError";
  }
}
