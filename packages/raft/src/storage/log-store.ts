/**
 * The node loop's persistence interface: what the loop calls with each Ready before it sends the
 * Ready's messages (etcd-io/raft's contract: "entries, hard state and snapshot are saved to stable
 * storage BEFORE messages are sent"), and the in-memory log the core reads through.
 */
import { assert } from "../core/assert.js";
import { MemoryStorage, SnapshotOutOfDateError } from "../core/storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "../core/types.js";
import { isEmptySnapshot } from "../core/types.js";

export interface LogStore {
  /** The core reads through this. */
  readonly storage: MemoryStorage;
  /**
   * Makes hardState/entries/snapshot durable (snapshot file first, then WAL marker + entries +
   * hardState, one fsync), then updates `storage`. With `sync` false (Ready.mustSync false: only
   * the commit index changed) the write is not fsynced; entries and snapshots are always synced.
   */
  persist(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null, sync?: boolean): Promise<void>;
  /**
   * Records an application snapshot at index ≤ applied, compacts the in-memory log keeping
   * `retainEntries` entries before it (so slow followers can still be sent entries), and releases
   * WAL segments.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array, retainEntries: number): Promise<void>;
  close(): Promise<void>;
}

/** Throws SnapshotOutOfDateError unless snapshot is newer than what storage holds. */
export function checkSnapshotIsNewer(storage: MemoryStorage, index: number): void {
  if (index <= storage.snapshot().metadata.index) throw new SnapshotOutOfDateError();
}

/** The in-memory half of persist(): snapshot first, then entries, then hard state. */
export function applyToStorage(storage: MemoryStorage, hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null): void {
  if (snapshot !== null && !isEmptySnapshot(snapshot)) storage.applySnapshot(snapshot);
  storage.append(entries);
  if (hardState !== null) storage.setHardState(hardState);
}

/** The in-memory half of createSnapshot(). */
export function snapshotAndCompact(storage: MemoryStorage, index: number, confState: ConfState, data: Uint8Array, retainEntries: number): Snapshot {
  assert(retainEntries >= 0, `retainEntries is not negative, got ${retainEntries}`);
  const snapshot = storage.createSnapshot(index, confState, data);
  const compactIndex = index - retainEntries;
  // compact() refuses an index at or before the current dummy entry: nothing to drop then.
  if (compactIndex > storage.firstIndex() - 1) storage.compact(compactIndex);
  return snapshot;
}

/** A LogStore that keeps everything in memory: for tests, the simulator and benchmarks. */
export class MemoryLogStore implements LogStore {
  readonly storage = new MemoryStorage();

  // async so that a refusal is a rejected promise, as with DurableLogStore.
  async persist(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null, _sync = true): Promise<void> {
    if (snapshot !== null && !isEmptySnapshot(snapshot)) checkSnapshotIsNewer(this.storage, snapshot.metadata.index);
    applyToStorage(this.storage, hardState, entries, snapshot);
  }

  async createSnapshot(index: number, confState: ConfState, data: Uint8Array, retainEntries: number): Promise<void> {
    snapshotAndCompact(this.storage, index, confState, data, retainEntries);
  }

  async close(): Promise<void> {}
}
