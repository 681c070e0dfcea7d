/**
 * etcd's KV operations over the MVCC store (etcd's server/etcdserver/txn): Range with its sort,
 * filter, limit and count rules; Put; DeleteRange; and Txn, whose compares are all evaluated
 * against the state before the txn (nested txns included) and whose operations then run in one
 * write transaction, so that the whole txn is one revision.
 */
import { assert } from "@coxswain/raft";
import { etcdserverpb, type etcdserverpbTypes } from "@coxswain/proto";
import { keySpan, toByteString, type ByteString } from "../bytes.js";
import { CompactedError, FutureRevisionError, KeyNotFoundError, LeaseNotFoundError } from "../errors.js";
import type { Lessor } from "../lease/lessor.js";
import { toKeyValue, type KeyValue } from "../mvcc/kv.js";
import type { KeyVersion, MvccStore, RangeOptions, RangeResult, WriteTxn } from "../mvcc/store.js";

type RangeRequest = etcdserverpbTypes.IRangeRequest;
type PutRequest = etcdserverpbTypes.IPutRequest;
type DeleteRangeRequest = etcdserverpbTypes.IDeleteRangeRequest;
type TxnRequest = etcdserverpbTypes.ITxnRequest;
type RequestOp = etcdserverpbTypes.IRequestOp;
type Compare = etcdserverpbTypes.ICompare;

const SortOrder = etcdserverpb.RangeRequest.SortOrder;
const SortTarget = etcdserverpb.RangeRequest.SortTarget;
const CompareResult = etcdserverpb.Compare.CompareResult;
const CompareTarget = etcdserverpb.Compare.CompareTarget;

/** The header the state machine fills; the gRPC layer adds cluster, member and term. */
export interface Header {
  revision?: number;
}

export interface RangeResponse {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutResponse {
  header: Header;
  prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  header: Header;
  deleted: number;
  prevKvs: KeyValue[];
}

export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

export interface TxnResponse {
  header: Header;
  succeeded: boolean;
  responses: ResponseOp[];
}

/** Something ranges can be read from: the committed store, or an open write transaction. */
export interface ReadView {
  range(span: ReturnType<typeof keySpan>, options?: RangeOptions): RangeResult;
}

export function executeRange(view: ReadView, r: RangeRequest): RangeResponse {
  const sortOrderAsked = r.sortOrder ?? SortOrder.NONE;
  const sortTarget = r.sortTarget ?? SortTarget.KEY;
  const minMod = r.minModRevision ?? 0;
  const maxMod = r.maxModRevision ?? 0;
  const minCreate = r.minCreateRevision ?? 0;
  const maxCreate = r.maxCreateRevision ?? 0;
  const requestLimit = r.limit ?? 0;
  let limit = requestLimit;
  // Sorting or filtering needs every key first; otherwise fetch one extra to learn `more`.
  if (sortOrderAsked !== SortOrder.NONE || minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0) limit = 0;
  if (limit > 0) limit += 1;
  const result = view.range(keySpan(r.key, r.rangeEnd), { revision: r.revision ?? 0, limit, countOnly: r.countOnly ?? false });
  let versions = result.versions;
  if (maxMod !== 0) versions = versions.filter((v) => v.main <= maxMod);
  if (minMod !== 0) versions = versions.filter((v) => v.main >= minMod);
  if (maxCreate !== 0) versions = versions.filter((v) => v.createRevision <= maxCreate);
  if (minCreate !== 0) versions = versions.filter((v) => v.createRevision >= minCreate);

  // The store returns key order, so: a non-key target with no order sorts ascending, and key
  // ascending needs no sort (etcd's rules).
  let sortOrder = sortOrderAsked;
  if (sortTarget !== SortTarget.KEY && sortOrder === SortOrder.NONE) sortOrder = SortOrder.ASCEND;
  else if (sortTarget === SortTarget.KEY && sortOrder === SortOrder.ASCEND) sortOrder = SortOrder.NONE;
  if (sortOrder !== SortOrder.NONE) {
    const compare = comparatorFor(sortTarget);
    // JS sorts are stable: ties keep key order (etcd's Go sort leaves them unspecified).
    if (sortOrder === SortOrder.DESCEND) versions.sort((a, b) => compare(b, a));
    else versions.sort(compare);
  }
  let more = false;
  if (requestLimit > 0 && versions.length > requestLimit) {
    versions = versions.slice(0, requestLimit);
    more = true;
  }
  const keysOnly = r.keysOnly ?? false;
  return {
    header: { revision: result.revision },
    kvs: versions.map((v) => toKeyValue(v, keysOnly)),
    more,
    count: result.count,
  };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparatorFor(target: etcdserverpbTypes.RangeRequest.SortTarget): (a: KeyVersion, b: KeyVersion) => number {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareStrings(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.main - b.main;
    case SortTarget.VALUE:
      return (a, b) => compareStrings(a.value, b.value);
    default:
      // An enum value this version does not know: keep key order.
      return (a, b) => compareStrings(a.key, b.key);
  }
}

/** etcd's checkRange for a range inside a txn: the revision must be readable. */
function checkRangeRevision(store: MvccStore, r: RangeRequest): void {
  const revision = r.revision ?? 0;
  if (revision <= 0) return;
  if (revision > store.currentRevision) throw new FutureRevisionError(store.currentRevision);
  if (revision < store.compactRevision) throw new CompactedError(store.compactRevision);
}

/** Checks a put against the state before it runs: its lease exists, and ignore_* have a key. */
export function checkPut(store: MvccStore, lessor: Lessor, r: PutRequest): void {
  if ((r.ignoreValue || r.ignoreLease) && !store.get(toByteString(r.key))) throw new KeyNotFoundError();
  const lease = r.lease ?? 0;
  if (lease !== 0 && !lessor.get(lease)) throw new LeaseNotFoundError(lease);
}

export function executePut(txn: WriteTxn, r: PutRequest): PutResponse {
  const key = toByteString(r.key);
  const needPrevious = r.ignoreValue || r.ignoreLease || r.prevKv;
  const previous = needPrevious ? txn.range({ start: key, end: undefined }).versions[0] : undefined;
  assert(!(r.ignoreValue || r.ignoreLease) || previous !== undefined, "ignore_value/ignore_lease checked before writing");
  const value = r.ignoreValue ? previous!.value : toByteString(r.value);
  const lease = r.ignoreLease ? previous!.lease : (r.lease ?? 0);
  txn.put(key, value, lease);
  const response: PutResponse = { header: { revision: txn.revision } };
  if (r.prevKv && previous) response.prevKv = toKeyValue(previous);
  return response;
}

export function executeDeleteRange(txn: WriteTxn, r: DeleteRangeRequest): DeleteRangeResponse {
  const span = keySpan(r.key, r.rangeEnd);
  const prevKvs = r.prevKv ? txn.range(span).versions.map((v) => toKeyValue(v)) : [];
  const deleted = txn.deleteRange(span).length;
  // etcd: the header names the txn's revision once anything in it changed.
  const revision = deleted > 0 || txn.changeCount > 0 ? txn.revision : txn.revision - 1;
  return { header: { revision }, deleted, prevKvs };
}

/** The branch each (nested) txn takes, decided before anything is written. */
export interface TxnPlan {
  succeeded: boolean;
  ops: readonly RequestOp[];
  /** Plans of the nested txns among `ops`, by op index. */
  nested: Map<number, TxnPlan>;
}

export function planTxn(view: ReadView, r: TxnRequest): TxnPlan {
  const succeeded = (r.compare ?? []).every((c) => evaluateCompare(view, c));
  const ops = (succeeded ? r.success : r.failure) ?? [];
  const nested = new Map<number, TxnPlan>();
  ops.forEach((op, i) => {
    if (op.requestTxn) nested.set(i, planTxn(view, op.requestTxn));
  });
  return { succeeded, ops, nested };
}

/** etcd's checkTxn: the operations on the chosen branches can all run. */
export function checkTxnPlan(store: MvccStore, lessor: Lessor, plan: TxnPlan): void {
  plan.ops.forEach((op, i) => {
    if (op.requestRange) checkRangeRevision(store, op.requestRange);
    else if (op.requestPut) checkPut(store, lessor, op.requestPut);
    else if (op.requestTxn) checkTxnPlan(store, lessor, plan.nested.get(i)!);
  });
}

export function planWrites(plan: TxnPlan): boolean {
  return plan.ops.some((op, i) => op.requestPut || op.requestDeleteRange || (op.requestTxn ? planWrites(plan.nested.get(i)!) : false));
}

export function executeTxnPlan(txn: WriteTxn, plan: TxnPlan, topLevel: boolean): TxnResponse {
  const responses: ResponseOp[] = plan.ops.map((op, i): ResponseOp => {
    if (op.requestRange) return { responseRange: executeRange(txn, op.requestRange) };
    if (op.requestPut) return { responsePut: executePut(txn, op.requestPut) };
    if (op.requestDeleteRange) return { responseDeleteRange: executeDeleteRange(txn, op.requestDeleteRange) };
    if (op.requestTxn) return { responseTxn: executeTxnPlan(txn, plan.nested.get(i)!, false) };
    return {};
  });
  // etcd fills the revision of the top-level header only (once the txn has ended).
  return { header: topLevel ? { revision: 0 } : {}, succeeded: plan.succeeded, responses };
}

/** etcd's applyCompare: every key in the compare's range must satisfy it. */
export function evaluateCompare(view: ReadView, c: Compare): boolean {
  let versions: KeyVersion[];
  try {
    versions = view.range(keySpan(c.key, c.rangeEnd)).versions;
  } catch {
    return false;
  }
  const target = c.target ?? CompareTarget.VERSION;
  if (versions.length === 0) {
    // A missing key has no value to compare (gRPC cannot tell nil from empty), so VALUE fails;
    // other targets compare against zero (e.g. "create_revision = 0" means "does not exist").
    if (target === CompareTarget.VALUE) return false;
    return compareOne(c, target, undefined);
  }
  return versions.every((v) => compareOne(c, target, v));
}

function compareOne(c: Compare, target: etcdserverpbTypes.Compare.CompareTarget, v: KeyVersion | undefined): boolean {
  let order: number;
  switch (target) {
    case CompareTarget.VALUE: {
      const actual: ByteString = v ? v.value : "";
      order = compareStrings(actual, toByteString(c.value));
      break;
    }
    case CompareTarget.CREATE:
      order = Math.sign((v?.createRevision ?? 0) - (c.createRevision ?? 0));
      break;
    case CompareTarget.MOD:
      order = Math.sign((v?.main ?? 0) - (c.modRevision ?? 0));
      break;
    case CompareTarget.LEASE:
      order = Math.sign((v?.lease ?? 0) - (c.lease ?? 0));
      break;
    case CompareTarget.VERSION:
      order = Math.sign((v?.version ?? 0) - (c.version ?? 0));
      break;
    default:
      order = 0; // a target this version does not know compares equal, as in etcd
  }
  switch (c.result ?? CompareResult.EQUAL) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    case CompareResult.LESS:
      return order < 0;
    default:
      return true;
  }
}

export type { KeyValue };
