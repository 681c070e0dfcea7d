import assert from "node:assert/strict";
import { test } from "node:test";
import { etcdserverpb, protobuf, UnsafeIntegerError } from "./index.js";
import { decodeLeniently, rangeResponseSchema, txnResponseSchema, watchResponseSchema, withoutUnsafeIds } from "./etcd-wire.js";

/** A ResponseHeader as real etcd sends it: cluster and member ids above 2^53. */
function etcdHeader(revision: number): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 0).uint64("14841639068965178418"); // cluster_id
  w.uint32((2 << 3) | 0).uint64("10276657743932975437"); // member_id
  w.uint32((3 << 3) | 0).int64(revision);
  w.uint32((4 << 3) | 0).uint64(7);
  return w.finish();
}

function keyValue(key: string, modRevision: number, lease: string | number): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).bytes(Buffer.from(key));
  w.uint32((2 << 3) | 0).int64(modRevision);
  w.uint32((3 << 3) | 0).int64(modRevision);
  w.uint32((4 << 3) | 0).int64(1);
  w.uint32((5 << 3) | 2).bytes(Buffer.from("{}"));
  w.uint32((6 << 3) | 0).int64(lease);
  return w.finish();
}

function message(fields: Array<[number, Uint8Array]>): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [field, bytes] of fields) w.uint32((field << 3) | 2).bytes(bytes);
  return w.finish();
}

test("the strict codec refuses real etcd's header ids, the lenient decode reads the rest", () => {
  const bytes = message([
    [1, etcdHeader(42)],
    [2, keyValue("/registry/a", 40, "7587868837365447000")],
  ]);
  assert.throws(() => etcdserverpb.RangeResponse.decode(bytes), UnsafeIntegerError);
  const decoded = decodeLeniently(etcdserverpb.RangeResponse, bytes, rangeResponseSchema);
  assert.equal(decoded.header?.revision, 42);
  assert.equal(decoded.header?.memberId, 0);
  assert.equal(decoded.header?.raftTerm, 7);
  assert.equal(decoded.kvs.length, 1);
  assert.equal(Buffer.from(decoded.kvs[0]!.key ?? []).toString(), "/registry/a");
  assert.equal(decoded.kvs[0]!.modRevision, 40);
  assert.equal(decoded.kvs[0]!.lease, 0, "an unrepresentable lease id is dropped");
});

test("ids that fit are kept and the bytes are not copied", () => {
  const bytes = etcdserverpb.RangeResponse.encode({ header: { clusterId: 5, memberId: 6, revision: 9 } }).finish();
  assert.equal(withoutUnsafeIds(bytes, rangeResponseSchema), bytes);
  assert.equal(decodeLeniently(etcdserverpb.RangeResponse, bytes, rangeResponseSchema).header?.memberId, 6);
});

test("nested transaction responses and watch events are cleaned too", () => {
  const range = message([
    [1, etcdHeader(10)],
    [2, keyValue("k", 9, 1)],
  ]);
  const responseOp = message([[1, range]]);
  const txn = message([
    [1, etcdHeader(10)],
    [3, responseOp],
  ]);
  const decodedTxn = decodeLeniently(etcdserverpb.TxnResponse, txn, txnResponseSchema);
  assert.equal(decodedTxn.responses[0]?.responseRange?.kvs?.[0]?.modRevision, 9);
  assert.equal(decodedTxn.responses[0]?.responseRange?.header?.revision, 10);

  const event = message([
    [2, keyValue("k", 11, "9007199254740993")],
    [3, keyValue("k", 9, 1)],
  ]);
  const watch = message([
    [1, etcdHeader(11)],
    [11, event],
  ]);
  const decodedWatch = decodeLeniently(etcdserverpb.WatchResponse, watch, watchResponseSchema);
  assert.equal(decodedWatch.events[0]?.kv?.modRevision, 11);
  assert.equal(decodedWatch.events[0]?.prevKv?.lease, 1);
});

test("an unrepresentable revision is not hidden", () => {
  const w = protobuf.Writer.create();
  w.uint32((3 << 3) | 0).int64("9007199254740993");
  const header = w.finish();
  assert.throws(() => decodeLeniently(etcdserverpb.RangeResponse, message([[1, header]]), rangeResponseSchema), UnsafeIntegerError);
});
