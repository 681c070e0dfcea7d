import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SnapshotOutOfDateError } from "../core/storage.js";
import type { MemoryStorage } from "../core/storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "../core/types.js";
import { type BrokenSnapshotReport, Snapshotter, snapshotFileName } from "../snap/snapshotter.js";
import { DurableLogStore } from "./durable-log-store.js";
import { type LogStore, MemoryLogStore } from "./log-store.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "coxswain-logstore-"));
  dirs.push(dir);
  return dir;
}

const conf: ConfState = { voters: [1, 2, 3], learners: [] };

function entries(first: number, last: number, term: number, sizeBytes = 8): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) out.push({ index: i, term, type: 0, data: new Uint8Array(sizeBytes).fill(i & 0xff) });
  return out;
}

const hs = (term: number, commit: number): HardState => ({ term, vote: 1, commit });

/** What the core can see through storage, as one comparable value. */
function view(storage: MemoryStorage): object {
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  const ents = last >= first ? storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER) : [];
  return {
    hardState: storage.initialState().hardState,
    confState: storage.initialState().confState,
    snapshot: { index: storage.snapshot().metadata.index, term: storage.snapshot().metadata.term },
    snapshotData: Buffer.from(storage.snapshot().data).toString(),
    first,
    last,
    entries: ents.map((e) => `${e.index}@${e.term}:${Buffer.from(e.data).toString("hex")}`),
  };
}

function leaderSnapshot(index: number, term: number): Snapshot {
  return { data: new TextEncoder().encode(`leader state at ${index}`), metadata: { index, term, confState: conf } };
}

/** The same script against both implementations must leave the same view. */
async function script(store: LogStore): Promise<void> {
  await store.persist(hs(1, 0), entries(1, 5, 1), null);
  await store.persist(hs(1, 5), entries(6, 10, 1), null);
  await store.persist(hs(2, 8), entries(9, 12, 2), null); // overwrites 9..10
  await store.createSnapshot(8, conf, new TextEncoder().encode("app state at 8"), 2);
}

describe("MemoryLogStore", () => {
  test("persist and createSnapshot update the storage the core reads", async () => {
    const store = new MemoryLogStore();
    await script(store);
    assert.deepEqual(view(store.storage), {
      hardState: hs(2, 8),
      confState: conf,
      snapshot: { index: 8, term: 1 },
      snapshotData: "app state at 8",
      first: 7,
      last: 12,
      entries: [...entries(7, 8, 1), ...entries(9, 12, 2)].map((e) => `${e.index}@${e.term}:${Buffer.from(e.data).toString("hex")}`),
    });
    await assert.rejects(store.createSnapshot(8, conf, new Uint8Array(0), 0), SnapshotOutOfDateError);
    await assert.rejects(store.persist(null, [], leaderSnapshot(5, 1)), SnapshotOutOfDateError);
  });
});

describe("DurableLogStore", () => {
  test("behaves like MemoryLogStore, and a reopened store shows the same log from its snapshot on", async () => {
    const dir = await tempDir();
    const durable = await DurableLogStore.open(dir);
    const memory = new MemoryLogStore();
    await script(durable);
    await script(memory);
    assert.deepEqual(view(durable.storage), view(memory.storage));
    await durable.close();

    const reopened = await DurableLogStore.open(dir);
    // After a restart the log starts right after the snapshot (the retained entries are not
    // needed: a follower that far behind gets the snapshot).
    assert.deepEqual(view(reopened.storage), { ...view(memory.storage), first: 9, entries: (view(memory.storage) as { entries: string[] }).entries.slice(2) });
    await reopened.persist(hs(2, 12), entries(13, 13, 2), null);
    await reopened.close();
    const again = await DurableLogStore.open(dir);
    assert.equal(again.storage.lastIndex(), 13);
    assert.deepEqual(again.storage.initialState().hardState, hs(2, 12));
    await again.close();
  });

  test("each persist costs one WAL fsync", async () => {
    const store = await DurableLogStore.open(await tempDir());
    const before = store.walStats.fsyncs;
    await store.persist(hs(1, 0), entries(1, 100, 1), null);
    assert.equal(store.walStats.fsyncs - before, 1);
    assert.equal(store.walStats.entriesWritten, 100);
    await store.close();
  });

  test("a snapshot from the leader replaces the log and survives a restart", async () => {
    const dir = await tempDir();
    const store = await DurableLogStore.open(dir);
    await store.persist(hs(1, 2), entries(1, 4, 1), null);
    await store.persist(hs(3, 50), entries(51, 52, 3), leaderSnapshot(50, 3));
    assert.equal(store.storage.firstIndex(), 51);
    assert.equal(store.storage.lastIndex(), 52);
    await store.close();

    const reopened = await DurableLogStore.open(dir);
    assert.deepEqual(reopened.storage.snapshot().metadata, leaderSnapshot(50, 3).metadata);
    assert.equal(Buffer.from(reopened.storage.snapshot().data).toString(), "leader state at 50");
    assert.equal(reopened.storage.firstIndex(), 51);
    assert.equal(reopened.storage.lastIndex(), 52);
    assert.deepEqual(reopened.storage.initialState().hardState, hs(3, 50));
    await reopened.close();
  });

  test("a damaged newest snapshot file falls back to the previous snapshot and the WAL entries after it", async () => {
    const dir = await tempDir();
    const store = await DurableLogStore.open(dir, { segmentSizeBytesMax: 4096 });
    for (let i = 1; i <= 60; i += 10) await store.persist(hs(1, i + 9), entries(i, i + 9, 1, 300), null);
    await store.createSnapshot(20, conf, new TextEncoder().encode("app at 20"), 0);
    await store.createSnapshot(40, conf, new TextEncoder().encode("app at 40"), 0);
    await store.close();

    const newest = join(dir, "snap", snapshotFileName(40, 1));
    const bytes = await readFile(newest);
    bytes[30] = bytes[30]! ^ 1;
    await writeFile(newest, bytes);

    const reports: BrokenSnapshotReport[] = [];
    const reopened = await DurableLogStore.open(dir, { segmentSizeBytesMax: 4096, onBrokenSnapshot: (r) => reports.push(r) });
    assert.equal(reports.length, 1);
    assert.equal(reopened.storage.snapshot().metadata.index, 20);
    assert.equal(Buffer.from(reopened.storage.snapshot().data).toString(), "app at 20");
    assert.equal(reopened.storage.firstIndex(), 21);
    assert.equal(reopened.storage.lastIndex(), 60);
    assert.deepEqual(reopened.storage.initialState().hardState, hs(1, 60));
    await reopened.close();
  });

  test("old WAL segments and snapshot files are released as snapshots are taken", async () => {
    const dir = await tempDir();
    const store = await DurableLogStore.open(dir, { segmentSizeBytesMax: 4096, snapshotsKeptMax: 2 });
    let next = 1;
    for (let round = 1; round <= 5; round++) {
      for (let k = 0; k < 4; k++, next += 10) await store.persist(hs(1, next + 9), entries(next, next + 9, 1, 300), null);
      await store.createSnapshot(next - 1, conf, new TextEncoder().encode(`app at ${next - 1}`), 5);
    }
    await store.close();
    const walFiles = await readdir(join(dir, "wal"));
    const snapFiles = await readdir(join(dir, "snap"));
    assert.equal(snapFiles.length, 2);
    // Without releases the WAL would hold about 200 entries of 300 bytes in 4 KiB segments.
    assert.ok(walFiles.length < 12, `${walFiles.length} segments kept`);
    const reopened = await DurableLogStore.open(dir, { segmentSizeBytesMax: 4096 });
    assert.equal(reopened.storage.snapshot().metadata.index, 200);
    assert.equal(reopened.storage.lastIndex(), 200);
    await reopened.close();
  });

  test("a snapshot file the WAL never marked (a crash in between) is not used", async () => {
    const dir = await tempDir();
    const store = await DurableLogStore.open(dir);
    await store.persist(hs(1, 10), entries(1, 10, 1), null);
    await store.close();
    await new Snapshotter(join(dir, "snap")).save({
      data: new TextEncoder().encode("app at 8"),
      metadata: { index: 8, term: 1, confState: conf },
    });
    const reopened = await DurableLogStore.open(dir);
    assert.equal(reopened.storage.snapshot().metadata.index, 0);
    assert.equal(reopened.storage.lastIndex(), 10);
    await reopened.close();
  });
});
