/**
 * Damage on disk and how recovery answers it: torn tails are cut off and the WAL goes on; damage
 * to anything acknowledged before the last save is refused with WalCorruptError.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, stat, writeFile, appendFile, unlink, rename } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Entry, HardState } from "../core/types.js";
import { WalCorruptError } from "./errors.js";
import { Wal, segmentFileName } from "./wal.js";

const PAGE_SIZE_BYTES = 4096;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "coxswain-wal-recovery-"));
  dirs.push(dir);
  return dir;
}

function entry(index: number, term: number, sizeBytes: number): Entry {
  const data = new Uint8Array(sizeBytes);
  for (let i = 0; i < sizeBytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type: 0, data };
}

function entries(first: number, last: number, term: number, sizeBytes = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = first; i <= last; i++) out.push(entry(i, term, sizeBytes));
  return out;
}

const hs = (commit: number): HardState => ({ term: 1, vote: 1, commit });
const summary = (ents: Entry[]): string => ents.map((e) => `${e.index}@${e.term}:${Buffer.from(e.data).toString("hex")}`).join(" ");

/** A one-segment WAL holding a head, save A (entries 1..3) and save B (entries 4..B). */
interface Fixture {
  name: string;
  bytes: Buffer;
  headEnd: number;
  saveAEnd: number;
  saveBEnd: number;
  afterA: Entry[];
  afterB: Entry[];
}

async function buildFixture(saveBEntries: Entry[]): Promise<Fixture> {
  const dir = await tempDir();
  const { wal } = await Wal.open(dir);
  const path = wal.segmentFiles()[0]!;
  const headEnd = (await stat(path)).size;
  const saveA = entries(1, 3, 1);
  await wal.save(hs(1), saveA);
  const saveAEnd = (await stat(path)).size;
  await wal.save(hs(3), saveBEntries);
  const saveBEnd = (await stat(path)).size;
  await wal.close();
  return {
    name: segmentFileName(0, 1),
    bytes: await readFile(path),
    headEnd,
    saveAEnd,
    saveBEnd,
    afterA: saveA,
    afterB: [...saveA, ...saveBEntries],
  };
}

/** Writes bytes as the only segment of a fresh directory and opens the WAL there. */
async function openWith(fixture: Fixture, bytes: Uint8Array): Promise<Awaited<ReturnType<typeof Wal.open>> & { dir: string }> {
  const dir = await tempDir();
  await writeFile(join(dir, fixture.name), bytes);
  return { dir, ...(await Wal.open(dir)) };
}

async function expectRecovers(fixture: Fixture, bytes: Uint8Array, expected: Entry[], what: string): Promise<void> {
  const { wal, recovered, dir } = await openWith(fixture, bytes);
  await wal.close();
  await rm(dir, { recursive: true, force: true });
  assert.equal(summary(recovered.entries), summary(expected), what);
}

async function expectCorrupt(fixture: Fixture, bytes: Uint8Array, what: string): Promise<WalCorruptError> {
  const dir = await tempDir();
  await writeFile(join(dir, fixture.name), bytes);
  let caught: unknown = null;
  try {
    const { wal } = await Wal.open(dir);
    await wal.close();
  } catch (error) {
    caught = error;
  }
  await rm(dir, { recursive: true, force: true });
  assert.ok(caught instanceof WalCorruptError, `${what}: expected WalCorruptError, got ${String(caught)}`);
  assert.equal(caught.name, "WalCorruptError");
  assert.ok(caught.file.endsWith(fixture.name), `${what}: the error names the file`);
  assert.match(caught.message, /at offset \d+/);
  return caught;
}

function flipBit(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ (1 << (offset % 8));
  return copy;
}

describe("WAL recovery", () => {
  let small: Fixture;
  before(async () => {
    small = await buildFixture(entries(4, 5, 1));
  });

  test("a tail cut at every byte of the last save recovers the saves before it and accepts new writes", async () => {
    for (let cut = small.saveAEnd; cut < small.saveBEnd; cut++) {
      const { wal, recovered, dir } = await openWith(small, small.bytes.subarray(0, cut));
      assert.equal(summary(recovered.entries), summary(small.afterA), `cut at ${cut}`);
      assert.deepEqual(recovered.hardState, hs(1));
      assert.equal(recovered.tornTail === null, cut === small.saveAEnd, `torn tail reported for cut at ${cut}`);
      assert.equal((await stat(join(dir, small.name))).size, small.saveAEnd, "the torn bytes are truncated away");
      await wal.save(hs(4), [entry(4, 2, 16)]);
      await wal.close();
      const reopened = await Wal.open(dir);
      assert.equal(summary(reopened.recovered.entries), summary([...small.afterA, entry(4, 2, 16)]), `rewrite after cut at ${cut}`);
      assert.equal(reopened.recovered.tornTail, null);
      await reopened.wal.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a file cut inside its segment head is refused: the head was synced before the file got its name", async () => {
    for (let cut = 0; cut < small.headEnd; cut++) await expectCorrupt(small, small.bytes.subarray(0, cut), `cut at ${cut}`);
  });

  test("a zero-filled tail is truncated away", async () => {
    const zeros = Buffer.alloc(2 * PAGE_SIZE_BYTES);
    await expectRecovers(small, Buffer.concat([small.bytes, zeros]), small.afterB, "zeros after the last save");
    const zeroedLastSave = Buffer.from(small.bytes);
    zeroedLastSave.fill(0, small.saveAEnd);
    await expectRecovers(small, zeroedLastSave, small.afterA, "the last save's bytes zeroed");
  });

  test("a flipped bit anywhere in an earlier save is refused with WalCorruptError", async () => {
    for (let offset = small.headEnd; offset < small.saveAEnd; offset++) {
      await expectCorrupt(small, flipBit(small.bytes, offset), `bit flipped at ${offset}`);
    }
  });

  test("a flipped bit in the segment head is refused", async () => {
    for (let offset = 0; offset < small.headEnd; offset++) {
      await expectCorrupt(small, flipBit(small.bytes, offset), `bit flipped at ${offset}`);
    }
  });

  test("a flipped bit anywhere in the last save is taken for a torn write and cut off", async () => {
    for (let offset = small.saveAEnd; offset < small.saveBEnd; offset++) {
      await expectRecovers(small, flipBit(small.bytes, offset), small.afterA, `bit flipped at ${offset}`);
    }
  });

  test("records swapped inside an earlier save are refused, though each checksum holds", async () => {
    // Save A's three entries have the same size; swap the first two records whole.
    const recordSize = (small.saveAEnd - small.headEnd - 32 - 8) / 3; // minus the hard state record
    assert.ok(Number.isInteger(recordSize));
    const swapped = Buffer.from(small.bytes);
    const first = small.bytes.subarray(small.headEnd, small.headEnd + recordSize);
    const second = small.bytes.subarray(small.headEnd + recordSize, small.headEnd + 2 * recordSize);
    swapped.set(second, small.headEnd);
    swapped.set(first, small.headEnd + recordSize);
    const error = await expectCorrupt(small, swapped, "swapped records");
    assert.match(error.reason, /sequence/);
  });

  test("a write that reached the page cache but was never synced is recovered whole after a process crash", async () => {
    // kill -9 keeps the page cache: the unsynced write is all there.
    const dir = await tempDir();
    await writeFile(join(dir, small.name), small.bytes.subarray(0, small.saveAEnd));
    await appendFile(join(dir, small.name), small.bytes.subarray(small.saveAEnd));
    const { wal, recovered } = await Wal.open(dir);
    assert.equal(summary(recovered.entries), summary(small.afterB));
    await wal.close();
  });

  test("a crash between write and fsync recovers the old or the new content, never a mix", async () => {
    // The last save spans several pages; after a power loss any subset of them may have reached
    // the disk, the rest reading as zeros or as stale garbage.
    const big = await buildFixture(entries(4, 7, 1, 3000));
    const firstPage = Math.floor(big.saveAEnd / PAGE_SIZE_BYTES);
    const lastPage = Math.floor((big.saveBEnd - 1) / PAGE_SIZE_BYTES);
    const pageCount = lastPage - firstPage + 1;
    assert.ok(pageCount >= 3, `the save spans ${pageCount} pages`);
    let garbageSeed = 12345;
    const garbage = (): number => {
      garbageSeed = (Math.imul(garbageSeed, 1103515245) + 12345) >>> 0;
      return garbageSeed >>> 24;
    };
    for (const fill of ["zeros", "garbage"] as const) {
      for (let mask = 0; mask < 1 << pageCount; mask++) {
        const crashed = Buffer.from(big.bytes);
        for (let p = 0; p < pageCount; p++) {
          if (mask & (1 << p)) continue;
          const from = Math.max(big.saveAEnd, (firstPage + p) * PAGE_SIZE_BYTES);
          const to = Math.min(big.saveBEnd, (firstPage + p + 1) * PAGE_SIZE_BYTES);
          for (let i = from; i < to; i++) crashed[i] = fill === "zeros" ? 0 : garbage();
        }
        const allPersisted = mask === (1 << pageCount) - 1;
        await expectRecovers(big, crashed, allPersisted ? big.afterB : big.afterA, `pages ${mask.toString(2)} persisted, rest ${fill}`);
      }
    }
  });

  describe("with several segments", () => {
    let dir: string;
    let files: string[];
    before(async () => {
      dir = await tempDir();
      const { wal } = await Wal.open(dir, { segmentSizeBytesMax: 4096 });
      for (let i = 1; i <= 40; i += 4) await wal.save(hs(i), entries(i, i + 3, 1, 500));
      files = wal.segmentFiles();
      await wal.close();
      assert.ok(files.length >= 4);
    });

    async function withDamage(damage: (copyDir: string, copies: string[]) => Promise<void>): Promise<unknown> {
      const copyDir = await tempDir();
      const copies: string[] = [];
      for (const file of files) {
        const copy = join(copyDir, file.slice(dir.length + 1));
        await writeFile(copy, await readFile(file));
        copies.push(copy);
      }
      await damage(copyDir, copies);
      try {
        const { wal } = await Wal.open(copyDir, { segmentSizeBytesMax: 4096 });
        await wal.close();
        return null;
      } catch (error) {
        return error;
      } finally {
        await rm(copyDir, { recursive: true, force: true });
      }
    }

    test("an undamaged copy recovers", async () => {
      assert.equal(await withDamage(async () => undefined), null);
    });

    test("a flipped bit in the last save of a segment that is not the last is refused", async () => {
      const error = await withDamage(async (_, copies) => {
        const bytes = await readFile(copies[1]!);
        await writeFile(copies[1]!, flipBit(bytes, bytes.length - 10));
      });
      assert.ok(error instanceof WalCorruptError, String(error));
      assert.ok(error.file.endsWith(files[1]!.slice(dir.length + 1)));
    });

    test("a truncated segment that is not the last is refused", async () => {
      const error = await withDamage(async (_, copies) => {
        const bytes = await readFile(copies[0]!);
        await writeFile(copies[0]!, bytes.subarray(0, bytes.length - 1));
      });
      assert.ok(error instanceof WalCorruptError, String(error));
    });

    test("a missing segment in the middle is refused", async () => {
      const error = await withDamage(async (_, copies) => unlink(copies[1]!));
      assert.ok(error instanceof WalCorruptError, String(error));
      assert.match(error.message, /missing/);
    });

    test("a segment file renamed to another position is refused", async () => {
      const error = await withDamage(async (copyDir, copies) => {
        await unlink(copies.at(-1)!);
        const last = files.length - 1;
        await rename(copies[last - 1]!, join(copyDir, segmentFileName(last - 1, 999)));
      });
      assert.ok(error instanceof WalCorruptError, String(error));
    });

    test("an empty last segment file is refused", async () => {
      const error = await withDamage(async (_, copies) => writeFile(copies.at(-1)!, new Uint8Array(0)));
      assert.ok(error instanceof WalCorruptError, String(error));
      assert.match(error.message, /empty/);
    });

    test("the directory holds only segment files after recovery", async () => {
      assert.deepEqual((await readdir(dir)).length, files.length);
    });
  });
});
