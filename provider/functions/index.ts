/**
 * Pulumi-style functions that call a served Tesseract from a program: each has a Promise form
 * (`apply`) and an `…Output` form taking `pulumi.Input`s (`applyOutput`). Results are plain JSON.
 */
export * from "./abstractEval";
export * from "./apply";
export { closeTesseractFunctionClients } from "./common";
export * from "./gradients";
export * from "./openApiSchema";
