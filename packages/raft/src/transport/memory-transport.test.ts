import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageType, message, type Message } from "../core/types.js";
import { AssertionFailure } from "../core/assert.js";
import { MemoryNetwork, MemoryTransport } from "./memory-transport.js";
import { RecordingHandler } from "./test-support.js";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function cluster(
  ids: number[],
  network = new MemoryNetwork(),
): Promise<{ network: MemoryNetwork; nodes: Map<number, { transport: MemoryTransport; handler: RecordingHandler }> }> {
  const nodes = new Map<number, { transport: MemoryTransport; handler: RecordingHandler }>();
  for (const id of ids) {
    const transport = new MemoryTransport(network, id);
    const handler = new RecordingHandler();
    await transport.start(handler);
    nodes.set(id, { transport, handler });
  }
  return { network, nodes };
}

function heartbeat(from: number, to: number, commit = 0): Message {
  return message({ type: MessageType.MSG_HEARTBEAT, from, to, term: 1, commit });
}

function node(c: Awaited<ReturnType<typeof cluster>>, id: number): { transport: MemoryTransport; handler: RecordingHandler } {
  const n = c.nodes.get(id);
  assert.ok(n !== undefined);
  return n;
}

test("delivers asynchronously, in order, as copies", async () => {
  const c = await cluster([1, 2]);
  const sent = [heartbeat(1, 2, 1), heartbeat(1, 2, 2), heartbeat(1, 2, 3)];
  node(c, 1).transport.send(sent);
  assert.equal(node(c, 2).handler.received.length, 0, "nothing is delivered inside send");
  await nextTurn();
  assert.deepEqual(node(c, 2).handler.received, sent);
  assert.notEqual(node(c, 2).handler.received[0], sent[0], "the receiver gets its own copy");
});

test("a partition drops messages across it until healed", async () => {
  const c = await cluster([1, 2, 3]);
  c.network.partition([1], [2, 3]);
  node(c, 1).transport.send([heartbeat(1, 2)]);
  node(c, 2).transport.send([heartbeat(2, 3)]);
  await nextTurn();
  assert.equal(node(c, 2).handler.received.length, 0);
  assert.equal(node(c, 3).handler.received.length, 1);
  assert.equal(c.network.stats.dropped, 1);

  c.network.heal();
  node(c, 1).transport.send([heartbeat(1, 2)]);
  await nextTurn();
  assert.equal(node(c, 2).handler.received.length, 1);
});

test("isolate cuts one node off and a drop rule loses chosen messages", async () => {
  const c = await cluster([1, 2, 3]);
  c.network.isolate(3);
  node(c, 1).transport.send([heartbeat(1, 3), heartbeat(1, 2)]);
  await nextTurn();
  assert.equal(node(c, 3).handler.received.length, 0);
  assert.equal(node(c, 2).handler.received.length, 1);

  c.network.heal();
  c.network.setDropRule((m) => m.type === MessageType.MSG_HEARTBEAT);
  node(c, 1).transport.send([heartbeat(1, 2), message({ type: MessageType.MSG_APP, from: 1, to: 2, term: 1 })]);
  await nextTurn();
  assert.deepEqual(
    node(c, 2)
      .handler.received.slice(1)
      .map((m) => m.type),
    [MessageType.MSG_APP],
  );
});

test("a node that is not on the network is reported unreachable", async () => {
  const c = await cluster([1, 2]);
  await node(c, 2).transport.close();
  node(c, 1).transport.send([heartbeat(1, 2), heartbeat(1, 9)]);
  await nextTurn();
  assert.deepEqual(node(c, 1).handler.unreachable, [2, 9]);
});

test("snapshots report success when delivered and failure when lost", async () => {
  const c = await cluster([1, 2]);
  const snap = message({
    type: MessageType.MSG_SNAP,
    from: 1,
    to: 2,
    term: 1,
    snapshot: { data: new Uint8Array([1, 2, 3]), metadata: { index: 5, term: 1, confState: { voters: [1, 2], learners: [] } } },
  });
  node(c, 1).transport.send([snap]);
  await nextTurn();
  assert.deepEqual(node(c, 2).handler.received, [snap]);
  c.network.isolate(2);
  node(c, 1).transport.send([snap]);
  await nextTurn();
  assert.deepEqual(node(c, 1).handler.snapshotReports, [
    { peerId: 2, ok: true },
    { peerId: 2, ok: false },
  ]);
});

test("removed peers and a full per-peer queue drop and count", async () => {
  const network = new MemoryNetwork();
  const a = new MemoryTransport(network, 1, { peerQueueMessagesMax: 2 });
  const handler = new RecordingHandler();
  await a.start(handler);
  const c = await cluster([2], network);
  a.send([heartbeat(1, 2, 1), heartbeat(1, 2, 2), heartbeat(1, 2, 3)]);
  assert.equal(a.stats.messagesDropped, 1);
  a.removePeer(2);
  a.send([heartbeat(1, 2, 4)]);
  assert.equal(a.stats.messagesDropped, 2);
  a.addPeer(2, "ignored");
  await nextTurn();
  a.send([heartbeat(1, 2, 5)]);
  await nextTurn();
  assert.deepEqual(
    node(c, 2).handler.received.map((m) => m.commit),
    [1, 2, 5],
  );
});

test("a message a real peer would refuse fails loudly at send", async () => {
  const c = await cluster([1, 2]);
  assert.throws(() => node(c, 1).transport.send([message({ type: MessageType.MSG_HUP, from: 1, to: 2 })]), AssertionFailure);
});
