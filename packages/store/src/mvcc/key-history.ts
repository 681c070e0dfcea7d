/**
 * The versions of one key. A revision is {main, sub}: main counts the store's write transactions,
 * sub numbers the changes inside one (etcd's revision pair). A key changes at most once per main
 * revision (the txn validation guarantees it), so a key's versions are ordered by main alone.
 */
import { assert } from "@coxswain/raft";
import type { ByteString } from "../bytes.js";

/** One immutable change to one key: the value a put wrote, or a deletion's tombstone. */
export class KeyVersion {
  constructor(
    readonly key: ByteString,
    /** Revision of the change. */
    readonly main: number,
    /** Position of the change within its revision. */
    readonly sub: number,
    /** Revision of the put that created the key; 0 for a tombstone. */
    readonly createRevision: number,
    /** Puts since creation, from 1; 0 marks a tombstone. */
    readonly version: number,
    readonly value: ByteString,
    readonly lease: number,
  ) {}

  get isTombstone(): boolean {
    return this.version === 0;
  }
}

/** Bytes a version costs beyond its key and value, for the quota's size estimate. */
export const VERSION_OVERHEAD_BYTES = 64;

export function versionSizeBytes(v: KeyVersion): number {
  return v.key.length + v.value.length + VERSION_OVERHEAD_BYTES;
}

export class KeyHistory {
  /** Oldest first; never empty while the history is in the index. */
  versions: KeyVersion[];

  constructor(
    readonly key: ByteString,
    first: KeyVersion,
  ) {
    this.versions = [first];
  }

  get latest(): KeyVersion {
    return this.versions[this.versions.length - 1]!;
  }

  /** The newest version with main <= revision, or undefined when the key has none that old. */
  at(revision: number): KeyVersion | undefined {
    const versions = this.versions;
    const last = versions[versions.length - 1]!;
    if (last.main <= revision) return last; // the common case: reading the newest state
    let lo = 0;
    let hi = versions.length - 1; // versions[hi].main > revision
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (versions[mid]!.main <= revision) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : versions[lo - 1];
  }

  /** The live (non-tombstone) version at the revision, if the key existed then. */
  liveAt(revision: number): KeyVersion | undefined {
    const v = this.at(revision);
    return v === undefined || v.version === 0 ? undefined : v;
  }

  append(v: KeyVersion): void {
    assert(v.main > this.latest.main, "a key changes at most once per revision, in revision order");
    this.versions.push(v);
  }

  /**
   * Drops what no read at or after `revision` can see: every version older than the newest one at
   * or below it, and that one too if it is a tombstone older than `revision` (a tombstone at
   * exactly `revision` is kept so that the compaction revision's own changes stay replayable).
   * Returns the dropped versions' size in bytes.
   */
  compact(revision: number): number {
    const versions = this.versions;
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (versions[mid]!.main <= revision) lo = mid + 1;
      else hi = mid;
    }
    const newestAtOrBelow = lo - 1;
    if (newestAtOrBelow < 0) return 0;
    const kept = versions[newestAtOrBelow]!;
    const dropCount = kept.version === 0 && kept.main < revision ? newestAtOrBelow + 1 : newestAtOrBelow;
    if (dropCount === 0) return 0;
    let freedBytes = 0;
    for (let i = 0; i < dropCount; i++) freedBytes += versionSizeBytes(versions[i]!);
    this.versions = versions.slice(dropCount);
    return freedBytes;
  }
}
