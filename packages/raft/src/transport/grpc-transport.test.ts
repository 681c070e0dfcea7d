import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { EntryType, MessageType, message, type Message } from "../core/types.js";
import { GrpcTransport, type GrpcTransportOptions } from "./grpc-transport.js";
import { SEND_MESSAGES_PATH, SEND_SNAPSHOT_PATH, serializeMessageBatch, serializeSnapshotChunk } from "./service.js";
import { RecordingHandler, capturingLogger, freePort, rawClientStream, waitFor, type LogLine } from "./test-support.js";

const TOKEN = "test-cluster";
const open: GrpcTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Node {
  transport: GrpcTransport;
  handler: RecordingHandler;
  logs: LogLine[];
}

async function startNode(id: number, options: Partial<GrpcTransportOptions> = {}): Promise<Node> {
  const { logger, lines } = capturingLogger();
  const transport = new GrpcTransport({
    localId: id,
    listenAddress: "127.0.0.1:0",
    clusterToken: TOKEN,
    logger,
    reconnectDelayMsMin: 20,
    reconnectDelayMsMax: 200,
    ...options,
  });
  open.push(transport);
  const handler = new RecordingHandler();
  await transport.start(handler);
  return { transport, handler, logs: lines };
}

async function startPair(options: Partial<GrpcTransportOptions> = {}): Promise<[Node, Node]> {
  const a = await startNode(1, options);
  const b = await startNode(2, options);
  a.transport.addPeer(2, b.transport.listenAddress);
  b.transport.addPeer(1, a.transport.listenAddress);
  return [a, b];
}

function append(from: number, to: number, index: number, payload = new Uint8Array([index & 0xff])): Message {
  return message({
    type: MessageType.MSG_APP,
    from,
    to,
    term: 1,
    index,
    logTerm: 1,
    commit: index,
    entries: [{ term: 1, index: index + 1, type: EntryType.ENTRY_NORMAL, data: payload }],
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("two transports exchange batches in order, in both directions", async () => {
  const [a, b] = await startPair();
  const sent: Message[] = [];
  for (let turn = 0; turn < 30; turn++) {
    const batch = Array.from({ length: 10 }, (_, i) => append(1, 2, turn * 10 + i + 1));
    sent.push(...batch);
    a.transport.send(batch);
    await nextTurn();
  }
  await waitFor("300 messages at node 2", () => b.handler.received.length === 300);
  assert.deepEqual(b.handler.received, sent);

  b.transport.send([message({ type: MessageType.MSG_APP_RESP, from: 2, to: 1, term: 1, index: 300 })]);
  await waitFor("the response at node 1", () => a.handler.received.length === 1);
  assert.equal(a.handler.received[0]?.index, 300);
  assert.equal(a.transport.stats.messagesSent, 300);
  assert.equal(b.transport.stats.messagesReceived, 300);
  assert.deepEqual(a.handler.unreachable, []);
});

test("messages sent in one event-loop turn travel in few batches", async () => {
  const [a, b] = await startPair();
  const heartbeats = Array.from({ length: 1000 }, (_, i) => message({ type: MessageType.MSG_HEARTBEAT, from: 1, to: 2, term: 1, commit: i }));
  for (const m of heartbeats) a.transport.send([m]);
  await waitFor("1000 heartbeats", () => b.handler.received.length === 1000);
  assert.deepEqual(
    b.handler.received.map((m) => m.commit),
    heartbeats.map((m) => m.commit),
  );
  // All 1000 were queued before the flush, and they fit one batch.
  assert.equal(a.transport.stats.batchesSent, 1);
  assert.equal(b.transport.stats.batchesReceived, 1);
});

test("a batch never exceeds batchBytesMax unless one message alone does", async () => {
  const [a, b] = await startPair({ batchBytesMax: 64 * 1024 });
  const messages = Array.from({ length: 100 }, (_, i) => append(1, 2, i + 1, new Uint8Array(4096)));
  a.transport.send(messages);
  await waitFor("100 appends", () => b.handler.received.length === 100);
  // 100 × ~4 KiB in 64 KiB batches: at least 7 batches, and order is kept across them.
  assert.ok(a.transport.stats.batchesSent >= 7, `batches sent: ${a.transport.stats.batchesSent}`);
  assert.deepEqual(
    b.handler.received.map((m) => m.index),
    messages.map((m) => m.index),
  );
});

test("an 8 MiB snapshot crosses in bounded chunks and arrives byte-identical", async () => {
  const [a, b] = await startPair();
  const data = new Uint8Array(randomBytes(8 * 1024 * 1024));
  const snap = message({
    type: MessageType.MSG_SNAP,
    from: 1,
    to: 2,
    term: 3,
    snapshot: { data, metadata: { index: 1000, term: 3, confState: { voters: [1, 2, 3], learners: [4] } } },
  });
  a.transport.send([snap]);
  await waitFor("the snapshot report", () => a.handler.snapshotReports.length === 1);
  assert.deepEqual(a.handler.snapshotReports, [{ peerId: 2, ok: true }]);
  assert.equal(b.handler.received.length, 1);
  const got = b.handler.received[0]!;
  assert.equal(got.type, MessageType.MSG_SNAP);
  assert.deepEqual(got.snapshot?.metadata, snap.snapshot?.metadata);
  assert.ok(Buffer.from(got.snapshot!.data).equals(Buffer.from(data)), "snapshot data is byte-identical");
  assert.ok(b.transport.stats.snapshotChunksReceived >= 8, `chunks: ${b.transport.stats.snapshotChunksReceived}`);
  assert.equal(a.transport.stats.snapshotBytesSent, data.byteLength);
  assert.equal(b.transport.stats.snapshotBytesReceived, data.byteLength);
});

test("a snapshot above the receiver's cap is refused and reported failed", async () => {
  const a = await startNode(1);
  const b = await startNode(2, { snapshotBytesMax: 1024 * 1024 });
  a.transport.addPeer(2, b.transport.listenAddress);
  const snap = message({
    type: MessageType.MSG_SNAP,
    from: 1,
    to: 2,
    term: 1,
    snapshot: { data: new Uint8Array(3 * 1024 * 1024), metadata: { index: 9, term: 1, confState: { voters: [1, 2], learners: [] } } },
  });
  a.transport.send([snap]);
  await waitFor("the snapshot report", () => a.handler.snapshotReports.length === 1);
  assert.deepEqual(a.handler.snapshotReports, [{ peerId: 2, ok: false }]);
  assert.deepEqual(b.handler.received, []);
  assert.ok(b.logs.some((l) => l.event === "refused peer snapshot" && l.fields["code"] === "RESOURCE_EXHAUSTED"));
});

test("a peer that is down is reported unreachable, and gets messages once it is up", async () => {
  const port = await freePort();
  const a = await startNode(1);
  a.transport.addPeer(2, `127.0.0.1:${port}`);
  const heartbeat = (): void => a.transport.send([message({ type: MessageType.MSG_HEARTBEAT, from: 1, to: 2, term: 1 })]);
  heartbeat();
  await waitFor("node 2 reported unreachable", () => a.handler.unreachable.includes(2));
  assert.ok(a.logs.some((l) => l.event === "peer stream failed" && l.fields["code"] === "UNAVAILABLE"));

  const b = await startNode(2, { listenAddress: `127.0.0.1:${port}` });
  // Heartbeats repeat as the node loop would send them; those sent during backoff are dropped.
  await waitFor("a heartbeat at node 2 after it came up", () => b.handler.received.length > 0, heartbeat);
  assert.equal(b.handler.received[0]?.from, 1);
  await waitFor("the reconnect logged", () => a.logs.some((l) => l.event === "peer stream connected" && l.fields["peer"] === 2));
});

test("a peer that restarts gets messages again once its stream is reopened", async () => {
  const [a, b] = await startPair();
  const port = b.transport.port;
  a.transport.send([append(1, 2, 1)]);
  await waitFor("first message", () => b.handler.received.length === 1);
  await b.transport.close();
  const unreachableBefore = a.handler.unreachable.length;
  const heartbeat = (): void => a.transport.send([message({ type: MessageType.MSG_HEARTBEAT, from: 1, to: 2, term: 1 })]);
  await waitFor("the broken stream reported", () => a.handler.unreachable.length > unreachableBefore, heartbeat);
  const b2 = await startNode(2, { listenAddress: `127.0.0.1:${port}` });
  await waitFor("a heartbeat at the restarted node", () => b2.handler.received.length > 0, heartbeat);
});

test("batches from another cluster are refused and nothing is delivered", async () => {
  const a = await startNode(1, { clusterToken: "other-cluster" });
  const b = await startNode(2);
  a.transport.addPeer(2, b.transport.listenAddress);
  a.transport.send([append(1, 2, 1)]);
  await waitFor("the refusal", () => b.transport.stats.batchesRejected >= 1 && a.handler.unreachable.includes(2));
  assert.deepEqual(b.handler.received, []);
  assert.ok(b.logs.some((l) => l.level === "warn" && l.event === "refused peer batch" && l.fields["code"] === "FAILED_PRECONDITION"));

  const err = await rawClientStream(b.transport.listenAddress, SEND_MESSAGES_PATH, serializeMessageBatch, [
    { clusterToken: "other-cluster", messages: [append(1, 2, 1)] },
  ]);
  assert.equal(err?.code, grpc.status.FAILED_PRECONDITION);
  assert.match(err?.details ?? "", /cluster token mismatch/);
  assert.deepEqual(b.handler.received, []);
});

test("garbage and invalid messages end the stream with INVALID_ARGUMENT and the server keeps serving", async () => {
  const [a, b] = await startPair();
  const address = b.transport.listenAddress;
  const raw = (bytes: Buffer): Buffer => bytes;

  const garbage = await rawClientStream(address, SEND_MESSAGES_PATH, raw, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f])]);
  assert.equal(garbage?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(garbage?.details ?? "", /malformed MessageBatch/);

  const unknownType = await rawClientStream(address, SEND_MESSAGES_PATH, serializeMessageBatch, [
    { clusterToken: TOKEN, messages: [{ type: 99 as MessageType, to: 2, from: 1 }] },
  ]);
  assert.equal(unknownType?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(unknownType?.details ?? "", /unknown message type 99/);

  const noDestination = await rawClientStream(address, SEND_MESSAGES_PATH, serializeMessageBatch, [
    { clusterToken: TOKEN, messages: [append(1, 2, 1), { type: MessageType.MSG_APP, to: 0, from: 1 }] },
  ]);
  assert.equal(noDestination?.code, grpc.status.INVALID_ARGUMENT);

  const snapshotGarbage = await rawClientStream(address, SEND_SNAPSHOT_PATH, raw, [Buffer.from([0x0a, 0x7f, 0x01])]);
  assert.equal(snapshotGarbage?.code, grpc.status.INVALID_ARGUMENT);

  const snapshotGap = await rawClientStream(address, SEND_SNAPSHOT_PATH, serializeSnapshotChunk, [
    {
      clusterToken: TOKEN,
      header: message({
        type: MessageType.MSG_SNAP,
        from: 1,
        to: 2,
        snapshot: { data: new Uint8Array(0), metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } } },
      }),
      data: new Uint8Array([1, 2]),
      offset: 0,
    },
    { clusterToken: TOKEN, data: new Uint8Array([3]), offset: 5, last: true },
  ]);
  assert.equal(snapshotGap?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(snapshotGap?.details ?? "", /offset 5, expected 2/);

  assert.equal(b.handler.received.length, 0, "nothing from a refused batch is delivered");
  a.transport.send([append(1, 2, 7)]);
  await waitFor("a valid message after the garbage", () => b.handler.received.length === 1);
  assert.equal(b.handler.received[0]?.index, 7);
  assert.equal(b.transport.stats.batchesRejected, 5);
});

test("a full peer queue drops and counts instead of blocking", async () => {
  const port = await freePort();
  const a = await startNode(1, { peerQueueMessagesMax: 10 });
  a.transport.addPeer(2, `127.0.0.1:${port}`);
  a.transport.send(Array.from({ length: 25 }, (_, i) => append(1, 2, i + 1)));
  assert.equal(a.transport.stats.messagesDropped, 15);
});

test("messages to unknown peers are dropped and counted", async () => {
  const a = await startNode(1);
  a.transport.send([append(1, 9, 1)]);
  assert.equal(a.transport.stats.messagesDropped, 1);
  assert.ok(a.logs.some((l) => l.event === "dropping messages to unknown peer" && l.fields["peer"] === 9));
});

test("a second snapshot to a peer while one is in flight is reported failed", async () => {
  const [a, b] = await startPair();
  const snap = (index: number): Message =>
    message({
      type: MessageType.MSG_SNAP,
      from: 1,
      to: 2,
      term: 1,
      snapshot: { data: new Uint8Array(2 * 1024 * 1024), metadata: { index, term: 1, confState: { voters: [1, 2], learners: [] } } },
    });
  a.transport.send([snap(10), snap(11)]);
  await waitFor("both snapshot reports", () => a.handler.snapshotReports.length === 2);
  assert.deepEqual(
    [...a.handler.snapshotReports].sort((x, y) => Number(x.ok) - Number(y.ok)),
    [
      { peerId: 2, ok: false },
      { peerId: 2, ok: true },
    ],
  );
  assert.equal(b.handler.received.length, 1);
  assert.equal(b.handler.received[0]?.snapshot?.metadata.index, 10);
});

test("nothing is reported to the handler after close", async () => {
  const port = await freePort();
  const a = await startNode(1);
  a.transport.addPeer(2, `127.0.0.1:${port}`);
  a.transport.send([append(1, 2, 1)]);
  await a.transport.close();
  a.transport.send([append(1, 2, 2)]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(a.handler.unreachable, []);
});
