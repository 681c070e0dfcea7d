/**
 * One fault run from start to verdict, shared by the bounded test and the soak:
 *
 *   1. start a three-member cluster of the target;
 *   2. clients run while the nemesis kills, pauses and restarts members (faultMs);
 *   3. the nemesis stops and heals everything; the clients go on for recoveryMs, then stop;
 *   4. wait until every member serves and agrees on a leader;
 *   5. read every key used, linearizably, into the history (the final values);
 *   6. check: the history is linearizable ("unknown" counts as a failure to check), no acknowledged
 *      write is lost, every member converges to the same revision and values, no member exited on
 *      its own.
 *
 * The report lists every problem found; an empty `problems` is a pass.
 */
import { checkHistory, formatCheckResult, HistoryRecorder, kvModel, unknownKvOutput, type CheckOutcome, type KvInput, type KvOutput } from "@coxswain/lincheck";
import { findDivergence, findLostWrites, type MemberSnapshot } from "./checks.js";
import { StoreCluster, sleep, type Target, type UnexpectedExit } from "@coxswain/testkit";
import { DEFAULT_NEMESIS_OPTIONS, Nemesis, type FaultKind, type NemesisOptions } from "./nemesis.js";
import { Workload, type WorkloadStats } from "./workload.js";

export interface ScenarioOptions {
  target: Target;
  seed: number;
  /** Length of the fault phase. */
  faultMs: number;
  /** Clients keep running this long after every member is back. Default 3000. */
  recoveryMs?: number;
  /** Default 6. */
  clientCount?: number;
  /** Default 4. */
  keysPerEpoch?: number;
  /** Move to fresh keys this often (bounds the checker's work per key on long runs). Default: never. */
  epochMs?: number;
  /** Default 1000. */
  requestTimeoutMs?: number;
  /** Default 10. */
  thinkTimeMsMax?: number;
  /** Default 0.4. */
  getFraction?: number;
  /** Negative control: gets may be stale, so the run is expected to fail. Default false. */
  serializableGets?: boolean;
  /** --snapshot-count for every member. Default 1000, so that snapshots happen during the run. */
  snapshotCount?: number;
  nemesis?: Partial<Omit<NemesisOptions, "seed">>;
  /** Time allowed for the cluster to serve again after healing, and for members to converge. Default 30,000. */
  settleTimeoutMs?: number;
  /** Wall-clock budget of the linearizability check. Default 120,000. */
  checkTimeoutMs?: number;
  /** Search steps per key before the checker gives up ("unknown"). Default 5,000,000. */
  stepsMaxPerPartition?: number;
  /** History size cap. Default 200,000. */
  operationsMax?: number;
  /** A progress line every this often. Default 5000. */
  progressEveryMs?: number;
  log?: (line: string) => void;
}

export interface ScenarioReport {
  target: Target;
  seed: number;
  faultMs: number;
  operations: number;
  stats: WorkloadStats;
  keys: number;
  faults: Record<FaultKind, number>;
  faultsTotal: number;
  restarts: number;
  linearizability: { outcome: CheckOutcome | "not run"; partitions: number; steps: number; checkMs: number; text: string };
  lostWrites: string[];
  divergence: string[];
  unexpectedExits: UnexpectedExit[];
  /** Every reason the run failed; empty means it passed. */
  problems: string[];
  /** Where data and logs were kept (only when there are problems). */
  keptDir: string | null;
}

const FINAL_READ_TIMEOUT_MS = 2000;
const CONVERGENCE_POLL_MS = 200;

export async function runFaultScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const log = options.log ?? (() => {});
  const settleTimeoutMs = options.settleTimeoutMs ?? 30_000;
  const recorder = new HistoryRecorder<KvInput, KvOutput>({ unknownOutput: unknownKvOutput, operationsMax: options.operationsMax ?? 200_000 });
  const problems: string[] = [];

  log(`starting a 3-member ${options.target} cluster (seed ${options.seed})`);
  const cluster = await StoreCluster.start({ target: options.target, snapshotCount: options.snapshotCount ?? 1000, log });
  let report: ScenarioReport;
  try {
    const workload = new Workload({
      endpoints: cluster.endpoints(),
      recorder,
      seed: options.seed,
      clientCount: options.clientCount ?? 6,
      keysPerEpoch: options.keysPerEpoch ?? 4,
      epochMs: options.epochMs ?? Infinity,
      requestTimeoutMs: options.requestTimeoutMs ?? 1000,
      thinkTimeMsMax: options.thinkTimeMsMax ?? 10,
      getFraction: options.getFraction ?? 0.4,
      serializableGets: options.serializableGets ?? false,
    });
    const nemesis = new Nemesis(cluster, { ...DEFAULT_NEMESIS_OPTIONS, ...options.nemesis, seed: options.seed }, log);

    const startedMs = performance.now();
    const progress = setInterval(() => {
      const s = workload.stats;
      log(
        `t=${Math.round((performance.now() - startedMs) / 1000)}s ops=${s.get + s.put + s.cas} (get ${s.get}, put ${s.put}, cas ${s.cas}, unknown ${s.unknown}) faults=${nemesis.events.length}`,
      );
    }, options.progressEveryMs ?? 5000);
    try {
      workload.start();
      nemesis.start();
      await sleep(options.faultMs);
      log("faults over: healing every member");
      await nemesis.stop();
      await sleep(options.recoveryMs ?? 3000);
      await workload.stop();
    } finally {
      clearInterval(progress);
    }

    try {
      await cluster.waitUntilServing(settleTimeoutMs);
    } catch (err) {
      problems.push(`the cluster did not recover after the faults: ${(err as Error).message}`);
    }

    const keys = [...workload.keysUsed].sort();
    const finalValues = await readFinalValues(cluster, recorder, keys, settleTimeoutMs, problems);

    const history = recorder.history();
    log(`checking ${history.length} operations on ${keys.length} keys for linearizability`);
    const checkStartedMs = performance.now();
    const result = checkHistory(kvModel, history, {
      timeoutMs: options.checkTimeoutMs ?? 120_000,
      stepsMaxPerPartition: options.stepsMaxPerPartition ?? 5_000_000,
    });
    const checkMs = Math.round(performance.now() - checkStartedMs);
    const text = formatCheckResult(result);
    if (result.outcome === "illegal") problems.push(`history is not linearizable:\n${text}`);
    if (result.outcome === "unknown")
      problems.push(`linearizability could not be decided within the checker's budget (a failure to check, not a pass):\n${text}`);

    const lostWrites = finalValues === null ? [] : findLostWrites(history, finalValues);
    problems.push(...lostWrites);

    const divergence = finalValues === null ? [] : await awaitConvergence(cluster, keys, finalValues, settleTimeoutMs);
    problems.push(...divergence);

    for (const exit of cluster.unexpectedExits) {
      problems.push(`${exit.name} exited on its own (code ${exit.code}, signal ${exit.signal}); end of its log:\n${exit.logTail}`);
    }

    const stats = workload.stats;
    report = {
      target: options.target,
      seed: options.seed,
      faultMs: options.faultMs,
      operations: history.length,
      stats,
      keys: keys.length,
      faults: nemesis.counts(),
      faultsTotal: nemesis.events.length,
      restarts: cluster.members.reduce((sum, m) => sum + m.starts - 1, 0),
      linearizability: { outcome: result.outcome, partitions: result.partitions.length, steps: result.steps, checkMs, text },
      lostWrites,
      divergence,
      unexpectedExits: cluster.unexpectedExits,
      problems,
      keptDir: null,
    };
  } catch (err) {
    problems.push(`the run itself failed: ${(err as Error).stack ?? String(err)}`);
    throw err;
  } finally {
    const keep = problems.length > 0;
    await cluster.stop({ keepData: keep });
  }
  if (problems.length > 0) report.keptDir = cluster.baseDir;
  return report;
}

/**
 * Reads every key linearizably, recorded in the history as client "final" so that the checker
 * places these reads too. A read that fails is retried on the next member until the deadline.
 */
async function readFinalValues(
  cluster: StoreCluster,
  recorder: HistoryRecorder<KvInput, KvOutput>,
  keys: readonly string[],
  timeoutMs: number,
  problems: string[],
): Promise<Map<string, string | null> | null> {
  const values = new Map<string, string | null>();
  const deadline = Date.now() + timeoutMs;
  let memberIndex = 0;
  for (const key of keys) {
    for (;;) {
      const member = cluster.member(memberIndex);
      const handle = recorder.begin("final", { type: "get", key });
      try {
        const { value } = await member.connection.get(key, false, FINAL_READ_TIMEOUT_MS);
        recorder.complete(handle, { type: "get", value });
        values.set(key, value);
        break;
      } catch (err) {
        recorder.markUnknown(handle);
        memberIndex = (memberIndex + 1) % cluster.members.length;
        if (Date.now() >= deadline) {
          problems.push(`could not read key ${JSON.stringify(key)} after the faults within ${timeoutMs} ms: ${(err as Error).message}`);
          return null;
        }
        await sleep(CONVERGENCE_POLL_MS);
      }
    }
  }
  return values;
}

/** Polls every member's own copy until all agree with the final values, or returns what still differs. */
async function awaitConvergence(
  cluster: StoreCluster,
  keys: readonly string[],
  finalValues: ReadonlyMap<string, string | null>,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let divergence: string[];
    try {
      const snapshots = await Promise.all(cluster.members.map((m) => readMemberSnapshot(m.name, m.connection, keys)));
      divergence = findDivergence(snapshots, finalValues);
    } catch (err) {
      divergence = [`a member did not answer serializable reads: ${(err as Error).message}`];
    }
    if (divergence.length === 0 || Date.now() >= deadline) return divergence;
    await sleep(CONVERGENCE_POLL_MS);
  }
}

async function readMemberSnapshot(member: string, connection: StoreCluster["members"][number]["connection"], keys: readonly string[]): Promise<MemberSnapshot> {
  const values = new Map<string, string | null>();
  let revision = 0;
  for (const key of keys) {
    const read = await connection.get(key, true, FINAL_READ_TIMEOUT_MS);
    values.set(key, read.value);
    revision = Math.max(revision, read.revision);
  }
  // One more read after the values, so that the revision is not older than any value read (a
  // member applying entries between two reads would otherwise report a mix).
  if (keys.length > 0) revision = (await connection.get(keys[0]!, true, FINAL_READ_TIMEOUT_MS)).revision;
  return { member, revision, values };
}

export function formatReport(report: ScenarioReport): string {
  const s = report.stats;
  const f = report.faults;
  const lines = [
    `${report.target}: ${report.problems.length === 0 ? "PASS" : "FAIL"} (seed ${report.seed}, ${Math.round(report.faultMs / 1000)} s of faults)`,
    `  operations: ${report.operations} recorded on ${report.keys} keys — get ${s.get}, put ${s.put}, cas ${s.cas} (${s.casSucceeded} swapped), unknown outcome ${s.unknown}, not sent (connection down) ${s.notSent}`,
    `  faults: ${report.faultsTotal} — kill -9 ${f.kill}, kill -9 leader ${f["kill-leader"]}, SIGSTOP ${f.pause}, SIGSTOP leader ${f["pause-leader"]}; restarts ${report.restarts}`,
    `  linearizability: ${report.linearizability.outcome} (${report.linearizability.partitions} keys, ${report.linearizability.steps} search steps, ${report.linearizability.checkMs} ms)`,
    `  acknowledged writes lost: ${report.lostWrites.length}; members diverging: ${report.divergence.length === 0 ? "none" : report.divergence.length}; members exited on their own: ${report.unexpectedExits.length}`,
  ];
  if (report.problems.length > 0) {
    lines.push(`  problems:`);
    for (const p of report.problems) lines.push(`  - ${p.replaceAll("\n", "\n    ")}`);
  }
  if (report.keptDir !== null) lines.push(`  data and logs kept in ${report.keptDir}`);
  return lines.join("\n");
}
