export * from "./client";
export * from "./connection";
export { type ContainerEngine, engineFor } from "./engine";
export * from "./errors";
export type * from "./types";
