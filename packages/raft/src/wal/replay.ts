/**
 * Rebuilds the log from the WAL's records, in the order they were written, with Raft's rules:
 *
 * - An entry at index i discards whatever the log held at ≥ i (a leader overwrote a conflicting
 *   suffix, Raft §5.3) and becomes the last entry.
 * - A snapshot marker (m, t) whose entry m with term t is in the log keeps the log as it is (a
 *   local snapshot: the entries after m stay). Otherwise the snapshot came from the leader and
 *   replaces the log (Raft §7: "if the existing log entry has the same index and term as the
 *   snapshot's last included entry, retain log entries following it; otherwise discard the
 *   entire log").
 * - The last hard state wins.
 *
 * Entries are kept from the start of the oldest segment on, not only after the newest marker, so
 * that recovery can start from an older snapshot when the newest snapshot file is damaged
 * (entriesAfter).
 */
import type { Entry, HardState } from "../core/types.js";
import { emptyHardState } from "../core/types.js";
import type { SnapshotMarker } from "./record.js";

/** A record that cannot follow what came before it (reported by the caller with file and offset). */
export class ReplayError extends Error {
  override readonly name = "ReplayError";
}

export class LogReplay {
  /** A contiguous run of entries. */
  private log: Entry[] = [];
  /**
   * The (index, term) of the entry just before log[0], when known: (0, 0) for a WAL that still
   * has its first segment, the snapshot after a leader's snapshot replaced the log, or null when
   * older segments were released and the run starts wherever the oldest kept segment starts.
   */
  private base: SnapshotMarker | null;
  private readonly markersSeen: SnapshotMarker[] = [];
  hardState: HardState = emptyHardState();

  constructor(startsAtTheBeginning: boolean) {
    this.base = startsAtTheBeginning ? { index: 0, term: 0 } : null;
  }

  /** Index of the last entry, or of the base when the run is empty (0 when nothing is known). */
  lastIndex(): number {
    const last = this.log.at(-1);
    if (last !== undefined) return last.index;
    return this.base?.index ?? 0;
  }

  /** Every distinct marker seen, in the order first seen. */
  markers(): readonly SnapshotMarker[] {
    return this.markersSeen;
  }

  entry(e: Entry): void {
    const first = this.log[0];
    if (first !== undefined && e.index >= first.index) {
      const last = first.index + this.log.length - 1;
      if (e.index > last + 1) throw new ReplayError(`entry ${e.index} leaves a gap after ${last}`);
      this.log.length = e.index - first.index;
      this.log.push(e);
      return;
    }
    // The run is empty, or e overwrites below where the run starts.
    if (this.base !== null) {
      if (e.index <= this.base.index) return; // covered by the snapshot the log follows
      if (e.index > this.base.index + 1) throw new ReplayError(`entry ${e.index} leaves a gap after ${this.base.index}`);
      this.log = [e];
      return;
    }
    this.log = [e];
  }

  marker(m: SnapshotMarker): void {
    if (!this.markersSeen.some((seen) => seen.index === m.index && seen.term === m.term)) this.markersSeen.push(m);
    if (this.logHas(m)) return;
    if (this.base !== null && this.base.index === m.index && this.base.term === m.term) return;
    if (this.base !== null && m.index < this.base.index) return; // an older marker repeated
    const first = this.log[0];
    if (this.base === null && (first === undefined || m.index < first.index)) {
      // A marker older than everything still held (segment heads repeat the newest marker): the
      // entries that would confirm or refute it were released.
      return;
    }
    this.log = [];
    this.base = { index: m.index, term: m.term };
  }

  /**
   * The entries after the snapshot at marker (null: no snapshot, the log from index 1), or null
   * when the WAL cannot continue from there (the entries right after it are not all here).
   */
  entriesAfter(marker: SnapshotMarker | null): Entry[] | null {
    const m = marker ?? { index: 0, term: 0 };
    if (this.base !== null && this.base.index === m.index && this.base.term === m.term) return this.log.slice();
    if (this.logHas(m)) return this.log.slice(m.index - this.log[0]!.index + 1);
    if (this.base === null && marker !== null && this.markersSeen.some((s) => s.index === m.index && s.term === m.term)) {
      // The marker's own entry was released with an older segment; the run must start right after
      // it. Its term cannot be compared, but the log's terms never go down.
      const first = this.log[0];
      if (first === undefined) return [];
      if (first.index === m.index + 1 && first.term >= m.term) return this.log.slice();
    }
    return null;
  }

  private logHas(m: SnapshotMarker): boolean {
    const first = this.log[0];
    if (first === undefined || m.index < first.index || m.index >= first.index + this.log.length) return false;
    return this.log[m.index - first.index]!.term === m.term;
  }
}
