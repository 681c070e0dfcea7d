import { test } from "node:test";
import assert from "node:assert/strict";
import { etcdserverpb, storepb, type etcdserverpbTypes, type storepbTypes } from "@coxswain/proto";
import { SeededRandom } from "@coxswain/raft";
import { prefixRangeEnd } from "../bytes.js";
import { GrpcStatus, type EtcdError } from "../errors.js";
import { SnapshotCorruptError } from "./snapshot.js";
import { StoreStateMachine, type ApplyResponses, type ApplyResult, type RequestKind } from "./state-machine.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const str = (u: Uint8Array | null | undefined): string => Buffer.from(u ?? []).toString("latin1");
const { SortOrder, SortTarget } = etcdserverpb.RangeRequest;
const { CompareResult, CompareTarget } = etcdserverpb.Compare;
const { AlarmAction, AlarmType } = { AlarmAction: etcdserverpb.AlarmRequest.AlarmAction, AlarmType: etcdserverpb.AlarmType };

function ok<K extends RequestKind>(result: ApplyResult, kind: K): ApplyResponses[K] {
  if (result.kind === "error") assert.fail(`expected ${kind}, got error ${result.error.message}`);
  assert.equal(result.kind, kind);
  return (result as unknown as { response: ApplyResponses[K] }).response;
}

function failure(result: ApplyResult): EtcdError {
  if (result.kind !== "error") assert.fail(`expected an error, got ${result.kind}`);
  return result.error;
}

function put(sm: StoreStateMachine, key: string, value: string, extra: etcdserverpbTypes.IPutRequest = {}): ApplyResult {
  return sm.apply({ put: { key: b(key), value: b(value), ...extra } });
}

function get(sm: StoreStateMachine, key: string, extra: etcdserverpbTypes.IRangeRequest = {}): etcdserverpbTypes.IRangeResponse {
  return sm.range({ key: b(key), ...extra });
}

function keysOf(r: { kvs?: etcdserverpbTypes.IRangeResponse["kvs"] }): string[] {
  return (r.kvs ?? []).map((kv) => `${str(kv.key)}=${str(kv.value)}`);
}

test("put answers with the new revision and the previous key-value when asked", () => {
  const sm = new StoreStateMachine();
  assert.deepEqual(ok(put(sm, "k", "1"), "put"), { header: { revision: 2 } });
  const second = ok(put(sm, "k", "2", { prevKv: true }), "put");
  assert.equal(second.header.revision, 3);
  assert.equal(str(second.prevKv?.value), "1");
  assert.equal(second.prevKv?.version, 1);
  const kv = get(sm, "k").kvs![0]!;
  assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, str(kv.value)], [2, 3, 2, "2"]);
});

test("ignore_value and ignore_lease keep the current value and lease, and need the key", () => {
  const sm = new StoreStateMachine();
  const lease = ok(sm.apply({ leaseGrant: { TTL: 60 } }), "leaseGrant").ID;
  put(sm, "k", "keep", { lease });
  ok(sm.apply({ put: { key: b("k"), ignoreValue: true } }), "put");
  assert.deepEqual(keysOf(get(sm, "k")), ["k=keep"]);
  assert.equal(get(sm, "k").kvs![0]!.lease, 0, "a put without ignore_lease drops the lease");
  put(sm, "k", "x", { lease });
  ok(sm.apply({ put: { key: b("k"), value: b("y"), ignoreLease: true } }), "put");
  assert.equal(get(sm, "k").kvs![0]!.lease, lease);
  const missing = failure(sm.apply({ put: { key: b("nope"), ignoreValue: true } }));
  assert.equal(missing.grpcMessage, "etcdserver: key not found");
  assert.equal(failure(sm.apply({ put: { key: b("k"), value: b("v"), ignoreValue: true } })).grpcMessage, "etcdserver: value is provided");
  assert.equal(failure(sm.apply({ put: { key: b("k"), lease, ignoreLease: true } })).grpcMessage, "etcdserver: lease is provided");
});

test("requests with an empty key or an unknown lease fail with etcd's status and message", () => {
  const sm = new StoreStateMachine();
  const empty = failure(sm.apply({ put: { key: b(""), value: b("v") } }));
  assert.equal(empty.code, GrpcStatus.INVALID_ARGUMENT);
  assert.equal(empty.grpcMessage, "etcdserver: key is not provided");
  const noLease = failure(put(sm, "k", "v", { lease: 12345 }));
  assert.equal(noLease.code, GrpcStatus.NOT_FOUND);
  assert.equal(noLease.grpcMessage, "etcdserver: requested lease not found");
  assert.equal(sm.currentRevision, 1, "failed entries change nothing");
  assert.equal(failure(sm.apply({ id: 5 })).code, GrpcStatus.INVALID_ARGUMENT, "an entry without an operation");
});

test("delete range counts and returns what it deleted, in one revision", () => {
  const sm = new StoreStateMachine();
  for (const k of ["a/1", "a/2", "b"]) put(sm, k, "v");
  const deleted = ok(sm.apply({ deleteRange: { key: b("a/"), rangeEnd: prefixRangeEnd(b("a/")), prevKv: true } }), "deleteRange");
  assert.equal(deleted.deleted, 2);
  assert.deepEqual(
    deleted.prevKvs.map((kv) => str(kv.key)),
    ["a/1", "a/2"],
  );
  assert.equal(deleted.header.revision, 5);
  const nothing = ok(sm.apply({ deleteRange: { key: b("zz") } }), "deleteRange");
  assert.deepEqual([nothing.deleted, nothing.header.revision], [0, 5], "deleting nothing takes no revision");
});

test("range sorts, filters, limits and counts as etcd does", () => {
  const sm = new StoreStateMachine();
  put(sm, "c", "1"); // 2
  put(sm, "a", "3"); // 3
  put(sm, "b", "2"); // 4
  put(sm, "a", "4"); // 5
  const all = { key: b("\x00"), rangeEnd: b("\x00") };
  assert.deepEqual(keysOf(sm.range(all)), ["a=4", "b=2", "c=1"]);
  assert.deepEqual(keysOf(sm.range({ ...all, sortOrder: SortOrder.DESCEND })), ["c=1", "b=2", "a=4"]);
  assert.deepEqual(keysOf(sm.range({ ...all, sortTarget: SortTarget.MOD })), ["c=1", "b=2", "a=4"], "a non-key target sorts ascending by default");
  assert.deepEqual(keysOf(sm.range({ ...all, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND })), ["a=4", "b=2", "c=1"]);
  assert.deepEqual(keysOf(sm.range({ ...all, sortTarget: SortTarget.CREATE, sortOrder: SortOrder.DESCEND, limit: 1 })), ["b=2"]);
  const limited = sm.range({ ...all, limit: 2 });
  assert.deepEqual([keysOf(limited), limited.more, limited.count], [["a=4", "b=2"], true, 3]);
  const exact = sm.range({ ...all, limit: 3 });
  assert.equal(exact.more, false);
  assert.deepEqual(keysOf(sm.range({ ...all, minModRevision: 4 })), ["a=4", "b=2"]);
  assert.deepEqual(keysOf(sm.range({ ...all, maxCreateRevision: 3 })), ["a=4", "c=1"]);
  const filtered = sm.range({ ...all, minModRevision: 5 });
  assert.equal(filtered.count, 3, "count ignores the revision filters");
  const keysOnly = sm.range({ ...all, keysOnly: true });
  assert.deepEqual(keysOf(keysOnly), ["a=", "b=", "c="]);
  const countOnly = sm.range({ ...all, countOnly: true });
  assert.deepEqual([countOnly.kvs, countOnly.count, countOnly.more], [[], 3, false]);
  assert.deepEqual(keysOf(sm.range({ ...all, revision: 3 })), ["a=3", "c=1"]);
  assert.equal(sm.range({ ...all, revision: 3 }).header?.revision, 5);
});

test("txn compares every key of a range and runs one branch as one revision", () => {
  const sm = new StoreStateMachine();
  put(sm, "x/1", "a"); // 2
  put(sm, "x/2", "a"); // 3
  const txn: etcdserverpbTypes.ITxnRequest = {
    compare: [{ key: b("x/"), rangeEnd: prefixRangeEnd(b("x/")), target: CompareTarget.VALUE, result: CompareResult.EQUAL, value: b("a") }],
    success: [{ requestPut: { key: b("y"), value: b("1") } }, { requestDeleteRange: { key: b("x/1") } }, { requestRange: { key: b("y") } }],
    failure: [{ requestRange: { key: b("x/1") } }],
  };
  const response = ok(sm.apply({ txn }), "txn");
  assert.equal(response.succeeded, true);
  assert.equal(response.header.revision, 4);
  assert.equal(response.responses[0]!.responsePut!.header.revision, 4);
  assert.equal(response.responses[1]!.responseDeleteRange!.deleted, 1);
  assert.deepEqual(keysOf(response.responses[2]!.responseRange!), ["y=1"], "reads inside a txn see its writes");
  put(sm, "x/2", "b"); // 5
  const again = ok(sm.apply({ txn }), "txn");
  assert.equal(again.succeeded, false, "one key in the range no longer matches");
  assert.equal(again.header.revision, 5, "a txn that writes nothing takes no revision");
  assert.equal(again.responses[0]!.responseRange!.count, 0);
});

test("txn compare targets and results follow etcd, including missing keys", () => {
  const sm = new StoreStateMachine();
  put(sm, "k", "5"); // 2
  const check = (c: etcdserverpbTypes.ICompare): boolean => ok(sm.apply({ txn: { compare: [c] } }), "txn").succeeded;
  assert.equal(check({ key: b("k"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 1 }), true);
  assert.equal(check({ key: b("k"), target: CompareTarget.CREATE, result: CompareResult.GREATER, createRevision: 1 }), true);
  assert.equal(check({ key: b("k"), target: CompareTarget.MOD, result: CompareResult.LESS, modRevision: 2 }), false);
  assert.equal(check({ key: b("k"), target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: b("6") }), true);
  assert.equal(check({ key: b("k"), target: CompareTarget.LEASE, result: CompareResult.EQUAL, lease: 0 }), true);
  assert.equal(check({ key: b("missing"), target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: 0 }), true, "absent keys compare as zero");
  assert.equal(
    check({ key: b("missing"), target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: b("x") }),
    false,
    "a value compare on an absent key fails",
  );
  assert.equal(sm.currentRevision, 2, "compare-only txns write nothing");
});

test("nested txns decide their branches before anything is written", () => {
  const sm = new StoreStateMachine();
  const txn: etcdserverpbTypes.ITxnRequest = {
    success: [
      { requestPut: { key: b("flag"), value: b("set") } },
      {
        requestTxn: {
          compare: [{ key: b("flag"), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 0 }],
          success: [{ requestPut: { key: b("saw"), value: b("absent") } }],
          failure: [{ requestPut: { key: b("saw"), value: b("present") } }],
        },
      },
    ],
  };
  const response = ok(sm.apply({ txn }), "txn");
  assert.equal(response.responses[1]!.responseTxn!.succeeded, true);
  assert.deepEqual(keysOf(get(sm, "saw")), ["saw=absent"]);
  assert.equal(sm.currentRevision, 2, "the nested txn's write shares the outer revision");
});

test("txn validation catches duplicate keys, empty operations and too many operations", () => {
  const sm = new StoreStateMachine();
  const dup = failure(
    sm.apply({
      txn: { success: [{ requestPut: { key: b("k"), value: b("1") } }, { requestPut: { key: b("k"), value: b("2") } }] },
    }),
  );
  assert.equal(dup.grpcMessage, "etcdserver: duplicate key given in txn request");
  const putInDelete = failure(
    sm.apply({
      txn: { success: [{ requestDeleteRange: { key: b("a"), rangeEnd: b("c") } }, { requestPut: { key: b("b"), value: b("1") } }] },
    }),
  );
  assert.equal(putInDelete.name, "DuplicateKeyError");
  const branches = ok(
    sm.apply({
      txn: {
        success: [
          {
            requestTxn: {
              success: [{ requestPut: { key: b("k"), value: b("1") } }],
              failure: [{ requestPut: { key: b("k"), value: b("2") } }],
            },
          },
        ],
      },
    }),
    "txn",
  );
  assert.equal(branches.succeeded, true, "the two branches of a nested txn may put the same key");
  assert.equal(failure(sm.apply({ txn: { success: [{}] } })).grpcMessage, "etcdserver: key not found");
});

test("lease revoke deletes every attached key in one revision", () => {
  const sm = new StoreStateMachine();
  const grant = ok(sm.apply({ leaseGrant: { TTL: 1 } }), "leaseGrant");
  assert.equal(grant.TTL, 2, "raised to the minimum TTL");
  assert.ok(grant.ID > 0 && grant.ID < 2 ** 53);
  put(sm, "a", "1", { lease: grant.ID });
  put(sm, "b", "1", { lease: grant.ID });
  put(sm, "c", "1");
  const events: string[] = [];
  const stream = sm.watchHub.openStream();
  stream.watch({ key: b("\x00"), rangeEnd: b("\x00") });
  const ttl = sm.leaseTimeToLive({ ID: grant.ID, keys: true });
  assert.deepEqual(ttl.keys!.map(str), ["a", "b"]);
  ok(sm.apply({ leaseRevoke: { ID: grant.ID } }), "leaseRevoke");
  for (const r of stream.take()) for (const e of r.events) events.push(`${e.type} ${str(e.kv.key)}@${e.kv.modRevision}`);
  assert.deepEqual(events, ["1 a@5", "1 b@5"]);
  assert.deepEqual(keysOf(sm.range({ key: b("\x00"), rangeEnd: b("\x00") })), ["c=1"]);
  assert.equal(failure(sm.apply({ leaseRevoke: { ID: grant.ID } })).grpcMessage, "etcdserver: requested lease not found");
  assert.equal(sm.leaseTimeToLive({ ID: grant.ID }).TTL, -1, "a gone lease has TTL -1, as etcd answers");
});

test("lease grant refuses existing ids and huge TTLs", () => {
  const sm = new StoreStateMachine();
  ok(sm.apply({ leaseGrant: { ID: 42, TTL: 10 } }), "leaseGrant");
  assert.equal(failure(sm.apply({ leaseGrant: { ID: 42, TTL: 10 } })).grpcMessage, "etcdserver: lease already exists");
  assert.equal(failure(sm.apply({ leaseGrant: { TTL: 9_000_000_001 } })).grpcMessage, "etcdserver: too large lease TTL");
  assert.deepEqual(sm.leaseLeases().leases, [{ ID: 42 }]);
});

test("a leader's expiry decision revokes leases that still exist and skips the rest", () => {
  const sm = new StoreStateMachine();
  const id = ok(sm.apply({ leaseGrant: { TTL: 10 } }), "leaseGrant").ID;
  put(sm, "k", "v", { lease: id });
  const expired = ok(sm.apply({ leaseExpire: { ids: [id, 999] } }), "leaseExpire");
  assert.deepEqual(expired.revoked, [id]);
  assert.equal(get(sm, "k").count, 0);
});

test("the NOSPACE alarm refuses puts and grants but allows deletes until disarmed", () => {
  const sm = new StoreStateMachine();
  put(sm, "k", "v");
  const raised = ok(sm.apply({ alarm: { action: AlarmAction.ACTIVATE, memberID: 1, alarm: AlarmType.NOSPACE } }), "alarm");
  assert.deepEqual(raised.alarms, [{ memberID: 1, alarm: AlarmType.NOSPACE }]);
  const refused = failure(put(sm, "k", "w"));
  assert.equal(refused.code, GrpcStatus.RESOURCE_EXHAUSTED);
  assert.equal(refused.grpcMessage, "etcdserver: mvcc: database space exceeded");
  assert.equal(failure(sm.apply({ leaseGrant: { TTL: 10 } })).name, "NoSpaceError");
  assert.equal(failure(sm.apply({ txn: { failure: [{ requestPut: { key: b("x"), value: b("1") } }] } })).name, "NoSpaceError");
  ok(sm.apply({ deleteRange: { key: b("k") } }), "deleteRange");
  assert.deepEqual(ok(sm.apply({ alarm: { action: AlarmAction.GET } }), "alarm").alarms.length, 1);
  ok(sm.apply({ alarm: { action: AlarmAction.DEACTIVATE, memberID: 1, alarm: AlarmType.NOSPACE } }), "alarm");
  ok(put(sm, "k", "again"), "put");
});

test("compaction through the log makes old revisions unreadable with etcd's message", () => {
  const sm = new StoreStateMachine();
  for (let i = 0; i < 4; i++) put(sm, "k", String(i)); // 2..5
  ok(sm.apply({ compaction: { revision: 4 } }), "compaction");
  assert.throws(
    () => get(sm, "k", { revision: 3 }),
    (e: unknown) =>
      (e as EtcdError).grpcMessage === "etcdserver: mvcc: required revision has been compacted" && (e as EtcdError).code === GrpcStatus.OUT_OF_RANGE,
  );
  assert.equal(failure(sm.apply({ compaction: { revision: 4 } })).name, "CompactedError");
  assert.equal(failure(sm.apply({ compaction: { revision: 6 } })).grpcMessage, "etcdserver: mvcc: required revision is a future revision");
  const txnRange = failure(sm.apply({ txn: { success: [{ requestRange: { key: b("k"), revision: 2 } }] } }));
  assert.equal(txnRange.name, "CompactedError", "a txn checks its ranges' revisions before running");
});

test("read-only txns are served outside the log", () => {
  const sm = new StoreStateMachine();
  put(sm, "k", "v");
  const response = sm.readTxn({
    compare: [{ key: b("k"), target: CompareTarget.VERSION, result: CompareResult.GREATER, version: 0 }],
    success: [{ requestRange: { key: b("k") } }],
  });
  assert.equal(response.succeeded, true);
  assert.deepEqual(keysOf(response.responses[0]!.responseRange!), ["k=v"]);
  assert.equal(response.header.revision, 2);
});

// ---- determinism and snapshots ----

function randomLog(seed: number, length: number): storepbTypes.IInternalRequest[] {
  const random = new SeededRandom(seed);
  const keys = ["a", "b", "c", "d/1", "d/2", "\xff"];
  const key = (): Buffer => b(keys[random.intn(keys.length)]!);
  const log: storepbTypes.IInternalRequest[] = [];
  let revisionGuess = 1;
  for (let i = 0; i < length; i++) {
    const r = random.intn(20);
    if (r < 8) log.push({ id: i + 1, put: { key: key(), value: b(`v${i}`), lease: random.intn(4) === 0 ? 1000 + random.intn(3) : 0 } });
    else if (r < 10) log.push({ id: i + 1, deleteRange: { key: key(), rangeEnd: random.intn(2) ? b("\x00") : undefined } });
    else if (r < 13)
      log.push({
        id: i + 1,
        txn: {
          compare: [{ key: key(), target: CompareTarget.VERSION, result: CompareResult.GREATER, version: random.intn(3) }],
          success: [{ requestPut: { key: b("t"), value: b(`s${i}`) } }, { requestRange: { key: b("a"), rangeEnd: b("z") } }],
          failure: [{ requestDeleteRange: { key: b("t") } }],
        },
      });
    else if (r < 15) log.push({ id: i + 1, leaseGrant: { ID: 1000 + random.intn(3), TTL: 5 + random.intn(10) } });
    else if (r < 16) log.push({ id: i + 1, leaseGrant: { TTL: 30 } });
    else if (r < 17) log.push({ id: i + 1, leaseRevoke: { ID: 1000 + random.intn(3) } });
    else if (r < 18) log.push({ id: i + 1, leaseExpire: { ids: [1000 + random.intn(3)] } });
    else if (r < 19) log.push({ id: i + 1, compaction: { revision: Math.max(1, revisionGuess - random.intn(10)) } });
    else log.push({ id: i + 1, leaseCheckpoint: { checkpoints: [{ ID: 1000 + random.intn(3), remaining_TTL: random.intn(5) }] } });
    revisionGuess++;
  }
  return log;
}

/** Through the wire format, as a Raft log would carry it. */
function roundTrip(request: storepbTypes.IInternalRequest): storepbTypes.IInternalRequest {
  return storepb.InternalRequest.decode(storepb.InternalRequest.encode(request).finish());
}

test("two members applying the same log end in identical state and answer identically", () => {
  for (const seed of [21, 22, 23]) {
    const log = randomLog(seed, 400);
    // Different clocks and leadership must not matter: only the log does.
    const a = new StoreStateMachine({ now: () => 5 });
    const b2 = new StoreStateMachine({ now: () => 99_999 });
    b2.lessor.promote(1000);
    for (const entry of log) {
      const ra = a.apply(roundTrip(entry));
      const rb = b2.apply(roundTrip(entry));
      assert.deepEqual(ra.kind === "error" ? ra.error.message : ra, rb.kind === "error" ? rb.error.message : rb, `seed ${seed} entry ${entry.id}`);
    }
    assert.deepEqual(Buffer.from(a.snapshot()), Buffer.from(b2.snapshot()), `seed ${seed}`);
    a.mvcc.checkInvariants();
  }
});

test("a snapshot restores to an equal state that goes on identically", () => {
  const log = randomLog(31, 600);
  const original = new StoreStateMachine();
  for (const entry of log.slice(0, 400)) original.apply(entry);
  ok(original.apply({ alarm: { action: AlarmAction.ACTIVATE, memberID: 3, alarm: AlarmType.CORRUPT } }), "alarm");
  original.members.add({ id: 7, name: "m7", peerUrls: ["http://p7"], clientUrls: ["http://c7"], isLearner: true });
  const data = original.snapshot();
  const restored = new StoreStateMachine();
  put(restored, "junk", "to be replaced");
  restored.restore(data);
  restored.mvcc.checkInvariants();
  assert.deepEqual(Buffer.from(restored.snapshot()), Buffer.from(data), "snapshot of the restored state is byte-identical");
  assert.deepEqual(restored.members.list(), original.members.list());
  assert.deepEqual(restored.alarms.list(), original.alarms.list());
  const all = { key: b("\x00"), rangeEnd: b("\x00") };
  for (let rev = Math.max(1, original.mvcc.compactRevision); rev <= original.currentRevision; rev++) {
    assert.deepEqual(restored.range({ ...all, revision: rev }), original.range({ ...all, revision: rev }), `range at ${rev}`);
  }
  for (const entry of log.slice(400)) {
    const ra = original.apply(entry);
    const rb = restored.apply(entry);
    assert.deepEqual(ra.kind === "error" ? ra.error.message : ra, rb.kind === "error" ? rb.error.message : rb);
  }
  assert.deepEqual(Buffer.from(restored.snapshot()), Buffer.from(original.snapshot()));
});

test("a damaged or truncated snapshot is refused before any state changes", () => {
  const sm = new StoreStateMachine();
  for (let i = 0; i < 50; i++) put(sm, `k${i}`, "v".repeat(i));
  const data = sm.snapshot();
  const target = new StoreStateMachine();
  put(target, "mine", "1");
  const flipped = Uint8Array.from(data);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
  assert.throws(() => target.restore(flipped), SnapshotCorruptError);
  assert.throws(() => target.restore(data.subarray(0, data.length - 3)), SnapshotCorruptError);
  assert.throws(() => target.restore(new Uint8Array([1, 2, 3])), SnapshotCorruptError);
  assert.deepEqual(keysOf(get(target, "mine")), ["mine=1"]);
});

test("a large store snapshots in bounded chunks", () => {
  const sm = new StoreStateMachine();
  for (let i = 0; i < 300; i++) put(sm, `key${i}`, "x".repeat(10_000));
  const data = sm.snapshot();
  assert.ok(data.length > 3_000_000);
  const restored = new StoreStateMachine();
  restored.restore(data);
  assert.equal(restored.range({ key: b("key"), rangeEnd: prefixRangeEnd(b("key")), countOnly: true }).count, 300);
});
