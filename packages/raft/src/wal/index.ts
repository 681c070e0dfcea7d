/** The write-ahead log: segment files of checksummed records, synced before a save resolves. */
export { SEGMENT_SIZE_BYTES_MAX_DEFAULT, Wal, segmentFileName, type SnapshotMarker, type WalOptions, type WalRecovery, type WalStats } from "./wal.js";
export { WalClosedError, WalCorruptError, WalFailedError } from "./errors.js";
export type { TornTail } from "./scan.js";
