/**
 * The lessor (etcd's server/lease): leases, their TTLs and the keys attached to them.
 *
 * Two kinds of state live here, and the split is what keeps members identical:
 * - Replicated state, changed only by applying log entries in order: which leases exist, their
 *   granted TTL, checkpointed remaining TTL, attached keys, and the id generator. Every member
 *   holds the same.
 * - Leader-local state: each lease's expiry deadline, from an injected clock. Only the primary
 *   (the member that is Raft leader) tracks deadlines. It finds expired leases and *proposes* their
 *   revocation (a LeaseExpire log entry); it never deletes anything on its own. A follower's
 *   leases never expire. When a member becomes leader, promote() gives every live lease a fresh
 *   TTL plus the election time (etcd's Promote), so a leader change never expires leases whose
 *   holders kept them alive through the old leader.
 * Keep-alives (renew) are leader-local too: they move the deadline and touch no replicated state.
 */
import { assert } from "@coxswain/raft";
import type { ByteString } from "../bytes.js";
import { LeaseExistsError, LeaseNotFoundError, LeaseNotPrimaryError, LeaseTtlTooLargeError } from "../errors.js";
import type { LeaseAttachments } from "../mvcc/store.js";

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds (about 285 years). */
export const LEASE_TTL_SECONDS_MAX = 9_000_000_000;
/** How long an expired lease waits before it is reported again if its revocation did not land (etcd: 3 s). */
export const EXPIRED_LEASE_RETRY_MS = 3_000;

export interface LessorOptions {
  /**
   * Shortest TTL granted; shorter requests get this. etcd uses 1.5 election timeouts rounded up
   * to whole seconds, so that a lease survives a leader election. Must be the same on every member.
   */
  minTtlSeconds: number;
  /** Wall clock in milliseconds, for the leader's deadlines only. */
  now: () => number;
  expiredLeaseRetryMs?: number;
}

export class Lease {
  readonly keys = new Set<ByteString>();
  /** Leader-local deadline (ms); Infinity while this member is not primary. */
  expiryMs = Infinity;
  /** Leader-local: when the expiry queue next looks at this lease. */
  nextCheckMs = Infinity;

  constructor(
    readonly id: number,
    /** Granted TTL in seconds, after the minimum was applied. */
    readonly ttlSeconds: number,
    /** Seconds left at the last checkpoint; 0 = none. Promotion uses it instead of the full TTL. */
    public remainingTtlSeconds: number,
  ) {}
}

export interface LeaseSnapshotRecord {
  id: number;
  ttlSeconds: number;
  remainingTtlSeconds: number;
}

export interface TimeToLive {
  id: number;
  /** Seconds left (whole seconds, truncated). */
  ttlSeconds: number;
  grantedTtlSeconds: number;
  /** Attached keys in key order. */
  keys: ByteString[];
}

export interface RenewResult {
  ttlSeconds: number;
  /**
   * The lease had a checkpointed remaining TTL; the leader should propose a checkpoint with 0 so
   * that a later promotion uses the full TTL again (etcd does the same).
   */
  clearCheckpoint: boolean;
}

interface ExpiryCheck {
  atMs: number;
  id: number;
}

export class Lessor implements LeaseAttachments {
  private readonly leases = new Map<number, Lease>();
  private readonly minTtlSeconds: number;
  private readonly now: () => number;
  private readonly expiredLeaseRetryMs: number;
  private primary = false;
  /** Replicated: advances once per generated lease id. */
  private idSequence = 0;
  /** Min-heap of pending expiry checks; stale entries are skipped when popped. */
  private checks: ExpiryCheck[] = [];

  constructor(options: LessorOptions) {
    assert(Number.isInteger(options.minTtlSeconds) && options.minTtlSeconds >= 1, "minimum lease TTL is a positive whole number of seconds");
    this.minTtlSeconds = options.minTtlSeconds;
    this.now = options.now;
    this.expiredLeaseRetryMs = options.expiredLeaseRetryMs ?? EXPIRED_LEASE_RETRY_MS;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.leases.size;
  }

  get idGeneratorSequence(): number {
    return this.idSequence;
  }

  get(id: number): Lease | undefined {
    return this.leases.get(id);
  }

  /** Lease ids in increasing order. */
  ids(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  // ---- replicated state: called only when applying log entries ----

  /**
   * A fresh id for a grant that asked for none: deterministic (every member generates the same
   * one), never 0, never a live lease's, and below 2^53 so it survives the JS number policy.
   */
  generateId(): number {
    for (;;) {
      this.idSequence++;
      const id = mixTo52Bits(this.idSequence);
      if (id !== 0 && !this.leases.has(id)) return id;
    }
  }

  grant(id: number, ttlSeconds: number): Lease {
    assert(id !== 0, "lease id chosen before granting");
    if (ttlSeconds > LEASE_TTL_SECONDS_MAX) throw new LeaseTtlTooLargeError();
    if (this.leases.has(id)) throw new LeaseExistsError(id);
    const lease = new Lease(id, Math.max(ttlSeconds, this.minTtlSeconds), 0);
    this.leases.set(id, lease);
    if (this.primary) this.refresh(lease, 0);
    return lease;
  }

  /** Attached keys in key order: what a revoke deletes (etcd sorts them too). */
  keysOf(id: number): ByteString[] {
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseNotFoundError(id);
    return [...lease.keys].sort();
  }

  /** Forgets a lease whose keys the caller has deleted. */
  remove(id: number): void {
    const lease = this.leases.get(id);
    assert(lease !== undefined, "removing a lease that exists");
    assert(lease.keys.size === 0, "a lease's keys are deleted before the lease");
    this.leases.delete(id);
  }

  checkpoint(id: number, remainingTtlSeconds: number): void {
    const lease = this.leases.get(id);
    if (lease) lease.remainingTtlSeconds = Math.max(0, remainingTtlSeconds);
  }

  attach(leaseId: number, key: ByteString): void {
    // A key naming a lease that no longer exists is tolerated, as in etcd (the put checked it).
    this.leases.get(leaseId)?.keys.add(key);
  }

  detach(leaseId: number, key: ByteString): void {
    this.leases.get(leaseId)?.keys.delete(key);
  }

  snapshotRecords(): LeaseSnapshotRecord[] {
    return this.ids().map((id) => {
      const lease = this.leases.get(id)!;
      return { id, ttlSeconds: lease.ttlSeconds, remainingTtlSeconds: lease.remainingTtlSeconds };
    });
  }

  /** Replaces every lease (keys are re-attached by the MVCC store's restore). */
  restore(records: Iterable<LeaseSnapshotRecord>, idSequence: number): void {
    this.leases.clear();
    this.checks = [];
    this.idSequence = idSequence;
    for (const r of records) {
      assert(!this.leases.has(r.id), "snapshot lease ids are unique");
      const lease = new Lease(r.id, r.ttlSeconds, r.remainingTtlSeconds);
      this.leases.set(r.id, lease);
      if (this.primary) this.refresh(lease, 0);
    }
  }

  // ---- leader-local ----

  /** This member became leader: every lease gets a fresh deadline, extended by `extendMs`. */
  promote(extendMs: number): void {
    this.primary = true;
    this.checks = [];
    for (const lease of this.leases.values()) this.refresh(lease, extendMs);
  }

  /** This member is no longer leader: deadlines are the new leader's business. */
  demote(): void {
    this.primary = false;
    this.checks = [];
    for (const lease of this.leases.values()) {
      lease.expiryMs = Infinity;
      lease.nextCheckMs = Infinity;
    }
  }

  /** A keep-alive: the lease's deadline moves to now + TTL. */
  renew(id: number): RenewResult {
    if (!this.primary) throw new LeaseNotPrimaryError();
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseNotFoundError(id);
    // Expired and waiting for its revocation to apply: it is as good as gone (etcd makes the
    // keep-alive wait for the revoke and then answers "not found").
    if (lease.expiryMs <= this.now()) throw new LeaseNotFoundError(id);
    const clearCheckpoint = lease.remainingTtlSeconds > 0;
    this.refreshWith(lease, lease.ttlSeconds, 0);
    return { ttlSeconds: lease.ttlSeconds, clearCheckpoint };
  }

  /**
   * Leases past their deadline, at most `maxCount` (the leader proposes their expiry; etcd caps
   * revocations per second the same way so a mass expiry cannot flood the log). Each one reported
   * is reported again after the retry interval if it still exists then.
   */
  findExpired(maxCount: number): number[] {
    if (!this.primary) return [];
    const now = this.now();
    const expired: number[] = [];
    while (expired.length < maxCount) {
      const top = this.checks[0];
      if (!top || top.atMs > now) break;
      this.popCheck();
      const lease = this.leases.get(top.id);
      if (!lease || lease.nextCheckMs !== top.atMs) continue; // stale entry
      if (lease.expiryMs > now) {
        this.scheduleCheck(lease, lease.expiryMs);
        continue;
      }
      expired.push(lease.id);
      this.scheduleCheck(lease, now + this.expiredLeaseRetryMs);
    }
    return expired;
  }

  timeToLive(id: number): TimeToLive {
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseNotFoundError(id);
    let ttlSeconds: number;
    if (lease.expiryMs === Infinity) {
      ttlSeconds = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
    } else {
      ttlSeconds = Math.max(0, Math.trunc((lease.expiryMs - this.now()) / 1000));
    }
    return { id, ttlSeconds, grantedTtlSeconds: lease.ttlSeconds, keys: [...lease.keys].sort() };
  }

  private refresh(lease: Lease, extendMs: number): void {
    const seconds = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
    this.refreshWith(lease, seconds, extendMs);
  }

  private refreshWith(lease: Lease, seconds: number, extendMs: number): void {
    lease.expiryMs = this.now() + extendMs + seconds * 1000;
    this.scheduleCheck(lease, lease.expiryMs);
  }

  private scheduleCheck(lease: Lease, atMs: number): void {
    lease.nextCheckMs = atMs;
    // Every refresh leaves a stale entry behind; rebuild before they outnumber the live ones.
    if (this.checks.length > 2 * this.leases.size + 64) this.rebuildChecks();
    this.pushCheck({ atMs, id: lease.id });
  }

  private rebuildChecks(): void {
    this.checks = [];
    for (const lease of this.leases.values()) {
      if (lease.nextCheckMs !== Infinity) this.pushCheck({ atMs: lease.nextCheckMs, id: lease.id });
    }
  }

  private pushCheck(check: ExpiryCheck): void {
    const heap = this.checks;
    heap.push(check);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (heap[parent]!.atMs <= check.atMs) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = check;
  }

  private popCheck(): void {
    const heap = this.checks;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.atMs < heap[left]!.atMs ? right : left;
      if (heap[child]!.atMs >= last.atMs) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

const MASK_52 = (1n << 52n) - 1n;

/**
 * A bijection on [0, 2^52) (multiply by odd constants, xor-shift), so consecutive sequence numbers
 * give distinct, unpatterned ids that look like etcd's.
 */
function mixTo52Bits(sequence: number): number {
  let x = BigInt(sequence) & MASK_52;
  x = (x * 0x9e3779b97f4a7c1n) & MASK_52;
  x ^= x >> 26n;
  x = (x * 0xbf58476d1ce4e5bn) & MASK_52;
  x ^= x >> 23n;
  return Number(x);
}
