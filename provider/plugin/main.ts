/**
 * Entry point of the `pulumi-resource-tesseract` plugin (bin/pulumi-resource-tesseract runs it):
 * serves the provider on a local port and prints the port for the engine.
 */
import { TesseractProvider } from "./provider";
import { serve } from "./server";

/** Starts the plugin with the engine's arguments. */
export function run(args: string[]): Promise<void> {
  const { version } = require("../../package.json") as { version: string };
  return serve(new TesseractProvider(version), args);
}
