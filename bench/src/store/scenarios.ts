/**
 * The workloads, each bounded in time, each run the same way against either target. Latencies
 * are measured in the client from just before the call to its callback (performance.now()).
 */
import { randomBytes } from "node:crypto";
import { assert } from "@coxswain/raft";
import { StoreConnection } from "./client.js";
import { type Cluster, type Member, sleep } from "./cluster.js";
import { percentile } from "../report.js";

export const VALUE_BYTES = 256;

/** Keys for puts and gets: written in order and reused round-robin, so gets always hit a key. */
export const KEY_SPACE_SIZE = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const OP_TIMEOUT_MS = 10_000;
/** Not measured: lets connections, JITs and the servers' caches settle before the clock starts. */
const WARMUP_MS = 500;
/** A scenario that keeps failing is reported as failed rather than timed at error speed. */
const LOAD_ERRORS_MAX = 1_000;
const ERROR_BACKOFF_MS = 10;
/** Upper bound on recorded latencies per scenario (about 20 minutes at 1,000 ops/s). */
const LATENCY_SAMPLES_MAX = 1_000_000;
const WATCH_EVENT_TIMEOUT_MS = 2_000;
const WATCH_MISSED_MAX = 10;
/** How long the failover scenario waits for a leader, a write, a catch-up before giving up. */
const FAILOVER_WAIT_MS_MAX = 30_000;
const LEADER_POLL_MS = 10;
const LEADER_POLL_STATUS_TIMEOUT_MS = 200;
/** The brief's failover client: a new write attempt every 100 ms until one succeeds. */
const WRITE_RETRY_INTERVAL_MS = 100;
const WRITE_ATTEMPT_TIMEOUT_MS = 2_000;
const WRITE_ATTEMPTS_IN_FLIGHT_MAX = Math.ceil(WRITE_ATTEMPT_TIMEOUT_MS / WRITE_RETRY_INTERVAL_MS) + 1;
const CATCH_UP_POLL_MS = 20;
/** Between failover rounds: the restarted member settles before the next leader is killed. */
const FAILOVER_SETTLE_MS = 1_000;

export class ScenarioFailedError extends Error {
  override readonly name = "ScenarioFailedError";
}

export class KeySpace {
  private readonly keys: Buffer[];
  private puts = 0;

  constructor(prefix: string, size: number) {
    this.keys = Array.from({ length: size }, (_, i) => Buffer.from(`${prefix}${String(i).padStart(6, "0")}`));
  }

  nextPutKey(): Buffer {
    const key = this.keys[this.puts % this.keys.length];
    assert(key !== undefined, "key index is taken modulo the key count");
    this.puts++;
    return key;
  }

  /** A key that has been written at least once (the caller ensures one has). */
  randomWrittenKey(): Buffer {
    const written = Math.min(this.puts, this.keys.length);
    assert(written > 0, "gets run after at least one put");
    return this.keys[Math.floor(Math.random() * written)]!;
  }

  get putCount(): number {
    return this.puts;
  }

  get writtenCount(): number {
    return Math.min(this.puts, this.keys.length);
  }
}

export interface LoadResult {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  ops: number;
  errors: number;
}

/** CPU used during the measured part of a scenario, in % of one core. */
export interface CpuUse {
  /** This process: the one client, the same for both targets. */
  client_cpu_pct: number;
  /** All members together. */
  members_cpu_pct: number | null;
}

/** Starts counting CPU time now; the returned function reads the use since then. */
export function startCpuMeter(members: Member[]): () => CpuUse {
  const startedAt = performance.now();
  const client = process.cpuUsage();
  const membersAtStart = members.map((m) => m.cpuSeconds());
  return () => {
    const elapsedS = (performance.now() - startedAt) / 1000;
    const clientUse = process.cpuUsage(client);
    // A member that stopped or restarted meanwhile makes the sum unknown, not smaller.
    const usedS = members.map((m, i) => {
      const before = membersAtStart[i] ?? null;
      const after = m.cpuSeconds();
      return before === null || after === null || after < before ? null : after - before;
    });
    const membersS = usedS.includes(null) ? null : usedS.reduce<number>((sum, s) => sum + (s ?? 0), 0);
    return {
      client_cpu_pct: ((clientUse.user + clientUse.system) / 1e6 / elapsedS) * 100,
      members_cpu_pct: membersS === null ? null : (membersS / elapsedS) * 100,
    };
  };
}

export interface LoadShape {
  connections: number;
  inFlight: number;
}

export type Operation = (connection: StoreConnection) => Promise<void>;

async function openConnections(endpoint: string, count: number): Promise<StoreConnection[]> {
  const connections = Array.from({ length: count }, () => new StoreConnection(endpoint));
  await Promise.all(connections.map((c) => c.connect(CONNECT_TIMEOUT_MS)));
  return connections;
}

/**
 * A closed-loop load on one target's leader, measured in slices: the caller runs a slice on each
 * target in turn, so that a burst of background load on this shared machine is spread over both
 * targets instead of landing on one. Connections stay open between slices.
 */
export class LoadRun {
  private readonly latenciesMs: number[] = [];
  private ops = 0;
  private errors = 0;
  private measuredMs = 0;
  private clientCpuS = 0;
  private membersCpuS: number | null = 0;

  private constructor(
    private readonly cluster: Cluster,
    private readonly connections: StoreConnection[],
    private readonly inFlight: number,
    private readonly operation: Operation,
  ) {}

  /** Connects to the leader and warms up (not measured). */
  static async open(cluster: Cluster, leader: Member, shape: LoadShape, operation: Operation): Promise<LoadRun> {
    const connections = await openConnections(leader.endpoint, shape.connections);
    const run = new LoadRun(cluster, connections, shape.inFlight, operation);
    try {
      await run.closedLoop(WARMUP_MS, false);
    } catch (err) {
      run.close();
      throw err;
    }
    return run;
  }

  async slice(durationMs: number): Promise<void> {
    const cpu = startCpuMeter(this.cluster.members);
    const started = performance.now();
    await this.closedLoop(durationMs, true);
    const elapsedMs = performance.now() - started;
    const use = cpu();
    this.measuredMs += elapsedMs;
    this.clientCpuS += (use.client_cpu_pct / 100) * (elapsedMs / 1000);
    this.membersCpuS = this.membersCpuS === null || use.members_cpu_pct === null ? null : this.membersCpuS + (use.members_cpu_pct / 100) * (elapsedMs / 1000);
  }

  /** The figures over all slices; closes the connections. */
  finish(): LoadResult & CpuUse {
    this.close();
    if (this.ops === 0) throw new ScenarioFailedError("no operation succeeded");
    const latenciesMs = this.latenciesMs.sort((a, b) => a - b);
    const measuredS = this.measuredMs / 1000;
    return {
      ops_per_s: this.ops / measuredS,
      p50_ms: percentile(latenciesMs, 50),
      p99_ms: percentile(latenciesMs, 99),
      ops: this.ops,
      errors: this.errors,
      client_cpu_pct: (this.clientCpuS / measuredS) * 100,
      members_cpu_pct: this.membersCpuS === null ? null : (this.membersCpuS / measuredS) * 100,
    };
  }

  close(): void {
    for (const c of this.connections) c.close();
  }

  /** inFlight workers, each with one call outstanding at a time, spread over the connections. */
  private async closedLoop(durationMs: number, record: boolean): Promise<void> {
    const deadline = performance.now() + durationMs;
    let errors = 0;
    const worker = async (connection: StoreConnection): Promise<void> => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await this.operation(connection);
          if (!record) continue;
          this.ops++;
          if (this.latenciesMs.length < LATENCY_SAMPLES_MAX) this.latenciesMs.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (record) this.errors++;
          if (errors > LOAD_ERRORS_MAX) throw new ScenarioFailedError(`more than ${LOAD_ERRORS_MAX} errors; last: ${(err as Error).message}`);
          await sleep(ERROR_BACKOFF_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: this.inFlight }, (_, w) => worker(this.connections[w % this.connections.length]!)));
  }
}

export function putOperation(keys: KeySpace, value: Buffer): Operation {
  return (c) => c.put(keys.nextPutKey(), value, OP_TIMEOUT_MS);
}

/** A get of a key written earlier (the key space is written first if it has not been). */
export async function getOperation(leader: Member, keys: KeySpace, value: Buffer, serializable: boolean): Promise<Operation> {
  if (keys.writtenCount === 0) {
    // Run on its own (--scenarios): write the key space once so that every get finds its key.
    const writer = new StoreConnection(leader.endpoint);
    try {
      for (let i = 0; i < KEY_SPACE_SIZE; i++) await writer.put(keys.nextPutKey(), value, OP_TIMEOUT_MS);
    } finally {
      writer.close();
    }
  }
  return async (c) => {
    const result = await c.range(keys.randomWrittenKey(), serializable, OP_TIMEOUT_MS);
    if (result.count !== 1 || result.firstValueBytes !== VALUE_BYTES) {
      throw new ScenarioFailedError(`get returned ${result.count} keys with a ${result.firstValueBytes}-byte value; expected 1 key with ${VALUE_BYTES} bytes`);
    }
  };
}

export interface WatchResult {
  p50_ms: number;
  p99_ms: number;
  events: number;
  /** Events that reached the client before the put's own response (counted as 0 ms). */
  before_ack: number;
}

/**
 * One watch (prefix) on the leader over its own connection; puts one at a time to the leader over
 * another; per put, the time from the put's response to the event's arrival.
 */
export async function runWatchLatency(leader: Member, value: Buffer, seconds: number): Promise<WatchResult> {
  const prefix = Buffer.from("bench/w/");
  const rangeEnd = Buffer.from("bench/w0"); // prefix with its last byte incremented: '/' + 1 = '0'
  const keys = new KeySpace(prefix.toString(), KEY_SPACE_SIZE);
  const [watchConnection, putConnection] = await openConnections(leader.endpoint, 2);
  assert(watchConnection !== undefined && putConnection !== undefined, "two connections were opened");
  let expectedKey: Buffer | null = null;
  let eventAt: number | null = null;
  let onExpectedEvent: (() => void) | null = null;
  const stream = await watchConnection.watch(
    prefix,
    rangeEnd,
    (events) => {
      const now = performance.now();
      for (const e of events) {
        const key = e.kv?.key;
        if (expectedKey !== null && key !== undefined && key !== null && expectedKey.equals(key)) {
          eventAt = now;
          onExpectedEvent?.();
        }
      }
    },
    CONNECT_TIMEOUT_MS,
  );
  try {
    const measure = async (durationMs: number): Promise<{ latenciesMs: number[]; beforeAck: number }> => {
      const latenciesMs: number[] = [];
      let beforeAck = 0;
      let missed = 0;
      const deadline = performance.now() + durationMs;
      while (performance.now() < deadline) {
        const key = keys.nextPutKey();
        expectedKey = key;
        eventAt = null;
        const seen = new Promise<void>((resolve) => {
          onExpectedEvent = resolve;
        });
        await putConnection.put(key, value, OP_TIMEOUT_MS);
        const ackAt = performance.now();
        if (eventAt === null && !(await resolvesWithin(seen, WATCH_EVENT_TIMEOUT_MS))) {
          if (++missed > WATCH_MISSED_MAX)
            throw new ScenarioFailedError(`more than ${WATCH_MISSED_MAX} watch events missing after ${WATCH_EVENT_TIMEOUT_MS} ms`);
          continue;
        }
        const receivedAt = eventAt as number | null;
        assert(receivedAt !== null, "the event was seen, so its arrival time is set");
        if (receivedAt < ackAt) beforeAck++;
        if (latenciesMs.length < LATENCY_SAMPLES_MAX) latenciesMs.push(Math.max(0, receivedAt - ackAt));
      }
      return { latenciesMs, beforeAck };
    };
    await measure(WARMUP_MS);
    const { latenciesMs, beforeAck } = await measure(seconds * 1000);
    if (latenciesMs.length === 0) throw new ScenarioFailedError("no watch event received");
    latenciesMs.sort((a, b) => a - b);
    return { p50_ms: percentile(latenciesMs, 50), p99_ms: percentile(latenciesMs, 99), events: latenciesMs.length, before_ack: beforeAck };
  } finally {
    stream.close();
    watchConnection.close();
    putConnection.close();
  }
}

export interface FailoverRound {
  election_ms: number;
  write_unavailable_ms: number;
  /** From the restart to the first Status answer: mostly process start-up and data-dir load. */
  restart_answering_ms: number;
  /** From the restart until caught up (includes restart_answering_ms). */
  catch_up_ms: number;
}

/**
 * kill -9 of the leader, then, measured from the signal: the first time a survivor reports a new
 * leader (Status polled every 10 ms on both survivors), and the first successful put of a client
 * that starts a new attempt every 100 ms, alternating between the survivors. Then the killed member
 * is restarted and timed until it has applied what the leader had committed at its restart.
 */
export async function runFailoverRound(cluster: Cluster, value: Buffer): Promise<FailoverRound> {
  const { leader } = await cluster.findLeader(FAILOVER_WAIT_MS_MAX);
  const survivors = cluster.members.filter((m) => m !== leader);
  const writers = await Promise.all(survivors.map((m) => openConnections(m.endpoint, 1).then((c) => c[0]!)));
  const key = Buffer.from("bench/failover");
  try {
    await writers[0]!.put(key, value, OP_TIMEOUT_MS); // writes work before the kill
    const killedAt = cluster.kill9(leader);
    const [electionMs, unavailableMs] = await Promise.all([
      timeToNewLeader(survivors, leader.memberId, killedAt),
      timeToFirstWrite(writers, key, value, killedAt),
    ]);

    const { status: leaderStatus } = await cluster.findLeader(FAILOVER_WAIT_MS_MAX);
    const restartedAt = performance.now();
    await cluster.restart(leader);
    const { answeringMs, catchUpMs } = await timeToCatchUp(leader, leaderStatus.raftIndex, restartedAt);
    await cluster.waitAllAnswering(FAILOVER_WAIT_MS_MAX);
    await sleep(FAILOVER_SETTLE_MS);
    return { election_ms: electionMs, write_unavailable_ms: unavailableMs, restart_answering_ms: answeringMs, catch_up_ms: catchUpMs };
  } finally {
    for (const w of writers) w.close();
  }
}

async function timeToNewLeader(survivors: Member[], killedId: bigint, killedAt: number): Promise<number> {
  while (performance.now() - killedAt < FAILOVER_WAIT_MS_MAX) {
    const statuses = await Promise.all(survivors.map((m) => m.control.status(LEADER_POLL_STATUS_TIMEOUT_MS).catch(() => null)));
    const now = performance.now();
    if (statuses.some((s) => s !== null && s.leaderId !== 0n && s.leaderId !== killedId)) return now - killedAt;
    await sleep(LEADER_POLL_MS);
  }
  throw new ScenarioFailedError(`no new leader within ${FAILOVER_WAIT_MS_MAX} ms of killing the leader`);
}

function timeToFirstWrite(writers: StoreConnection[], key: Buffer, value: Buffer, killedAt: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let attempts = 0;
    let inFlight = 0;
    let done = false;
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      outcome();
    };
    const attempt = (): void => {
      if (done) return;
      if (performance.now() - killedAt > FAILOVER_WAIT_MS_MAX) {
        finish(() => reject(new ScenarioFailedError(`no write succeeded within ${FAILOVER_WAIT_MS_MAX} ms of killing the leader`)));
        return;
      }
      if (inFlight >= WRITE_ATTEMPTS_IN_FLIGHT_MAX) return;
      const writer = writers[attempts++ % writers.length]!;
      inFlight++;
      writer.put(key, value, WRITE_ATTEMPT_TIMEOUT_MS).then(
        () => {
          const at = performance.now();
          inFlight--;
          finish(() => resolve(at - killedAt));
        },
        () => {
          inFlight--;
        },
      );
    };
    const timer = setInterval(attempt, WRITE_RETRY_INTERVAL_MS);
    attempt();
  });
}

async function timeToCatchUp(member: Member, leaderCommitIndex: number, restartedAt: number): Promise<{ answeringMs: number; catchUpMs: number }> {
  let answeringMs: number | null = null;
  while (performance.now() - restartedAt < FAILOVER_WAIT_MS_MAX) {
    const status = await member.control.status(LEADER_POLL_STATUS_TIMEOUT_MS).catch(() => null);
    const sinceRestartMs = performance.now() - restartedAt;
    if (status !== null) {
      answeringMs ??= sinceRestartMs;
      // raftAppliedIndex is etcd 3.4's; a server that leaves it 0 is judged by its commit index.
      const applied = status.raftAppliedIndex > 0 ? status.raftAppliedIndex : status.raftIndex;
      if (applied >= leaderCommitIndex) return { answeringMs, catchUpMs: sinceRestartMs };
    }
    await sleep(CATCH_UP_POLL_MS);
  }
  throw new ScenarioFailedError(`restarted member did not catch up within ${FAILOVER_WAIT_MS_MAX} ms`);
}

async function resolvesWithin(promise: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resident set size of each running member, in MiB (VmRSS is in KiB). */
export function memoryPerMemberMiB(cluster: Cluster): Array<number | null> {
  return cluster.members.map((m) => {
    const rss = m.rssBytes();
    return rss === null ? null : rss / 1024 / 1024;
  });
}

export function randomValue(): Buffer {
  return randomBytes(VALUE_BYTES);
}
