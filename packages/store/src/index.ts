/** Public entry point of @coxswain/store. See README.md for the vocabulary. */
export * from "./errors.js";
export * from "./bytes.js";
export { OrderedMap } from "./mvcc/ordered-map.js";
export {
  MvccStore,
  WriteTxn,
  KeyHistory,
  KeyVersion,
  SnapshotCorruptError,
  type CommitObserver,
  type LeaseAttachments,
  type RangeOptions,
  type RangeResult,
  type MvccSnapshotState,
} from "./mvcc/store.js";
export { toKeyValue, toEvent, type KeyValue, type Event } from "./mvcc/kv.js";
export * from "./lease/lessor.js";
export * from "./watch/hub.js";
export * from "./apply/validate.js";
export * from "./apply/alarms.js";
export * from "./apply/kv.js";
export * from "./apply/snapshot.js";
export * from "./apply/state-machine.js";
export * from "./cluster/members.js";
export * from "./server/context.js";
export * from "./server/definitions.js";
export * from "./server/kv-service.js";
export * from "./server/lease-service.js";
export * from "./server/watch-service.js";
export * from "./server/admin-services.js";
export * from "./server/server.js";
export * from "./server/immediate-log.js";
export * from "./member/config.js";
export * from "./member/raft-log.js";
export * from "./member/member.js";
export * from "./member/metrics.js";
export * from "./member/run.js";
