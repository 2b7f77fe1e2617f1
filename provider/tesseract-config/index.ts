export * from "./api-check";
export * from "./dockerfile-fields";
export * from "./load";
export * from "./names";
export * from "./schema";
