/**
 * The store's state machine: what every member runs on each committed log entry, in log order
 * (etcd's applierV3). Given the same log, every member ends in the same state and computes the
 * same responses: nothing here reads a clock or a random source (the only clock belongs to the
 * lessor's leader-local deadlines, which never change replicated state). An entry that fails
 * (lease not found, compacted revision, ...) leaves the state untouched and yields the typed
 * error, identically on every member. Anything else thrown is a bug and stops the member.
 *
 * Reads that do not go through the log (serializable ones, and linearizable ones after a
 * ReadIndex round) call range()/readTxn() directly.
 */
import { assert } from "@coxswain/raft";
import { etcdserverpb, type etcdserverpbTypes, type storepbTypes } from "@coxswain/proto";
import { fromByteString } from "../bytes.js";
import { MemberRegistry } from "../cluster/members.js";
import { crc32 } from "node:zlib";
import { CompactedError, EtcdError, FutureRevisionError, InvalidRequestError, LeaseNotFoundError, NoSpaceError } from "../errors.js";
import { Lessor } from "../lease/lessor.js";
import { MvccStore } from "../mvcc/store.js";
import { WatchHub, type WatchHubLimits } from "../watch/hub.js";
import { AlarmStore, type AlarmMember } from "./alarms.js";
import {
  checkPut,
  checkTxnPlan,
  executeDeleteRange,
  executePut,
  executeRange,
  executeTxnPlan,
  planTxn,
  planWrites,
  type DeleteRangeResponse,
  type Header,
  type PutResponse,
  type RangeResponse,
  type TxnResponse,
} from "./kv.js";
import { decodeSnapshot, encodeSnapshot } from "./snapshot.js";
import { txnHasPuts, validateLeaseGrantRequest, validateDeleteRangeRequest, validatePutRequest, validateRangeRequest, validateTxnRequest } from "./validate.js";

const AlarmAction = etcdserverpb.AlarmRequest.AlarmAction;
const AlarmType = etcdserverpb.AlarmType;

/** etcd's minimum lease TTL with its default timings (1.5 × 1 s election timeout, rounded up). */
export const DEFAULT_MIN_LEASE_TTL_SECONDS = 2;

export interface StoreStateMachineOptions {
  /** Shortest lease TTL granted. Must be the same on every member (it changes replicated state). */
  minLeaseTtlSeconds?: number;
  /** Wall clock (ms) for the leader's lease deadlines only. */
  now?: () => number;
  watch?: Partial<WatchHubLimits>;
}

export interface LeaseGrantResponse {
  header: Header;
  ID: number;
  TTL: number;
  error: string;
}

export interface AlarmResponse {
  header: Header;
  alarms: AlarmMember[];
}

export interface LeaseExpireResponse {
  header: Header;
  /** The leases that existed and were revoked. */
  revoked: number[];
}

export interface MemberUpdateResponse {
  header: Header;
  members: etcdserverpbTypes.IMember[];
}

/** The response to each kind of log entry. */
export interface ApplyResponses {
  range: RangeResponse;
  put: PutResponse;
  deleteRange: DeleteRangeResponse;
  txn: TxnResponse;
  compaction: { header: Header };
  leaseGrant: LeaseGrantResponse;
  leaseRevoke: { header: Header };
  leaseCheckpoint: { header: Header };
  leaseExpire: LeaseExpireResponse;
  alarm: AlarmResponse;
  memberAttributes: { header: Header };
  memberUpdate: MemberUpdateResponse;
}

export type RequestKind = keyof ApplyResponses;

/** The outcome of applying one log entry: its kind's response, or the typed error. */
export type ApplyResult = { [K in RequestKind]: { kind: K; response: ApplyResponses[K] } }[RequestKind] | { kind: "error"; error: EtcdError };

const REQUEST_KINDS: readonly RequestKind[] = [
  "range",
  "put",
  "deleteRange",
  "txn",
  "compaction",
  "leaseGrant",
  "leaseRevoke",
  "leaseCheckpoint",
  "leaseExpire",
  "alarm",
  "memberAttributes",
  "memberUpdate",
];

/** Which operation an envelope carries (decoded messages name it; plain objects are searched). */
export function requestKindOf(request: storepbTypes.IInternalRequest): RequestKind | null {
  if (request.request) return request.request;
  for (const kind of REQUEST_KINDS) if (request[kind]) return kind;
  return null;
}

export class StoreStateMachine {
  readonly mvcc = new MvccStore();
  readonly lessor: Lessor;
  readonly watchHub: WatchHub;
  readonly alarms = new AlarmStore();
  readonly members = new MemberRegistry();

  constructor(options: StoreStateMachineOptions = {}) {
    this.lessor = new Lessor({
      minTtlSeconds: options.minLeaseTtlSeconds ?? DEFAULT_MIN_LEASE_TTL_SECONDS,
      now: options.now ?? Date.now,
    });
    this.mvcc.leaseAttachments = this.lessor;
    this.watchHub = new WatchHub(this.mvcc, options.watch);
  }

  get currentRevision(): number {
    return this.mvcc.currentRevision;
  }

  /** Applies one committed log entry. */
  apply(request: storepbTypes.IInternalRequest): ApplyResult {
    try {
      return this.applyKind(request);
    } catch (error) {
      if (error instanceof EtcdError) return { kind: "error", error };
      throw error;
    }
  }

  /** A read outside the log: serializable, or linearizable once a ReadIndex round confirmed it. */
  range(r: etcdserverpbTypes.IRangeRequest): RangeResponse {
    validateRangeRequest(r);
    return executeRange(this.mvcc, r);
  }

  /** A txn without puts or deletes, served outside the log like range(). */
  readTxn(r: etcdserverpbTypes.ITxnRequest): TxnResponse {
    validateTxnRequest(r, Number.POSITIVE_INFINITY);
    const plan = planTxn(this.mvcc, r);
    assert(!planWrites(plan), "read-only txn has no writes");
    checkTxnPlan(this.mvcc, this.lessor, plan);
    const txn = this.mvcc.write();
    const response = executeTxnPlan(txn, plan, true);
    txn.end();
    response.header = { revision: this.mvcc.currentRevision };
    return response;
  }

  leaseTimeToLive(r: etcdserverpbTypes.ILeaseTimeToLiveRequest): etcdserverpbTypes.ILeaseTimeToLiveResponse {
    const id = r.ID ?? 0;
    const header = { revision: this.mvcc.currentRevision };
    try {
      const ttl = this.lessor.timeToLive(id);
      return {
        header,
        ID: id,
        TTL: ttl.ttlSeconds,
        grantedTTL: ttl.grantedTtlSeconds,
        keys: r.keys ? ttl.keys.map(fromByteString) : [],
      };
    } catch (error) {
      // etcd answers TTL -1 rather than an error for a lease that does not exist (any more).
      if (error instanceof LeaseNotFoundError) return { header, ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      throw error;
    }
  }

  leaseLeases(): etcdserverpbTypes.ILeaseLeasesResponse {
    return { header: { revision: this.mvcc.currentRevision }, leases: this.lessor.ids().map((ID) => ({ ID })) };
  }

  /**
   * A CRC-32 over every retained version at or below the revision (0: current): equal on members
   * that applied the same log, for consistency checks (etcd's HashKV; the values differ from etcd's).
   */
  hashKV(revision: number): { hash: number; compactRevision: number; hashRevision: number } {
    const mvcc = this.mvcc;
    const at = revision > 0 ? revision : mvcc.currentRevision;
    if (at > mvcc.currentRevision) throw new FutureRevisionError(mvcc.currentRevision);
    if (at < mvcc.compactRevision) throw new CompactedError(mvcc.compactRevision);
    let hash = 0;
    mvcc.forEachHistory((history) => {
      for (const v of history.versions) {
        if (v.main > at) break;
        hash = crc32(`${v.main}.${v.sub}.${v.createRevision}.${v.version}.${v.lease}:`, hash);
        hash = crc32(fromByteString(v.key), hash);
        hash = crc32(fromByteString(v.value), hash);
      }
    });
    return { hash, compactRevision: mvcc.compactRevision, hashRevision: at };
  }

  /** The replicated state as bytes (see snapshot.ts). */
  snapshot(): Uint8Array {
    const mvcc = this.mvcc;
    return encodeSnapshot({
      currentRevision: mvcc.currentRevision,
      compactRevision: mvcc.compactRevision,
      sizeBytes: mvcc.sizeBytes,
      leaseIdSequence: this.lessor.idGeneratorSequence,
      alarms: this.alarms.list(),
      members: this.members.list(),
      removedMemberIds: this.members.removedIds(),
      leases: this.lessor.snapshotRecords(),
      keyCount: mvcc.keyCount,
      forEachHistory: (visit) => mvcc.forEachHistory((h) => visit(h.key, h.versions)),
    });
  }

  /** Replaces the replicated state with a snapshot's. Refuses a damaged one before touching anything. */
  restore(data: Uint8Array): void {
    const contents = decodeSnapshot(data);
    this.mvcc.validateSnapshot(contents);
    this.lessor.restore(contents.leases, contents.leaseIdSequence);
    this.mvcc.restore(contents);
    this.alarms.restore(contents.alarms);
    this.members.restore(contents.members, contents.removedMemberIds);
  }

  private header(): Header {
    return { revision: this.mvcc.currentRevision };
  }

  private applyKind(request: storepbTypes.IInternalRequest): ApplyResult {
    const kind = requestKindOf(request);
    switch (kind) {
      case "range": {
        const r = request.range!;
        validateRangeRequest(r);
        return { kind, response: executeRange(this.mvcc, r) };
      }
      case "put":
        return { kind, response: this.applyPut(request.put!) };
      case "deleteRange":
        return { kind, response: this.applyDeleteRange(request.deleteRange!) };
      case "txn":
        return { kind, response: this.applyTxn(request.txn!) };
      case "compaction":
        this.mvcc.compact(request.compaction!.revision ?? 0);
        return { kind, response: { header: this.header() } };
      case "leaseGrant":
        return { kind, response: this.applyLeaseGrant(request.leaseGrant!) };
      case "leaseRevoke":
        this.revokeLease(request.leaseRevoke!.ID ?? 0);
        return { kind, response: { header: this.header() } };
      case "leaseCheckpoint":
        for (const c of request.leaseCheckpoint!.checkpoints ?? []) this.lessor.checkpoint(c.ID ?? 0, c.remaining_TTL ?? 0);
        return { kind, response: { header: this.header() } };
      case "leaseExpire": {
        const revoked: number[] = [];
        for (const id of request.leaseExpire!.ids ?? []) {
          if (!this.lessor.get(id)) continue; // revoked meanwhile
          this.revokeLease(id);
          revoked.push(id);
        }
        return { kind, response: { header: this.header(), revoked } };
      }
      case "alarm":
        return { kind, response: this.applyAlarm(request.alarm!) };
      case "memberAttributes": {
        const m = request.memberAttributes!;
        this.members.publish(m.memberId ?? 0, m.name ?? "", m.clientUrls ?? []);
        return { kind, response: { header: this.header() } };
      }
      case "memberUpdate": {
        const m = request.memberUpdate!;
        this.members.updatePeerUrls(m.ID ?? 0, m.peerURLs ?? []);
        return { kind, response: { header: this.header(), members: this.members.toProto() } };
      }
      case null:
        throw new InvalidRequestError("etcdserver: log entry carries no operation");
    }
  }

  private applyPut(r: etcdserverpbTypes.IPutRequest): PutResponse {
    validatePutRequest(r);
    if (this.alarms.isRaised(AlarmType.NOSPACE)) throw new NoSpaceError();
    checkPut(this.mvcc, this.lessor, r);
    const txn = this.mvcc.write();
    const response = executePut(txn, r);
    txn.end();
    return response;
  }

  private applyDeleteRange(r: etcdserverpbTypes.IDeleteRangeRequest): DeleteRangeResponse {
    validateDeleteRangeRequest(r);
    const txn = this.mvcc.write();
    const response = executeDeleteRange(txn, r);
    txn.end();
    return response;
  }

  private applyTxn(r: etcdserverpbTypes.ITxnRequest): TxnResponse {
    // The operation cap is the proposer's business (members may be configured differently);
    // keys and duplicates are checked again because the MVCC invariants depend on them.
    validateTxnRequest(r, Number.POSITIVE_INFINITY);
    if (this.alarms.isRaised(AlarmType.NOSPACE) && txnHasPuts(r)) throw new NoSpaceError();
    const plan = planTxn(this.mvcc, r);
    checkTxnPlan(this.mvcc, this.lessor, plan);
    const txn = this.mvcc.write();
    const response = executeTxnPlan(txn, plan, true);
    const changed = txn.changeCount > 0;
    txn.end();
    response.header = { revision: changed ? txn.revision : txn.revision - 1 };
    return response;
  }

  private applyLeaseGrant(r: etcdserverpbTypes.ILeaseGrantRequest): LeaseGrantResponse {
    if (this.alarms.isRaised(AlarmType.NOSPACE)) throw new NoSpaceError();
    // Before generating an id: a grant that fails must not advance the id generator.
    validateLeaseGrantRequest(r);
    const lease = this.lessor.grant(r.ID || this.lessor.generateId(), r.TTL ?? 0);
    return { header: this.header(), ID: lease.id, TTL: lease.ttlSeconds, error: "" };
  }

  /** Deletes the lease's keys in one revision (none if it has none), then the lease. */
  private revokeLease(id: number): void {
    const keys = this.lessor.keysOf(id);
    if (keys.length > 0) {
      const txn = this.mvcc.write();
      for (const key of keys) txn.deleteRange({ start: key, end: undefined });
      txn.end();
    }
    this.lessor.remove(id);
  }

  private applyAlarm(r: etcdserverpbTypes.IAlarmRequest): AlarmResponse {
    const memberId = r.memberID ?? 0;
    const alarm = r.alarm ?? AlarmType.NONE;
    const alarms: AlarmMember[] = [];
    switch (r.action ?? AlarmAction.GET) {
      case AlarmAction.GET:
        alarms.push(...this.alarms.list(alarm));
        break;
      case AlarmAction.ACTIVATE: {
        const raised = this.alarms.activate(memberId, alarm);
        if (raised) alarms.push(raised);
        break;
      }
      case AlarmAction.DEACTIVATE: {
        const disarmed = this.alarms.deactivate(memberId, alarm);
        if (disarmed) alarms.push(disarmed);
        break;
      }
      default:
        throw new InvalidRequestError("etcdserver: unknown alarm action");
    }
    return { header: this.header(), alarms };
  }
}
