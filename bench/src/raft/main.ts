/**
 * bench/raft: committed proposals per second for a 3-member cluster in one process (in-memory
 * transport that still encodes and decodes every message), with in-memory storage and with the
 * real WAL on disk (fsync per Ready), at 1 and 256 proposals in flight; and the batching
 * efficiency as entries per fsync on the leader.
 *
 *   make bench-raft                      (BENCH_SECONDS=N to change the time per scenario)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableLogStore, type Entry, type LogStore, MemoryLogStore, MemoryNetwork, MemoryTransport, RaftNode, type StateMachine } from "@coxswain/raft";
import { percentile, printBenchLine, printTable, type BenchRow } from "../report.js";

const SECONDS = Number(process.env["BENCH_SECONDS"] ?? 5);
const VALUE_BYTES = 256;

/** Resolves each proposal when the local member applies it (ids in the first 8 bytes). */
class CountingMachine implements StateMachine {
  applied = 0;
  readonly waiters = new Map<number, () => void>();
  apply(entries: Entry[]): void {
    for (const e of entries) {
      if (e.data.length < 8) continue;
      this.applied++;
      const id = new DataView(e.data.buffer, e.data.byteOffset, 8).getFloat64(0);
      const w = this.waiters.get(id);
      if (w !== undefined) {
        this.waiters.delete(id);
        w();
      }
    }
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(String(this.applied));
  }
  restore(): void {}
}

interface Scenario {
  storage: "memory" | "wal";
  inFlight: number;
}

async function runScenario(s: Scenario): Promise<BenchRow & Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), "bench-raft-"));
  const network = new MemoryNetwork();
  const ids = [1, 2, 3];
  const stores: LogStore[] = [];
  for (const id of ids) stores.push(s.storage === "wal" ? await DurableLogStore.open(join(dir, `m${id}`)) : new MemoryLogStore());
  const machines = ids.map(() => new CountingMachine());
  const nodes = await Promise.all(
    ids.map((id, i) =>
      RaftNode.start({
        id,
        logStore: stores[i]!,
        transport: new MemoryTransport(network, id),
        stateMachine: machines[i]!,
        bootstrapConfState: { voters: ids, learners: [] },
        tickIntervalMs: 100,
        electionTicks: 10,
        snapshotEntriesMin: 100_000,
        snapshotRetainEntries: 5_000,
      }),
    ),
  );
  nodes[0]!.campaign();
  while (!nodes[0]!.isLeader()) await new Promise((r) => setTimeout(r, 10));
  const leader = nodes[0]!;
  const machine = machines[0]!;
  const payload = new Uint8Array(VALUE_BYTES);
  let nextId = 1;
  let committed = 0;
  const latenciesMs: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const walStatsBefore = stores[0] instanceof DurableLogStore ? { ...stores[0].walStats } : null;
  const started = performance.now();

  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      const id = nextId++;
      const data = new Uint8Array(8 + VALUE_BYTES);
      new DataView(data.buffer).setFloat64(0, id);
      data.set(payload, 8);
      const t0 = performance.now();
      const applied = new Promise<void>((resolve) => machine.waiters.set(id, resolve));
      await leader.propose(data);
      await applied;
      latenciesMs.push(performance.now() - t0);
      committed++;
    }
  }
  await Promise.all(Array.from({ length: s.inFlight }, () => worker()));
  const elapsedS = (performance.now() - started) / 1000;
  let entriesPerFsync: number | null = null;
  if (walStatsBefore !== null && stores[0] instanceof DurableLogStore) {
    const after = stores[0].walStats;
    const fsyncs = after.fsyncs - walStatsBefore.fsyncs;
    entriesPerFsync = fsyncs > 0 ? (after.entriesWritten - walStatsBefore.entriesWritten) / fsyncs : null;
  }
  await Promise.all(nodes.map((n) => n.stop()));
  await rm(dir, { recursive: true, force: true });
  latenciesMs.sort((a, b) => a - b);
  return {
    storage: s.storage,
    in_flight: s.inFlight,
    proposals_per_s: committed / elapsedS,
    p50_ms: percentile(latenciesMs, 50),
    p99_ms: percentile(latenciesMs, 99),
    entries_per_fsync: entriesPerFsync,
  } as BenchRow & Record<string, number | string>;
}

async function main(): Promise<void> {
  const rows: BenchRow[] = [];
  for (const storage of ["memory", "wal"] as const) {
    for (const inFlight of [1, 256]) {
      const row = await runScenario({ storage, inFlight });
      rows.push(row);
      printBenchLine({ bench: "raft", value_bytes: VALUE_BYTES, seconds: SECONDS, ...row });
    }
  }
  printTable(`bench/raft: 3 members in one process, ${VALUE_BYTES}-byte proposals, ${SECONDS} s per scenario`, rows);
}

await main();
