/** The node loop's persistence: LogStore, in memory or durable (WAL + snapshot files). */
export { MemoryLogStore, type LogStore } from "./log-store.js";
export { DurableLogStore, LogStoreRecoveryError, SNAPSHOTS_KEPT_MAX_DEFAULT, type DurableLogStoreOptions } from "./durable-log-store.js";
