/** Snapshot files, written atomically and checksummed. */
export { Snapshotter, snapshotFileName, type BrokenSnapshotReport, type SnapshotFileName, type SnapshotterOptions } from "./snapshotter.js";
