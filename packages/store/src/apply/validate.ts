/**
 * Request validation with etcd's rules and messages (etcd's api/v3rpc/key.go and lease.go). The
 * gRPC layer runs it on every request before proposing, with this member's limits. The applier
 * runs the limit-free part again on every log entry (empty keys, duplicate keys in a txn), because
 * those rules protect the state machine's invariants and cost little; configurable limits are never
 * checked when applying, so members with different settings still apply identically.
 */
import type { etcdserverpbTypes } from "@coxswain/proto";
import { keySpan, spanContains, toByteString, type ByteString, type KeySpan } from "../bytes.js";
import {
  DuplicateKeyError,
  EmptyKeyError,
  KeyNotFoundError,
  LeaseProvidedError,
  LeaseTtlTooLargeError,
  RequestTooLargeError,
  TooManyOpsError,
  ValueProvidedError,
} from "../errors.js";
import { LEASE_TTL_SECONDS_MAX } from "../lease/lessor.js";

type RangeRequest = etcdserverpbTypes.IRangeRequest;
type PutRequest = etcdserverpbTypes.IPutRequest;
type DeleteRangeRequest = etcdserverpbTypes.IDeleteRangeRequest;
type TxnRequest = etcdserverpbTypes.ITxnRequest;
type RequestOp = etcdserverpbTypes.IRequestOp;

/** etcd's default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128;
/** etcd's default --max-request-bytes (1.5 MiB). */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

export interface RequestLimits {
  /** Most operations in each of a txn's compare, success and failure lists. */
  maxTxnOps: number;
  /** Largest encoded request accepted for proposal. */
  maxRequestBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxTxnOps: DEFAULT_MAX_TXN_OPS,
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
};

function isEmpty(bytes: Uint8Array | null | undefined): boolean {
  return !bytes || bytes.byteLength === 0;
}

export function validateRangeRequest(r: RangeRequest): void {
  if (isEmpty(r.key)) throw new EmptyKeyError();
}

export function validatePutRequest(r: PutRequest): void {
  if (isEmpty(r.key)) throw new EmptyKeyError();
  if (r.ignoreValue && !isEmpty(r.value)) throw new ValueProvidedError();
  if (r.ignoreLease && (r.lease ?? 0) !== 0) throw new LeaseProvidedError();
}

export function validateDeleteRangeRequest(r: DeleteRangeRequest): void {
  if (isEmpty(r.key)) throw new EmptyKeyError();
}

/**
 * etcd's checkTxnRequest: each of compare/success/failure holds at most maxTxnOps entries (a
 * nested txn gets what its parent left), every key is given, and no key is written twice.
 */
export function validateTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  validateTxnOps(r, maxTxnOps);
  // After the cheap checks, so that a huge request cannot make the interval check quadratic.
  checkTxnIntervals(r.success ?? []);
  checkTxnIntervals(r.failure ?? []);
}

function validateTxnOps(r: TxnRequest, maxTxnOps: number): void {
  const compares = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opCount = Math.max(compares.length, success.length, failure.length);
  if (opCount > maxTxnOps) throw new TooManyOpsError();
  for (const c of compares) if (isEmpty(c.key)) throw new EmptyKeyError();
  for (const op of success) validateRequestOp(op, maxTxnOps - opCount);
  for (const op of failure) validateRequestOp(op, maxTxnOps - opCount);
}

function validateRequestOp(op: RequestOp, maxTxnOps: number): void {
  if (op.requestRange) validateRangeRequest(op.requestRange);
  else if (op.requestPut) validatePutRequest(op.requestPut);
  else if (op.requestDeleteRange) validateDeleteRangeRequest(op.requestDeleteRange);
  else if (op.requestTxn) validateTxnOps(op.requestTxn, maxTxnOps);
  // An operation with nothing in it: etcd answers "key not found".
  else throw new KeyNotFoundError();
}

interface WrittenKeys {
  puts: Set<ByteString>;
  deletes: KeySpan[];
}

/**
 * etcd's checkIntervals: within one list of operations (and the nested txns it holds), no key may
 * be put twice, nor put and deleted. Puts in the two branches of one nested txn may overlap (only
 * one branch runs). Unlike etcd, a delete with range_end "\0" (every key from `key` on) counts as
 * covering those keys, so such a txn cannot also put one of them: each key changes at most once
 * per revision, an invariant the MVCC store relies on.
 */
export function checkTxnIntervals(ops: readonly RequestOp[]): WrittenKeys {
  const deletes: KeySpan[] = [];
  for (const op of ops) {
    const d = op.requestDeleteRange;
    if (d) deletes.push(keySpan(d.key, d.rangeEnd));
  }
  const covered = (key: ByteString): boolean => deletes.some((span) => spanContains(span, key));
  const puts = new Set<ByteString>();
  for (const op of ops) {
    const t = op.requestTxn;
    if (!t) continue;
    const then = checkTxnIntervals(t.success ?? []);
    const otherwise = checkTxnIntervals(t.failure ?? []);
    for (const key of then.puts) {
      if (puts.has(key) || covered(key)) throw new DuplicateKeyError();
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) throw new DuplicateKeyError();
      if (covered(key)) throw new DuplicateKeyError();
      puts.add(key);
    }
    for (const span of then.deletes) deletes.push(span);
    for (const span of otherwise.deletes) deletes.push(span);
  }
  for (const op of ops) {
    const p = op.requestPut;
    if (!p) continue;
    const key = toByteString(p.key);
    if (puts.has(key) || covered(key)) throw new DuplicateKeyError();
    puts.add(key);
  }
  return { puts, deletes };
}

export function validateLeaseGrantRequest(r: etcdserverpbTypes.ILeaseGrantRequest): void {
  if ((r.TTL ?? 0) > LEASE_TTL_SECONDS_MAX) throw new LeaseTtlTooLargeError();
}

/** etcd refuses to propose an entry larger than --max-request-bytes. */
export function validateRequestSize(sizeBytes: number, limits: RequestLimits): void {
  if (sizeBytes > limits.maxRequestBytes) throw new RequestTooLargeError(sizeBytes, limits.maxRequestBytes);
}

/** True when the txn writes (puts or deletes) in either branch, at any depth. */
export function txnHasWrites(r: TxnRequest): boolean {
  const ops = [...(r.success ?? []), ...(r.failure ?? [])];
  return ops.some((op) => op.requestPut || op.requestDeleteRange || (op.requestTxn ? txnHasWrites(op.requestTxn) : false));
}

/** True when the txn puts in either branch, at any depth (what the NOSPACE alarm refuses). */
export function txnHasPuts(r: TxnRequest): boolean {
  const ops = [...(r.success ?? []), ...(r.failure ?? [])];
  return ops.some((op) => op.requestPut || (op.requestTxn ? txnHasPuts(op.requestTxn) : false));
}

/** True when every range in the txn asked for serializable reads (etcd's IsTxnSerializable). */
export function txnIsSerializable(r: TxnRequest): boolean {
  const ops = [...(r.success ?? []), ...(r.failure ?? [])];
  return ops.every((op) => op.requestRange?.serializable === true);
}
