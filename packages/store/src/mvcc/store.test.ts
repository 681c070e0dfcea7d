import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom } from "@coxswain/raft";
import { keySpan, type ByteString, type KeySpan } from "../bytes.js";
import { CompactedError, FutureRevisionError } from "../errors.js";
import { MvccStore, type KeyVersion } from "./store.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const single = (key: string): KeySpan => ({ start: key, end: undefined });
const all: KeySpan = { start: "\x00", end: null };

function put(store: MvccStore, key: string, value: string, lease = 0): KeyVersion {
  const txn = store.write();
  const v = txn.put(key, value, lease);
  txn.end();
  return v;
}

function del(store: MvccStore, span: KeySpan): number {
  const txn = store.write();
  const n = txn.deleteRange(span).length;
  txn.end();
  return n;
}

function summary(versions: KeyVersion[]): string[] {
  return versions.map((v) => `${v.key}=${v.value}@${v.createRevision}/${v.main}/v${v.version}`);
}

test("revisions start at 1 and each write transaction takes the next one", () => {
  const store = new MvccStore();
  assert.equal(store.currentRevision, 1);
  const first = put(store, "a", "1");
  assert.equal(first.main, 2);
  assert.equal(store.currentRevision, 2);
  const txn = store.write();
  txn.put("b", "1", 0);
  txn.put("c", "1", 0);
  const changes = txn.end();
  assert.deepEqual(
    changes.map((c) => [c.main, c.sub]),
    [
      [3, 0],
      [3, 1],
    ],
  );
  assert.equal(store.currentRevision, 3);
  const empty = store.write();
  assert.equal(empty.end().length, 0);
  assert.equal(store.currentRevision, 3, "a transaction that changes nothing takes no revision");
});

test("a key keeps its create revision and counts versions until deleted", () => {
  const store = new MvccStore();
  put(store, "k", "v1");
  put(store, "k", "v2");
  assert.deepEqual(summary(store.range(single("k")).versions), ["k=v2@2/3/v2"]);
  assert.equal(del(store, single("k")), 1);
  assert.equal(store.range(single("k")).count, 0);
  put(store, "k", "v3");
  assert.deepEqual(summary(store.range(single("k")).versions), ["k=v3@5/5/v1"], "recreated key starts over");
});

test("ranges follow etcd's key conventions", () => {
  const store = new MvccStore();
  for (const k of ["a", "ab", "abc", "b", "\xff", "\xff\xff"]) put(store, k, "x");
  const keys = (span: KeySpan): string[] => store.range(span).versions.map((v) => v.key);
  assert.deepEqual(keys(keySpan(b("ab"), null)), ["ab"], "empty range_end: the single key");
  assert.deepEqual(keys(keySpan(b("ab"), b("b"))), ["ab", "abc"], "[key, range_end)");
  assert.deepEqual(keys(keySpan(b("ab"), b("\x00"))), ["ab", "abc", "b", "\xff", "\xff\xff"], "range_end \\0: every key >= key");
  assert.deepEqual(keys(keySpan(b("\x00"), b("\x00"))).length, 6, "key and range_end \\0: every key");
  assert.deepEqual(keys(keySpan(b("b"), b("a"))), [], "range_end before key: nothing");
  assert.deepEqual(keys(keySpan(b("\xff"), b("\x00"))), ["\xff", "\xff\xff"], "bytes compare unsigned");
});

test("limit bounds the versions returned but not the count", () => {
  const store = new MvccStore();
  for (const k of ["a", "b", "c", "d"]) put(store, k, "x");
  const limited = store.range(all, { limit: 2 });
  assert.deepEqual(
    limited.versions.map((v) => v.key),
    ["a", "b"],
  );
  assert.equal(limited.count, 4);
  const counted = store.range(all, { countOnly: true });
  assert.equal(counted.versions.length, 0);
  assert.equal(counted.count, 4);
});

test("reads at a past revision see the store as it was", () => {
  const store = new MvccStore();
  put(store, "a", "1"); // 2
  put(store, "b", "1"); // 3
  put(store, "a", "2"); // 4
  del(store, single("b")); // 5
  assert.deepEqual(summary(store.range(all, { revision: 3 }).versions), ["a=1@2/2/v1", "b=1@3/3/v1"]);
  assert.deepEqual(summary(store.range(all, { revision: 5 }).versions), ["a=2@2/4/v2"]);
  assert.equal(store.range(all, { revision: 1 }).count, 0);
  assert.equal(store.range(all, { revision: 3 }).revision, 5, "the result carries the current revision");
});

test("reading a future or compacted revision fails with etcd's errors", () => {
  const store = new MvccStore();
  for (let i = 0; i < 5; i++) put(store, "k", String(i)); // revisions 2..6
  assert.throws(
    () => store.range(all, { revision: 7 }),
    (e: unknown) =>
      e instanceof FutureRevisionError &&
      e.message === "mvcc: required revision is a future revision" &&
      e.grpcMessage === "etcdserver: mvcc: required revision is a future revision",
  );
  store.compact(4);
  assert.throws(
    () => store.range(all, { revision: 3 }),
    (e: unknown) => e instanceof CompactedError && e.message === "mvcc: required revision has been compacted" && e.compactRevision === 4,
  );
  assert.deepEqual(summary(store.range(all, { revision: 4 }).versions), ["k=2@2/4/v3"], "the compaction revision itself stays readable");
  assert.throws(() => store.compact(4), CompactedError, "compacting again at the same revision");
  assert.throws(() => store.compact(99), FutureRevisionError);
});

test("compaction frees superseded versions and deleted keys", () => {
  const store = new MvccStore();
  for (let i = 0; i < 100; i++) put(store, `key${i % 10}`, "v".repeat(100)); // revisions 2..101
  for (let i = 0; i < 5; i++) del(store, single(`key${i}`)); // 102..106
  put(store, "other", "x"); // 107
  const before = store.sizeBytes;
  assert.equal(store.keyCount, 11);
  store.compact(store.currentRevision);
  store.checkInvariants();
  assert.equal(store.keyCount, 6, "keys deleted before the compaction revision are gone");
  assert.ok(store.sizeBytes < before / 10, `size ${store.sizeBytes} shrank from ${before}`);
  assert.equal(store.range(all).count, 6);
  assert.equal(store.changeLogLength, 1, "only the compaction revision's change stays replayable");
});

test("a write transaction reads its own writes and commits them as one revision", () => {
  const store = new MvccStore();
  put(store, "a", "old");
  const txn = store.write();
  assert.equal(txn.readRevision, 2);
  txn.put("b", "new", 0);
  assert.equal(txn.readRevision, 3);
  assert.deepEqual(
    txn.range(all).versions.map((v) => v.key),
    ["a", "b"],
  );
  assert.equal(store.range(all).count, 1, "outside readers see only committed revisions");
  txn.deleteRange(single("a"));
  txn.end();
  assert.deepEqual(
    store.range(all).versions.map((v) => v.key),
    ["b"],
  );
  assert.equal(store.currentRevision, 3);
});

test("lease attachments follow puts and deletes", () => {
  const store = new MvccStore();
  const events: string[] = [];
  store.leaseAttachments = {
    attach: (lease, key) => events.push(`attach ${lease} ${key}`),
    detach: (lease, key) => events.push(`detach ${lease} ${key}`),
  };
  put(store, "k", "1", 7);
  put(store, "k", "2", 7);
  put(store, "k", "3", 8);
  del(store, single("k"));
  assert.deepEqual(events, ["attach 7 k", "detach 7 k", "attach 8 k", "detach 8 k"]);
});

// ---- randomized comparison against a naive model ----

interface ModelChange {
  key: ByteString;
  revision: number;
  value: ByteString | null; // null: deletion
}

class NaiveModel {
  changes: ModelChange[] = [];
  revision = 1;
  compacted = -1;

  latest(key: ByteString, atRevision: number): ModelChange | undefined {
    let found: ModelChange | undefined;
    for (const c of this.changes) if (c.key === key && c.revision <= atRevision) found = c;
    return found;
  }

  keyAt(key: ByteString, at: number): string | undefined {
    const mine = this.changes.filter((c) => c.key === key && c.revision <= at);
    const last = mine[mine.length - 1];
    if (!last || last.value === null) return undefined;
    let createIndex = mine.length - 1;
    while (createIndex > 0 && mine[createIndex - 1]!.value !== null) createIndex--;
    const create = mine[createIndex]!.revision;
    return `${key}=${last.value}@${create}/${last.revision}/v${mine.length - createIndex}`;
  }

  range(span: KeySpan, at: number): string[] {
    const keys = [...new Set(this.changes.map((c) => c.key))].sort();
    const inSpan = keys.filter((k) => (span.end === undefined ? k === span.start : k >= span.start && (span.end === null || k < span.end)));
    return inSpan.map((k) => this.keyAt(k, at)).filter((s): s is string => s !== undefined);
  }
}

const ALPHABET = ["\x00", "a", "b", "\x7f", "\xff"];

function randomKey(random: SeededRandom): ByteString {
  let key = "";
  const length = 1 + random.intn(3);
  for (let i = 0; i < length; i++) key += ALPHABET[random.intn(ALPHABET.length)]!;
  return key;
}

function randomSpan(random: SeededRandom): KeySpan {
  const kind = random.intn(4);
  const start = randomKey(random);
  if (kind === 0) return { start, end: undefined };
  if (kind === 1) return { start, end: null };
  if (kind === 2) return { start: "\x00", end: null };
  return { start, end: randomKey(random) };
}

test("range results at random historical revisions match a naive model, through compactions and a snapshot", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = new SeededRandom(seed);
    let store = new MvccStore();
    const model = new NaiveModel();
    const context = (step: number): string => `seed ${seed} step ${step} (replay: change the seed list to [${seed}])`;
    for (let step = 0; step < 600; step++) {
      const action = random.intn(20);
      if (action < 12) {
        // A transaction of 1-3 puts/deletes on distinct keys.
        const txn = store.write();
        const used = new Set<string>();
        const ops = 1 + random.intn(3);
        for (let i = 0; i < ops; i++) {
          const key = randomKey(random);
          if (used.has(key)) continue;
          used.add(key);
          if (random.intn(4) === 0) {
            const removed = txn.deleteRange({ start: key, end: undefined });
            for (const t of removed) model.changes.push({ key: t.key, revision: txn.revision, value: null });
          } else {
            const value = `v${step}.${i}`;
            txn.put(key, value, 0);
            model.changes.push({ key, revision: txn.revision, value });
          }
        }
        if (txn.end().length > 0) model.revision++;
      } else if (action < 14) {
        // A range delete; the model learns which keys it hit from the store's tombstones and
        // checks them against its own view.
        const span = randomSpan(random);
        const expected = model.range(span, model.revision).map((s) => s.slice(0, s.indexOf("=")));
        const txn = store.write();
        const removed = txn.deleteRange(span);
        assert.deepEqual(
          removed.map((t) => t.key),
          expected,
          context(step),
        );
        for (const t of removed) model.changes.push({ key: t.key, revision: txn.revision, value: null });
        if (txn.end().length > 0) model.revision++;
      } else if (action === 14 && model.revision > model.compacted + 1) {
        const at = model.compacted + 1 + random.intn(model.revision - model.compacted);
        store.compact(at);
        model.compacted = at;
        store.checkInvariants();
      } else if (action === 15) {
        // Round-trip through a snapshot of the histories.
        const histories: { key: string; versions: KeyVersion[] }[] = [];
        store.forEachHistory((h) => histories.push({ key: h.key, versions: [...h.versions] }));
        const restored = new MvccStore();
        restored.restore({ currentRevision: store.currentRevision, compactRevision: store.compactRevision, histories });
        restored.checkInvariants();
        assert.equal(restored.sizeBytes, store.sizeBytes, context(step));
        assert.equal(restored.changeLogLength, store.changeLogLength, context(step));
        store = restored;
      } else {
        const span = randomSpan(random);
        const lowest = Math.max(1, model.compacted);
        const at = lowest + random.intn(model.revision - lowest + 1);
        const got = summary(store.range(span, { revision: at }).versions);
        assert.deepEqual(got, model.range(span, at), `${context(step)}: range at ${at}`);
      }
      assert.equal(store.currentRevision, model.revision, context(step));
    }
    store.checkInvariants();
  }
});
