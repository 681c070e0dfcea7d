/**
 * kill -9 at an arbitrary moment: a child process saves batches as fast as it can and prints the
 * last index of each save once the save has resolved (been synced); the parent kills it after a
 * number of acknowledgements and checks that recovery holds every acknowledged entry, intact, and
 * at most the one batch that was in flight besides.
 *
 * This file is also the child: run with COXSWAIN_WAL_CRASH_CHILD=<dir>.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import type { Entry } from "../core/types.js";
import { Wal } from "./wal.js";

const CHILD_ENV = "COXSWAIN_WAL_CRASH_CHILD";
const SEGMENT_SIZE_BYTES_MAX = 16 * 1024; // small, so kills also land around segment rollovers
/** The child stops by itself after this many saves if nobody kills it. */
const CHILD_SAVES_MAX = 3000;

function batchSize(batchNumber: number): number {
  return 1 + (batchNumber % 7);
}

function entryData(index: number): Uint8Array {
  const data = new Uint8Array(100 + (index % 300));
  for (let i = 0; i < data.length; i++) data[i] = (index * 13 + i) & 0xff;
  return data;
}

async function runChild(dir: string): Promise<void> {
  const { wal, recovered } = await Wal.open(dir, { segmentSizeBytesMax: SEGMENT_SIZE_BYTES_MAX });
  let next = (recovered.entries.at(-1)?.index ?? 0) + 1;
  for (let batch = 0; batch < CHILD_SAVES_MAX; batch++) {
    const ents: Entry[] = [];
    for (let k = 0; k < batchSize(batch); k++, next++) ents.push({ index: next, term: 1, type: 0, data: entryData(next) });
    await wal.save({ term: 1, vote: 1, commit: next - 1 }, ents);
    process.stdout.write(`${next - 1}\n`);
  }
  await wal.close();
}

if (process.env[CHILD_ENV] !== undefined) {
  await runChild(process.env[CHILD_ENV]);
} else {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** Starts the child, kills it with SIGKILL after `acksBeforeKill` acknowledgements, returns all acks read. */
  async function runAndKill(dir: string, acksBeforeKill: number): Promise<number[]> {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, [CHILD_ENV]: dir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acks: number[] = [];
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    for await (const line of createInterface({ input: child.stdout })) {
      acks.push(Number(line));
      if (acks.length === acksBeforeKill) child.kill("SIGKILL");
    }
    await exited;
    return acks;
  }

  describe("WAL after kill -9", () => {
    test("recovery holds every acknowledged save, and at most the one in flight besides", async () => {
      const dir = await mkdtemp(join(tmpdir(), "coxswain-wal-crash-"));
      dirs.push(dir);
      let lastAcked = 0;
      for (const acksBeforeKill of [15, 40, 90]) {
        const acks = await runAndKill(dir, acksBeforeKill);
        assert.ok(acks.length >= acksBeforeKill, "the child acknowledged saves before it was killed");
        lastAcked = acks.at(-1)!;

        const { wal, recovered } = await Wal.open(dir, { segmentSizeBytesMax: SEGMENT_SIZE_BYTES_MAX });
        const last = recovered.entries.at(-1)?.index ?? 0;
        assert.ok(last >= lastAcked, `recovered up to ${last}, but ${lastAcked} was acknowledged`);
        assert.ok(last - lastAcked <= 7, `recovered ${last - lastAcked} entries past the last acknowledged save`);
        recovered.entries.forEach((e, k) => {
          assert.equal(e.index, k + 1);
          assert.deepEqual(Buffer.from(e.data), Buffer.from(entryData(e.index)), `data of entry ${e.index}`);
        });
        // The hard state is saved in the same batch as the entries: all or nothing together.
        assert.equal(recovered.hardState.commit, last);
        await wal.close();
      }
    });
  });
}
