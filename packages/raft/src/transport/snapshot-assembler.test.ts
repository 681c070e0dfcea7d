import { test } from "node:test";
import assert from "node:assert/strict";
import type { raftpbTypes } from "@coxswain/proto";
import { MessageType, message, EMPTY_BYTES } from "../core/types.js";
import { SnapshotAssembler } from "./snapshot-assembler.js";

const token = "cluster-a";
const header = message({
  type: MessageType.MSG_SNAP,
  to: 2,
  from: 1,
  term: 4,
  snapshot: { data: EMPTY_BYTES, metadata: { index: 30, term: 4, confState: { voters: [1, 2], learners: [] } } },
});

function assembler(snapshotBytesMax = 1024): SnapshotAssembler {
  return new SnapshotAssembler({ localId: 2, clusterToken: token, snapshotBytesMax });
}

function chunk(fields: Partial<raftpbTypes.SnapshotChunk.$Properties>): raftpbTypes.SnapshotChunk.$Properties {
  return { clusterToken: token, header: null, data: new Uint8Array(0), offset: 0, last: false, ...fields };
}

test("reassembles contiguous chunks into the header's MsgSnap", () => {
  const a = assembler();
  a.accept(chunk({ header, data: new Uint8Array([1, 2]), offset: 0 }));
  a.accept(chunk({ data: new Uint8Array([3]), offset: 2 }));
  a.accept(chunk({ data: new Uint8Array([4, 5]), offset: 3, last: true }));
  const m = a.finish();
  assert.deepEqual(m, { ...header, snapshot: { ...header.snapshot!, data: new Uint8Array([1, 2, 3, 4, 5]) } });
  assert.equal(a.receivedChunks, 3);
});

test("an empty snapshot travels as one chunk", () => {
  const a = assembler();
  a.accept(chunk({ header, last: true }));
  assert.equal(a.finish().snapshot?.data.byteLength, 0);
});

test("refuses a first chunk without header and a second header", () => {
  assert.throws(() => assembler().accept(chunk({ data: new Uint8Array([1]) })), /no header/);
  const a = assembler();
  a.accept(chunk({ header, data: new Uint8Array([1]) }));
  assert.throws(() => a.accept(chunk({ header, data: new Uint8Array([2]), offset: 1 })), /second header/);
});

test("refuses a gap or overlap in offsets", () => {
  const a = assembler();
  a.accept(chunk({ header, data: new Uint8Array([1, 2]) }));
  assert.throws(() => a.accept(chunk({ data: new Uint8Array([3]), offset: 3 })), { name: "TransportDecodeError", message: /offset 3, expected 2/ });
  const b = assembler();
  b.accept(chunk({ header, data: new Uint8Array([1, 2]) }));
  assert.throws(() => b.accept(chunk({ data: new Uint8Array([3]), offset: 1 })), /offset 1, expected 2/);
});

test("refuses a snapshot above the size cap", () => {
  const a = assembler(4);
  a.accept(chunk({ header, data: new Uint8Array(3) }));
  assert.throws(() => a.accept(chunk({ data: new Uint8Array(2), offset: 3 })), { name: "SnapshotTooLargeError" });
});

test("refuses chunks from another cluster", () => {
  assert.throws(() => assembler().accept(chunk({ header, clusterToken: "cluster-b" })), { name: "ClusterTokenMismatchError" });
});

test("refuses chunks after the last one, empty middle chunks and an unfinished stream", () => {
  const a = assembler();
  a.accept(chunk({ header, data: new Uint8Array([1]), last: true }));
  assert.throws(() => a.accept(chunk({ data: new Uint8Array([2]), offset: 1 })), /after the last/);
  const b = assembler();
  b.accept(chunk({ header, data: new Uint8Array([1]) }));
  assert.throws(() => b.accept(chunk({ offset: 1 })), /is empty/);
  assert.throws(() => b.finish(), /ended before its last chunk/);
});

test("refuses a header that carries snapshot data or is not a MsgSnap", () => {
  const withData = { ...header, snapshot: { ...header.snapshot!, data: new Uint8Array([1]) } };
  assert.throws(() => assembler().accept(chunk({ header: withData })), /empty snapshot data/);
  assert.throws(() => assembler().accept(chunk({ header: { ...header, type: MessageType.MSG_APP, snapshot: null } })), /must be a MSG_SNAP, got MSG_APP/);
});
