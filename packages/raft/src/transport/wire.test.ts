import { test } from "node:test";
import assert from "node:assert/strict";
import { raftpb } from "@coxswain/proto";
import { EntryType, MessageType, message, type Message } from "../core/types.js";
import { TransportDecodeError, messageFromWire, messagesFromWire } from "./wire.js";

const at2 = { localId: 2, snapshotAllowed: false };

function roundTrip(fields: Parameters<typeof raftpb.Message.encode>[0]): ReturnType<typeof raftpb.Message.decode> {
  return raftpb.Message.decode(raftpb.Message.encode(fields).finish());
}

test("a decoded message becomes a plain core message with every field present", () => {
  const original: Message = message({
    type: MessageType.MSG_APP,
    to: 2,
    from: 1,
    term: 5,
    logTerm: 4,
    index: 10,
    commit: 9,
    entries: [{ term: 5, index: 11, type: EntryType.ENTRY_NORMAL, data: new Uint8Array([1, 2, 3]) }],
    context: new Uint8Array([9]),
  });
  const converted = messageFromWire(roundTrip(original), at2);
  assert.deepEqual(converted, original);
  assert.equal(Object.getPrototypeOf(converted), Object.prototype);
  assert.equal(converted.snapshot, null);
  assert.equal(Object.getPrototypeOf(converted.entries[0]?.data), Uint8Array.prototype);
});

test("fields left at their defaults on the wire come back as zero values", () => {
  const converted = messageFromWire(roundTrip({ type: MessageType.MSG_HEARTBEAT, to: 2, from: 3 }), at2);
  assert.deepEqual(converted, message({ type: MessageType.MSG_HEARTBEAT, to: 2, from: 3 }));
});

test("a MsgSnap keeps its snapshot metadata and data", () => {
  const snap = message({
    type: MessageType.MSG_SNAP,
    to: 2,
    from: 1,
    term: 3,
    snapshot: { data: new Uint8Array([7, 7]), metadata: { index: 50, term: 3, confState: { voters: [1, 2, 3], learners: [4] } } },
  });
  assert.deepEqual(messageFromWire(roundTrip(snap), { localId: 2, snapshotAllowed: true }), snap);
});

test("rejects an unknown message type", () => {
  assert.throws(() => messageFromWire(roundTrip({ type: 99 as MessageType, to: 2, from: 1 }), at2), {
    name: "TransportDecodeError",
    message: /unknown message type 99/,
  });
});

test("rejects a message without destination or sender", () => {
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_APP, to: 0, from: 1 }), at2), /no destination/);
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_APP, to: 2, from: 0 }), at2), /no sender/);
});

test("rejects a message addressed to another node", () => {
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_APP, to: 3, from: 1 }), at2), /addressed to node 3/);
});

test("rejects local message types arriving from a peer", () => {
  for (const type of [MessageType.MSG_HUP, MessageType.MSG_BEAT, MessageType.MSG_UNREACHABLE, MessageType.MSG_SNAP_STATUS, MessageType.MSG_CHECK_QUORUM]) {
    assert.throws(() => messageFromWire(roundTrip({ type, to: 2, from: 1 }), at2), TransportDecodeError);
  }
});

test("rejects a MsgSnap inside a message batch and a snapshot on any other type", () => {
  const snapshot = { data: new Uint8Array([1]), metadata: { index: 1, term: 1, confState: { voters: [1], learners: [] } } };
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_SNAP, to: 2, from: 1, snapshot }), at2), /must travel on SendSnapshot/);
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_APP, to: 2, from: 1, snapshot }), at2), /carries a snapshot/);
  assert.throws(() => messageFromWire(roundTrip({ type: MessageType.MSG_SNAP, to: 2, from: 1 }), { localId: 2, snapshotAllowed: true }), /without a snapshot/);
});

test("rejects an entry of unknown type", () => {
  const wire = roundTrip({ type: MessageType.MSG_APP, to: 2, from: 1, entries: [{ term: 1, index: 1, type: 7 as EntryType }] });
  assert.throws(() => messageFromWire(wire, at2), /entry of unknown type 7/);
});

test("one invalid message rejects the whole batch and names its position", () => {
  const batch = raftpb.MessageBatch.decode(
    raftpb.MessageBatch.encode({
      clusterToken: "t",
      messages: [
        { type: MessageType.MSG_APP, to: 2, from: 1 },
        { type: MessageType.MSG_APP, to: 0, from: 1 },
      ],
    }).finish(),
  );
  assert.throws(() => messagesFromWire(batch.messages, at2), /message 1 of the batch: .*no destination/);
});

test("defaults inherited from a decoded message's prototype are not taken as data", () => {
  // protobufjs keeps defaults on the prototype; for 64-bit fields they may be Long objects.
  const inherited = Object.assign(Object.create({ term: { low: 0, high: 0, unsigned: true }, commit: 42 }) as object, {
    type: MessageType.MSG_HEARTBEAT,
    to: 2,
    from: 1,
  });
  assert.deepEqual(messageFromWire(inherited, at2), message({ type: MessageType.MSG_HEARTBEAT, to: 2, from: 1 }));
});
