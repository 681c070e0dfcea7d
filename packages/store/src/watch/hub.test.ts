import { test } from "node:test";
import assert from "node:assert/strict";
import { etcdserverpb, mvccpb } from "@coxswain/proto";
import { SeededRandom } from "@coxswain/raft";
import { type KeySpan } from "../bytes.js";
import { MvccStore, type KeyVersion } from "../mvcc/store.js";
import { STREAM_WATCH_ID, WatchHub, type WatchResponse, type WatchStream } from "./hub.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const PUT = mvccpb.Event.EventType.PUT;
const { NOPUT, NODELETE } = etcdserverpb.WatchCreateRequest.FilterType;

function put(store: MvccStore, key: string, value: string): void {
  const txn = store.write();
  txn.put(key, value, 0);
  txn.end();
}

function del(store: MvccStore, span: KeySpan): void {
  const txn = store.write();
  txn.deleteRange(span);
  txn.end();
}

/** Events as "PUT k=v@rev" / "DELETE k@rev" strings, per watch id. */
function eventsOf(responses: WatchResponse[], watchId: number): string[] {
  return responses
    .filter((r) => r.watchId === watchId)
    .flatMap((r) =>
      r.events.map((e) => {
        const key = Buffer.from(e.kv.key).toString("latin1");
        const prev = e.prevKv ? ` prev=${Buffer.from(e.prevKv.value).toString("latin1")}` : "";
        return e.type === PUT
          ? `PUT ${key}=${Buffer.from(e.kv.value).toString("latin1")}@${e.kv.modRevision}${prev}`
          : `DELETE ${key}@${e.kv.modRevision}${prev}`;
      }),
    );
}

function setup(limits = {}): { store: MvccStore; hub: WatchHub; stream: WatchStream } {
  const store = new MvccStore();
  const hub = new WatchHub(store, limits);
  return { store, hub, stream: hub.openStream() };
}

test("a watch from now gets a created response, then each change to its key as it commits", () => {
  const { store, stream } = setup();
  put(store, "a", "0");
  const id = stream.watch({ key: b("a") });
  assert.equal(id, 0, "a stream's first watch id is 0, as in etcd");
  put(store, "a", "1");
  put(store, "b", "x");
  del(store, { start: "a", end: undefined });
  const responses = stream.take();
  assert.deepEqual(responses[0], { header: { revision: 2 }, watchId: 0, created: true, events: [] });
  assert.deepEqual(eventsOf(responses, id), ["PUT a=1@3", "DELETE a@5"]);
  assert.deepEqual(
    responses.slice(1).map((r) => r.header.revision),
    [3, 5],
  );
});

test("prefix and from-key watches see every key in their range", () => {
  const { store, stream } = setup();
  const prefix = stream.watch({ key: b("app/"), rangeEnd: b("app0") });
  const fromKey = stream.watch({ key: b("b"), rangeEnd: b("\x00") });
  for (const k of ["app/x", "apple", "b", "zzz", "app/y"]) put(store, k, "v");
  const responses = stream.take();
  assert.deepEqual(eventsOf(responses, prefix), ["PUT app/x=v@2", "PUT app/y=v@6"]);
  assert.deepEqual(eventsOf(responses, fromKey), ["PUT b=v@4", "PUT zzz=v@5"]);
});

test("a watch from a past revision replays history first, then continues live, in order", () => {
  const { store, stream } = setup();
  put(store, "k", "1"); // 2
  put(store, "k", "2"); // 3
  del(store, { start: "k", end: undefined }); // 4
  const id = stream.watch({ key: b("k"), startRevision: 3, prevKv: true });
  put(store, "k", "3"); // 5
  const responses = stream.take();
  assert.deepEqual(eventsOf(responses, id), ["PUT k=2@3 prev=1", "DELETE k@4 prev=2", "PUT k=3@5"]);
});

test("a watch from a future revision waits for it", () => {
  const { store, stream } = setup();
  const id = stream.watch({ key: b("k"), startRevision: 4 });
  put(store, "k", "1"); // 2
  put(store, "k", "2"); // 3
  put(store, "k", "3"); // 4
  assert.deepEqual(eventsOf(stream.take(), id), ["PUT k=3@4"]);
});

test("filters drop puts or deletes", () => {
  const { store, stream } = setup();
  const noPut = stream.watch({ key: b("k"), filters: [NOPUT] });
  const noDelete = stream.watch({ key: b("k"), filters: [NODELETE] });
  put(store, "k", "1");
  del(store, { start: "k", end: undefined });
  const responses = stream.take();
  assert.deepEqual(eventsOf(responses, noPut), ["DELETE k@3"]);
  assert.deepEqual(eventsOf(responses, noDelete), ["PUT k=1@2"]);
});

test("a watch on compacted history gets the compacted response and ends", () => {
  const { store, hub, stream } = setup();
  for (let i = 0; i < 5; i++) put(store, "k", String(i)); // 2..6
  store.compact(5);
  const id = stream.watch({ key: b("k"), startRevision: 3 });
  const responses = stream.take();
  assert.equal(responses.length, 2);
  assert.equal(responses[0]!.created, true);
  assert.deepEqual(responses[1], { header: { revision: 6 }, watchId: id, compactRevision: 5, canceled: true, events: [] });
  assert.equal(hub.watcherCount, 0);
  const atCompaction = stream.watch({ key: b("k"), startRevision: 5 });
  assert.deepEqual(eventsOf(stream.take(), atCompaction), ["PUT k=3@5", "PUT k=4@6"], "the compaction revision itself replays");
});

test("invalid watches are answered created and canceled with etcd's reason", () => {
  const { stream } = setup();
  assert.equal(stream.watch({ key: b("b"), rangeEnd: b("a") }), STREAM_WATCH_ID);
  assert.equal(stream.watch({ key: b("k"), watchId: 7 }), 7);
  assert.equal(stream.watch({ key: b("k"), watchId: 7 }), STREAM_WATCH_ID);
  const responses = stream.take();
  assert.deepEqual(
    responses.filter((r) => r.canceled).map((r) => r.cancelReason),
    ["mvcc: watcher range is empty", "mvcc: duplicate watch ID provided on the WatchStream"],
  );
});

test("auto-assigned ids skip ids the client chose", () => {
  const { stream } = setup();
  assert.equal(stream.watch({ key: b("a"), watchId: 1 }), 1);
  assert.equal(stream.watch({ key: b("a") }), 0);
  assert.equal(stream.watch({ key: b("a") }), 2);
});

test("cancel stops events and answers canceled; unknown ids are ignored", () => {
  const { store, hub, stream } = setup();
  const id = stream.watch({ key: b("k") });
  stream.take();
  assert.equal(stream.cancel(id), true);
  assert.equal(stream.cancel(42), false);
  put(store, "k", "1");
  assert.deepEqual(stream.take(), [{ header: { revision: 1 }, watchId: id, canceled: true, events: [] }]);
  assert.equal(hub.watcherCount, 0);
});

test("a slow reader's watcher falls back to replay and still gets every event once, in order", () => {
  const { store, hub, stream } = setup({ watcherEventsQueuedMax: 3, streamResponsesQueuedMax: 2, replayEventsPerResponseMax: 2 });
  const id = stream.watch({ key: b("k") });
  for (let i = 0; i < 20; i++) put(store, "k", String(i));
  assert.equal(hub.unsyncedCount, 1, "the unread queue filled up");
  assert.ok(stream.pendingCount <= 3, `bounded queue, got ${stream.pendingCount}`);
  const received: WatchResponse[] = [];
  for (let rounds = 0; rounds < 100 && (stream.pendingCount > 0 || hub.unsyncedCount > 0); rounds++) {
    received.push(...stream.take(1));
  }
  assert.equal(hub.unsyncedCount, 0);
  assert.deepEqual(
    eventsOf(received, id),
    Array.from({ length: 20 }, (_, i) => `PUT k=${i}@${i + 2}`),
  );
  put(store, "k", "live");
  assert.deepEqual(eventsOf(stream.take(), id), ["PUT k=live@22"], "synced again: live delivery");
});

test("a progress request waits until every watcher on the stream is synced", () => {
  const { store, hub, stream } = setup({ replayScanChangesMax: 2 });
  for (let i = 0; i < 10; i++) put(store, "k", String(i)); // 2..11
  stream.watch({ key: b("other"), startRevision: 2 });
  assert.equal(hub.unsyncedCount, 1);
  stream.requestProgress();
  assert.equal(
    stream.take().some((r) => r.watchId === STREAM_WATCH_ID),
    false,
  );
  while (hub.syncUnsynced()) {
    /* replay in small steps */
  }
  const responses = stream.take();
  assert.deepEqual(responses, [{ header: { revision: 11 }, watchId: STREAM_WATCH_ID, events: [] }]);
});

test("progress notifications go to idle watchers that asked for them", () => {
  const { store, hub, stream } = setup();
  const notified = stream.watch({ key: b("a"), progressNotify: true });
  const busy = stream.watch({ key: b("b"), progressNotify: true });
  stream.watch({ key: b("c") });
  stream.take();
  put(store, "b", "1");
  hub.progressTick();
  const responses = stream.take();
  assert.deepEqual(
    responses.map((r) => [r.watchId, r.events.length, r.header.revision]),
    [
      [busy, 1, 2],
      [notified, 0, 2],
    ],
  );
});

test("a restore replays what the snapshot brought to synced watchers", () => {
  const { store, hub, stream } = setup();
  const id = stream.watch({ key: b("k") });
  put(store, "k", "1"); // 2
  stream.take();
  // Another member's state, further ahead.
  const other = new MvccStore();
  for (const v of ["1", "2", "3"]) put(other, "k", v);
  const histories: { key: string; versions: KeyVersion[] }[] = [];
  other.forEachHistory((h) => histories.push({ key: h.key, versions: [...h.versions] }));
  store.restore({ currentRevision: other.currentRevision, compactRevision: -1, histories });
  assert.equal(hub.unsyncedCount, 1);
  hub.syncUnsynced();
  assert.deepEqual(eventsOf(stream.take(), id), ["PUT k=2@3", "PUT k=3@4"]);
});

test("random writes and a randomly slow reader: every watcher sees exactly its changes, in order", () => {
  for (const seed of [11, 12, 13]) {
    const random = new SeededRandom(seed);
    const store = new MvccStore();
    const hub = new WatchHub(store, { watcherEventsQueuedMax: 5, streamResponsesQueuedMax: 4, replayEventsPerResponseMax: 3, replayScanChangesMax: 7 });
    const stream = hub.openStream();
    const keys = ["a", "b", "c", "d"];
    const watches = [
      { id: stream.watch({ key: b("a") }), matches: (k: string) => k === "a" },
      { id: stream.watch({ key: b("b"), rangeEnd: b("d") }), matches: (k: string) => k >= "b" && k < "d" },
      { id: stream.watch({ key: b("\x00"), rangeEnd: b("\x00") }), matches: () => true },
    ];
    const expected = new Map<number, string[]>(watches.map((w) => [w.id, []]));
    const received: WatchResponse[] = [];
    for (let step = 0; step < 400; step++) {
      const r = random.intn(10);
      if (r < 6) {
        const key = keys[random.intn(keys.length)]!;
        const txn = store.write();
        const value = `v${step}`;
        txn.put(key, value, 0);
        txn.end();
        for (const w of watches) if (w.matches(key)) expected.get(w.id)!.push(`PUT ${key}=${value}@${store.currentRevision}`);
      } else if (r < 7) {
        const txn = store.write();
        const gone = txn.deleteRange({ start: "b", end: "d" });
        txn.end();
        for (const t of gone) for (const w of watches) if (w.matches(t.key)) expected.get(w.id)!.push(`DELETE ${t.key}@${t.main}`);
      } else if (r < 9) {
        received.push(...stream.take(random.intn(3)));
      } else {
        hub.syncUnsynced();
      }
    }
    for (let rounds = 0; rounds < 1000 && (stream.pendingCount > 0 || hub.unsyncedCount > 0); rounds++) {
      received.push(...stream.take());
      hub.syncUnsynced();
    }
    for (const w of watches) assert.deepEqual(eventsOf(received, w.id), expected.get(w.id), `seed ${seed} watch ${w.id}`);
  }
});
