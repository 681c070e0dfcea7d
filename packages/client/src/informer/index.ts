export * from "./keys.js";
export * from "./freeze.js";
export * from "./store.js";
export * from "./indexers.js";
export * from "./shared-informer.js";
export * from "./factory.js";
