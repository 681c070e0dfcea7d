/** Public entry point of @coxswain/raft. See README.md for the vocabulary and the Ready contract. */
export * from "./core/types.js";
export * from "./core/assert.js";
export * from "./core/rand.js";
export * from "./core/storage.js";
export * from "./core/log.js";
export * from "./core/progress.js";
export * from "./core/raft.js";
export * from "./core/rawnode.js";
export * from "./logging.js";
export * from "./wal/index.js";
export * from "./snap/index.js";
export * from "./storage/index.js";
export * from "./transport/index.js";
export * from "./node/node.js";
