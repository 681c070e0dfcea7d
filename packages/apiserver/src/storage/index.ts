/** The API server's storage layer: see README.md. */
export * from "./etcd-client.js";
export * from "./keys.js";
export * from "./objects.js";
export * from "./store.js";
export * from "./watch-cache.js";
export * from "./cacher.js";
