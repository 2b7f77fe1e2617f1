export * from "./client";
export * from "./connection";
export { type ContainerEngine, type EngineFactory, engineFor, useEngineFactory } from "./engine";
export * from "./errors";
export type * from "./types";
