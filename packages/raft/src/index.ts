/** Public entry point of @coxswain/raft. */
export * from "./core/types.js";
export * from "./core/assert.js";
export * from "./core/rand.js";
export * from "./core/storage.js";
export * from "./core/log.js";
export * from "./core/progress.js";
export * from "./core/raft.js";
export * from "./core/rawnode.js";
