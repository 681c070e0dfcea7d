import assert from "node:assert/strict";
import { open, readdir, rm, mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AssertionFailure } from "../core/assert.js";
import type { Entry, HardState } from "../core/types.js";
import { WalClosedError } from "./errors.js";
import { Wal } from "./wal.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "coxswain-wal-"));
  dirs.push(dir);
  return dir;
}

/** An entry whose data says which index and term wrote it, so stale content is recognisable. */
function entry(index: number, term: number, sizeBytes = 16): Entry {
  const data = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type: 0, data };
}

function entries(first: number, last: number, term: number, sizeBytes = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) out.push(entry(i, term, sizeBytes));
  return out;
}

function hardState(term: number, commit: number): HardState {
  return { term, vote: 1, commit };
}

function summary(ents: Entry[]): string[] {
  return ents.map((e) => `${e.index}@${e.term}`);
}

function assertEntriesEqual(actual: Entry[], expected: Entry[]): void {
  assert.deepEqual(summary(actual), summary(expected));
  for (let k = 0; k < expected.length; k++) {
    assert.deepEqual(Buffer.from(actual[k]!.data), Buffer.from(expected[k]!.data), `data of entry ${expected[k]!.index}`);
    assert.equal(actual[k]!.type, expected[k]!.type);
  }
}

describe("Wal", () => {
  test("a new WAL recovers nothing", async () => {
    const { wal, recovered } = await Wal.open(await tempDir());
    assert.deepEqual(recovered.entries, []);
    assert.deepEqual(recovered.hardState, { term: 0, vote: 0, commit: 0 });
    assert.equal(recovered.snapshot, null);
    assert.equal(recovered.tornTail, null);
    await wal.close();
  });

  test("what was saved is recovered after reopening", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    const written = [...entries(1, 3, 1), ...entries(4, 10, 2, 1000)];
    written[5] = { ...written[5]!, type: 1 };
    await first.wal.save(hardState(1, 0), written.slice(0, 3));
    await first.wal.save(hardState(2, 7), written.slice(3));
    await first.wal.save(hardState(2, 9), []);
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir);
    assertEntriesEqual(recovered.entries, written);
    assert.deepEqual(recovered.hardState, hardState(2, 9));
    assert.equal(recovered.snapshot, null);
    await wal.close();
  });

  test("an append at index i replaces what the WAL held at i and after", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    await first.wal.save(hardState(1, 2), entries(1, 8, 1));
    // A new leader overwrites the conflicting suffix from 5 on, with fewer entries than before.
    await first.wal.save(hardState(2, 4), entries(5, 6, 2));
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir);
    assertEntriesEqual(recovered.entries, [...entries(1, 4, 1), ...entries(5, 6, 2)]);
    await wal.save(null, entries(7, 7, 2));
    await wal.close();
    const again = await Wal.open(dir);
    assertEntriesEqual(again.recovered.entries, [...entries(1, 4, 1), ...entries(5, 7, 2)]);
    await again.wal.close();
  });

  test("every save costs exactly one fdatasync, however many entries it holds", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    // Count the real calls too, so the counter cannot drift from what the WAL does.
    const probe = await open(join(dir, "probe"), "w");
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> };
    await probe.close();
    const { datasync, sync } = proto;
    let calls = 0;
    proto.datasync = function (this: unknown) {
      calls++;
      return datasync.call(this);
    };
    proto.sync = function (this: unknown) {
      calls++;
      return sync.call(this);
    };
    try {
      let index = 1;
      for (const batchSize of [1, 10, 500]) {
        const statsBefore = wal.stats.fsyncs;
        const callsBefore = calls;
        await wal.save(hardState(1, index), entries(index, index + batchSize - 1, 1));
        index += batchSize;
        assert.equal(calls - callsBefore, 1, `real sync calls for a batch of ${batchSize}`);
        assert.equal(wal.stats.fsyncs - statsBefore, 1, `counted syncs for a batch of ${batchSize}`);
      }
      assert.equal(wal.stats.entriesWritten, 511);
      assert.equal(wal.stats.recordsWritten, 1 + 511 + 3); // segment header, entries, hard states
    } finally {
      proto.datasync = datasync;
      proto.sync = sync;
    }
    await wal.close();
  });

  test("a save with nothing in it writes nothing", async () => {
    const { wal } = await Wal.open(await tempDir());
    const before = { ...wal.stats };
    await wal.save(null, []);
    assert.deepEqual(wal.stats, before);
    await wal.close();
  });

  test("concurrent saves are written in call order", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    await Promise.all([first.wal.save(null, entries(1, 3, 1)), first.wal.save(null, entries(4, 6, 1)), first.wal.save(hardState(1, 6), entries(7, 9, 1))]);
    await first.wal.close();
    const { wal, recovered } = await Wal.open(dir);
    assertEntriesEqual(recovered.entries, entries(1, 9, 1));
    assert.deepEqual(recovered.hardState, hardState(1, 6));
    await wal.close();
  });

  test("segments roll over at the size cap and recovery reads across them", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir, { segmentSizeBytesMax: 4096 });
    for (let i = 1; i <= 60; i += 5) await first.wal.save(hardState(1, i), entries(i, i + 4, 1, 500));
    const files = first.wal.segmentFiles();
    assert.ok(files.length >= 6, `expected several segments, got ${files.length}`);
    for (const file of files.slice(0, -1)) assert.ok((await stat(file)).size >= 4096);
    assert.match(files[1]!, /0000000000000001-[0-9a-f]{16}\.wal$/);
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir, { segmentSizeBytesMax: 4096 });
    assertEntriesEqual(recovered.entries, entries(1, 60, 1, 500));
    assert.deepEqual(recovered.hardState, hardState(1, 56));
    await wal.close();
  });

  test("releaseTo deletes only whole segments below the index, and recovery still has the hard state", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir, { segmentSizeBytesMax: 4096 });
    // The hard state is written once, in the first segment: segment heads must carry it on.
    await first.wal.save(hardState(3, 1), entries(1, 5, 3, 500));
    for (let i = 6; i <= 60; i += 5) await first.wal.save(null, entries(i, i + 4, 3, 500));
    await first.wal.saveSnapshotMarker({ index: 30, term: 3 });
    const before = first.wal.segmentFiles();
    await first.wal.releaseTo(30);
    const kept = first.wal.segmentFiles();
    assert.ok(kept.length < before.length, "some segments were released");
    assert.deepEqual(kept, before.slice(before.length - kept.length));
    assert.deepEqual((await readdir(dir)).sort(), kept.map((f) => f.slice(dir.length + 1)).sort());
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir, { segmentSizeBytesMax: 4096 });
    assert.deepEqual(recovered.snapshot, { index: 30, term: 3 });
    assertEntriesEqual(recovered.entries, entries(31, 60, 3, 500));
    assert.deepEqual(recovered.hardState, hardState(3, 1));
    await wal.close();
  });

  test("releaseTo refuses to release past the newest snapshot marker", async () => {
    const { wal } = await Wal.open(await tempDir(), { segmentSizeBytesMax: 4096 });
    await wal.save(null, entries(1, 20, 1, 500));
    await wal.saveSnapshotMarker({ index: 10, term: 1 });
    await assert.rejects(wal.releaseTo(11), AssertionFailure);
    await wal.close();
  });

  test("the newest snapshot marker decides where recovered entries start, older ones remain usable", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    await first.wal.save(hardState(1, 10), entries(1, 10, 1));
    await first.wal.saveSnapshotMarker({ index: 4, term: 1 });
    await first.wal.save(hardState(1, 12), entries(11, 12, 1));
    await first.wal.saveSnapshotMarker({ index: 8, term: 1 });
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir);
    assert.deepEqual(recovered.snapshot, { index: 8, term: 1 });
    assert.deepEqual(recovered.markers, [
      { index: 8, term: 1 },
      { index: 4, term: 1 },
    ]);
    assertEntriesEqual(recovered.entries, entries(9, 12, 1));
    assertEntriesEqual(recovered.entriesAfter({ index: 4, term: 1 })!, entries(5, 12, 1));
    assertEntriesEqual(recovered.entriesAfter(null)!, entries(1, 12, 1));
    await wal.close();
  });

  test("a snapshot from the leader that does not match the log replaces it", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    await first.wal.save(hardState(1, 3), entries(1, 6, 1));
    // Snapshot at 20 from a leader of term 4, followed by the entries after it, in one save.
    await first.wal.save(hardState(4, 20), entries(21, 22, 4), { index: 20, term: 4 });
    await first.wal.close();

    const { wal, recovered } = await Wal.open(dir);
    assert.deepEqual(recovered.snapshot, { index: 20, term: 4 });
    assertEntriesEqual(recovered.entries, entries(21, 22, 4));
    assert.equal(recovered.entriesAfter(null), null, "the entries before the leader's snapshot are gone");
    await wal.close();
  });

  test("leftover temporary segment files are removed on open", async () => {
    const dir = await tempDir();
    const first = await Wal.open(dir);
    await first.wal.save(null, entries(1, 2, 1));
    await first.wal.close();
    await writeFile(join(dir, "0000000000000001-0000000000000003.wal.tmp"), "half a segment head");
    const { wal, recovered } = await Wal.open(dir);
    assertEntriesEqual(recovered.entries, entries(1, 2, 1));
    assert.deepEqual(await readdir(dir), ["0000000000000000-0000000000000001.wal"]);
    await wal.close();
  });

  test("operations after close fail with WalClosedError", async () => {
    const { wal } = await Wal.open(await tempDir());
    await wal.close();
    await assert.rejects(wal.save(null, entries(1, 1, 1)), WalClosedError);
  });
});
