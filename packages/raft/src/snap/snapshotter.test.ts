import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Snapshot } from "../core/types.js";
import { type BrokenSnapshotReport, Snapshotter, snapshotFileName } from "./snapshotter.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "coxswain-snap-"));
  dirs.push(dir);
  return dir;
}

function snapshot(index: number, term: number, text = `state at ${index}`): Snapshot {
  return {
    data: new TextEncoder().encode(text),
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [4] } },
  };
}

function collecting(): { reports: BrokenSnapshotReport[]; snapshotter: (dir: string) => Snapshotter } {
  const reports: BrokenSnapshotReport[] = [];
  return { reports, snapshotter: (dir) => new Snapshotter(dir, { onBroken: (r) => reports.push(r) }) };
}

function assertSnapshotEqual(actual: Snapshot | null, expected: Snapshot): void {
  assert.ok(actual !== null);
  assert.deepEqual(actual.metadata, expected.metadata);
  assert.deepEqual(Buffer.from(actual.data), Buffer.from(expected.data));
}

describe("Snapshotter", () => {
  test("a saved snapshot loads back with its data and configuration", async () => {
    const snapshotter = new Snapshotter(await tempDir());
    assert.equal(await snapshotter.loadNewest(), null);
    await snapshotter.save(snapshot(10, 2));
    await snapshotter.save(snapshot(20, 3));
    assertSnapshotEqual(await snapshotter.loadNewest(), snapshot(20, 3));
    assertSnapshotEqual(await snapshotter.loadAt(10, 2), snapshot(10, 2));
    assert.equal(await snapshotter.loadAt(10, 3), null, "a snapshot with another term is another snapshot");
  });

  test("a snapshot directory that does not exist yet holds no snapshots", async () => {
    const snapshotter = new Snapshotter(join(await tempDir(), "not-yet"));
    assert.equal(await snapshotter.loadNewest(), null);
    assert.deepEqual(await snapshotter.list(), []);
    assert.equal(await snapshotter.prune(1), 0);
  });

  test("a leftover temporary file from a crash during save is ignored and later pruned", async () => {
    const dir = await tempDir();
    const { reports, snapshotter } = collecting();
    const s = snapshotter(dir);
    await s.save(snapshot(10, 2));
    // A crash after writing part of a newer snapshot, before its rename.
    await writeFile(join(dir, snapshotFileName(30, 3) + ".tmp"), "COXSNAP1 and then the crash");
    assertSnapshotEqual(await s.loadNewest(), snapshot(10, 2));
    assert.deepEqual(reports, []);
    await s.prune(5);
    assert.deepEqual(await readdir(dir), [snapshotFileName(10, 2)]);
  });

  test("a damaged newest snapshot is set aside as *.broken and the next older one loaded", async () => {
    const dir = await tempDir();
    const { reports, snapshotter } = collecting();
    const s = snapshotter(dir);
    await s.save(snapshot(10, 2));
    await s.save(snapshot(20, 3));
    const newest = join(dir, snapshotFileName(20, 3));
    const bytes = await readFile(newest);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x10;
    await writeFile(newest, bytes);

    assertSnapshotEqual(await s.loadNewest(), snapshot(10, 2));
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.file, newest);
    assert.match(reports[0]!.reason, /checksum/);
    assert.deepEqual((await readdir(dir)).sort(), [snapshotFileName(10, 2), snapshotFileName(20, 3) + ".broken"].sort());
  });

  test("a truncated snapshot file is damaged", async () => {
    const dir = await tempDir();
    const { reports, snapshotter } = collecting();
    const s = snapshotter(dir);
    await s.save(snapshot(10, 2, "x".repeat(1000)));
    const path = join(dir, snapshotFileName(10, 2));
    await writeFile(path, (await readFile(path)).subarray(0, 500));
    assert.equal(await s.loadAt(10, 2), null);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!.reason, /length/);
  });

  test("a snapshot file whose name does not match its contents is damaged", async () => {
    const dir = await tempDir();
    const { reports, snapshotter } = collecting();
    const s = snapshotter(dir);
    await s.save(snapshot(10, 2));
    await writeFile(join(dir, snapshotFileName(11, 2)), await readFile(join(dir, snapshotFileName(10, 2))));
    assertSnapshotEqual(await s.loadNewest(), snapshot(10, 2));
    assert.equal(reports.length, 1);
    assert.match(reports[0]!.reason, /named for/);
  });

  test("prune keeps the newest snapshots", async () => {
    const dir = await tempDir();
    const s = new Snapshotter(dir);
    for (const index of [5, 10, 15, 20]) await s.save(snapshot(index, 1));
    assert.equal(await s.prune(2), 2);
    assert.deepEqual(
      (await s.list()).map((n) => n.index),
      [20, 15],
    );
  });
});
