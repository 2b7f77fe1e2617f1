export * from "./client";
export * from "./connection";
export * from "./errors";
export type * from "./types";
