/**
 * pulumi-tesseract: Pulumi resources for Tesseracts (build and serve) and Fractal task groups,
 * and functions that call served Tesseracts.
 */
export * from "./common/errors";
