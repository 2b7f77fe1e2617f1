export * from "./api-check";
export * from "./load";
export * from "./names";
export * from "./schema";
