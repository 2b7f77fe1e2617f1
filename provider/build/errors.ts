import { UserError } from "../common/errors";

/**
 * A Tesseract image build that failed (a step, the timeout, or the engine): the message names
 * the image, the failing step and the end of the log; `hint` says what usually fixes it.
 */
export class TesseractBuildError extends UserError {
  constructor(message: string, details: { property?: string; hint?: string; cause?: unknown } = {}) {
    super(message, details);
    this.name = "TesseractBuildError";
  }
}
