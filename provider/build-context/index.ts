export * from "./context";
export * from "./dockerfile";
export * from "./dockerignore";
export * from "./requirements";
export * from "./runtime";
