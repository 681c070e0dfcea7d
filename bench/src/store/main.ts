/**
 * bench/store: Coxswain's store side by side with real etcd. One program, two targets, one run:
 * a three-member cluster of each (same etcd flags, 127.0.0.1 only), both running at once, driven
 * by the same gRPC client with the same workload, the scenarios alternating between the targets,
 * and each figure printed next to the other with the ratio coxswain/etcd and which direction is
 * better.
 *
 *   make bench-store
 *   node bench/dist/store/main.js [--target etcd|coxswain|both] [--seconds N] [--slices N] [--failover-rounds N]
 *                                 [--scenarios put_seq,put_64,...]
 *
 * See docs/bench-store.md for what each scenario measures and the figures measured so far.
 */
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { assert } from "@coxswain/raft";
import { percentile, printBenchLine, printTable, type BenchRow } from "../report.js";
import { Cluster, type ClusterSettings, DEFAULT_SETTINGS, type Member, sleep, type TargetCommand, type TargetName } from "./cluster.js";
import {
  type FailoverRound,
  KEY_SPACE_SIZE,
  KeySpace,
  type LoadShape,
  memoryPerMemberMiB,
  randomValue,
  runFailoverRound,
  getOperation,
  LoadRun,
  type Operation,
  putOperation,
  runWatchLatency,
  ScenarioFailedError,
  startCpuMeter,
  VALUE_BYTES,
} from "./scenarios.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const CLUSTER_START_TIMEOUT_MS = 60_000;
const LEADER_TIMEOUT_MS = 30_000;
/** After start-up, before the idle memory reading: elections and start-up allocations settle. */
const IDLE_SETTLE_MS = 2_000;

type Better = "higher" | "lower";
interface MetricSpec {
  key: string;
  label: string;
  better: Better;
}
interface ScenarioSpec {
  id: string;
  /** For the table; `title` is the full description in the BENCH line. */
  short: string;
  title: string;
  metrics: MetricSpec[];
}

const opsPerS: MetricSpec = { key: "ops_per_s", label: "ops/s", better: "higher" };
const p50: MetricSpec = { key: "p50_ms", label: "p50 ms", better: "lower" };
const p99: MetricSpec = { key: "p99_ms", label: "p99 ms", better: "lower" };

const LOAD_SHAPES: Record<string, LoadShape> = {
  put_seq: { connections: 1, inFlight: 1 },
  put_64: { connections: 4, inFlight: 64 },
  put_256: { connections: 8, inFlight: 256 },
  get_linearizable_64: { connections: 4, inFlight: 64 },
  get_serializable_64: { connections: 4, inFlight: 64 },
};

const SCENARIOS: ScenarioSpec[] = [
  {
    id: "memory_idle",
    short: "memory per member, idle",
    title: "memory per member, idle (mean RSS)",
    metrics: [{ key: "rss_mib_mean", label: "RSS MiB (mean)", better: "lower" }],
  },
  { id: "put_seq", short: "sequential puts, 1 conn", title: "sequential puts, 1 connection, to the leader", metrics: [opsPerS, p50, p99] },
  { id: "put_64", short: "puts, 64 in flight / 4 conns", title: "puts, 64 in flight over 4 connections, to the leader", metrics: [opsPerS, p50, p99] },
  { id: "put_256", short: "puts, 256 in flight / 8 conns", title: "puts, 256 in flight over 8 connections, to the leader", metrics: [opsPerS, p50, p99] },
  {
    id: "memory_after_puts",
    short: "memory per member, after puts",
    title: "memory per member after the puts (mean RSS)",
    metrics: [{ key: "rss_mib_mean", label: "RSS MiB (mean)", better: "lower" }],
  },
  {
    id: "get_linearizable_64",
    short: "linearizable gets, 64 / 4 conns",
    title: "linearizable gets, 64 in flight over 4 connections, leader",
    metrics: [opsPerS, p50, p99],
  },
  {
    id: "get_serializable_64",
    short: "serializable gets, 64 / 4 conns",
    title: "serializable gets, 64 in flight over 4 connections, leader",
    metrics: [opsPerS, p50, p99],
  },
  { id: "watch_latency", short: "watch: put ack → event", title: "watch: put acknowledged → event received", metrics: [p50, p99] },
  {
    id: "failover",
    short: "kill -9 of the leader",
    title: "kill -9 of the leader (median of rounds)",
    metrics: [
      { key: "election_ms_median", label: "new leader, median ms", better: "lower" },
      { key: "write_unavailable_ms_median", label: "writes unavailable, median ms", better: "lower" },
      { key: "restart_answering_ms_median", label: "restarted answers, median ms", better: "lower" },
      { key: "catch_up_ms_median", label: "restarted caught up, median ms", better: "lower" },
    ],
  },
];

interface Options {
  targets: TargetName[];
  seconds: number;
  /** Each load scenario's seconds are split into this many slices, alternating between targets. */
  slices: number;
  failoverRounds: number;
  scenarios: Set<string>;
}

/** What one scenario produced on one target: its figures, or why it has none. */
interface Outcome {
  figures: Record<string, unknown> | null;
  error: string | null;
}
type TargetResults = Map<string, Outcome>;

class UsageError extends Error {
  override readonly name = "UsageError";
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", default: "both" },
      seconds: { type: "string", default: process.env["BENCH_SECONDS"] ?? "5" },
      slices: { type: "string", default: "5" },
      "failover-rounds": { type: "string", default: "3" },
      scenarios: { type: "string", default: SCENARIOS.map((s) => s.id).join(",") },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        "Usage: node bench/dist/store/main.js [--target etcd|coxswain|both] [--seconds N] [--slices N] [--failover-rounds N] [--scenarios a,b,...]",
        `Scenarios: ${SCENARIOS.map((s) => s.id).join(", ")}`,
        "Environment: ETCD_BIN (default: etcd on PATH), BENCH_SECONDS (default for --seconds).",
      ].join("\n"),
    );
    process.exit(0);
  }
  const targets: TargetName[] =
    values.target === "both" ? ["etcd", "coxswain"] : values.target === "etcd" || values.target === "coxswain" ? [values.target] : [];
  if (targets.length === 0) throw new UsageError(`--target must be etcd, coxswain or both, not ${JSON.stringify(values.target)}`);
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new UsageError(`--seconds must be in (0, 600], not ${JSON.stringify(values.seconds)}`);
  const failoverRounds = Number(values["failover-rounds"]);
  if (!(Number.isInteger(failoverRounds) && failoverRounds >= 1 && failoverRounds <= 20))
    throw new UsageError("--failover-rounds must be an integer in [1, 20]");
  const scenarios = new Set(
    values.scenarios
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
  for (const s of scenarios) if (!SCENARIOS.some((x) => x.id === s)) throw new UsageError(`unknown scenario ${JSON.stringify(s)}`);
  const slices = Number(values.slices);
  if (!(Number.isInteger(slices) && slices >= 1 && slices <= 100)) throw new UsageError("--slices must be an integer in [1, 100]");
  return { targets, seconds, slices, failoverRounds, scenarios };
}

function targetCommand(name: TargetName): TargetCommand {
  if (name === "etcd") return { name, executable: process.env["ETCD_BIN"] ?? "etcd", argsBefore: [], firstClientPort: 25_379 };
  return { name, executable: join(REPO_ROOT, "bin/coxswain"), argsBefore: ["store"], firstClientPort: 28_379 };
}

function progress(target: TargetName, message: string): void {
  process.stderr.write(`bench-store ${target}: ${message}\n`);
}

function mean(values: Array<number | null>): number | null {
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** One target's cluster and what it has measured so far. */
interface Session {
  name: TargetName;
  cluster: Cluster | null;
  results: TargetResults;
  keys: KeySpace;
  value: Buffer;
  failed: boolean;
}

/** Clusters that are running, so that Ctrl-C stops them too. */
const activeClusters = new Set<Cluster>();

async function startSession(name: TargetName, options: Options, settings: ClusterSettings): Promise<Session> {
  const session: Session = { name, cluster: null, results: new Map(), keys: new KeySpace("bench/k/", KEY_SPACE_SIZE), value: randomValue(), failed: false };
  const failAll = (error: string): void => {
    session.failed = true;
    for (const s of SCENARIOS) if (options.scenarios.has(s.id)) session.results.set(s.id, { figures: null, error });
  };
  const target = targetCommand(name);
  if (name === "coxswain" && !existsSync(join(REPO_ROOT, "packages/cli/dist/coxswain.js"))) {
    failAll("bin/coxswain is not built (make build)");
    return session;
  }
  progress(name, `starting 3 members (${[target.executable, ...target.argsBefore].join(" ")})`);
  try {
    const cluster = await Cluster.start(target, settings, CLUSTER_START_TIMEOUT_MS);
    activeClusters.add(cluster);
    session.cluster = cluster;
    const { leader } = await cluster.findLeader(LEADER_TIMEOUT_MS);
    progress(name, `all members answer; leader is ${leader.name}; data and logs in ${cluster.rootDir}`);
  } catch (err) {
    progress(name, (err as Error).message);
    failAll((err as Error).message.split("\n")[0] ?? "cluster did not start");
  }
  return session;
}

async function stopSession(session: Session): Promise<void> {
  const cluster = session.cluster;
  if (cluster === null) return;
  progress(session.name, `stopping the cluster${session.failed ? `; logs kept in ${cluster.rootDir}` : ""}`);
  await cluster.stop({ keepData: session.failed });
  activeClusters.delete(cluster);
  session.cluster = null;
}

function recordFigures(session: Session, id: string, figures: Record<string, unknown>): void {
  session.results.set(id, { figures, error: null });
  progress(session.name, `${id} ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === "number" ? Math.round(v * 100) / 100 : v))}`);
}

function recordError(session: Session, id: string, err: unknown): void {
  session.failed = true;
  session.results.set(id, { figures: null, error: (err as Error).message });
  progress(session.name, `${id} FAILED: ${(err as Error).message}`);
}

/** Runs one scenario on one session and records its figures or its error. */
async function measure(session: Session, id: string, run: (cluster: Cluster) => Promise<object>): Promise<void> {
  const cluster = session.cluster;
  if (cluster === null) return;
  try {
    const load1m = loadavg()[0] ?? null;
    recordFigures(session, id, { ...(await run(cluster)), load_1m_at_start: load1m });
  } catch (err) {
    recordError(session, id, err);
  }
}

/**
 * One load scenario on every target, measured in `options.slices` slices that alternate between
 * the targets (see LoadRun).
 */
async function loadScenario(
  sessions: Session[],
  id: string,
  options: Options,
  eachTarget: (run: (session: Session) => Promise<void>) => Promise<void>,
  operationFor: (session: Session, leader: Member) => Promise<Operation>,
): Promise<void> {
  const shape = LOAD_SHAPES[id];
  assert(shape !== undefined, `scenario ${id} has a load shape`);
  const runs = new Map<Session, { run: LoadRun; leader: Member; load1m: number | null }>();
  for (const session of sessions) {
    const cluster = session.cluster;
    if (cluster === null) continue;
    try {
      const { leader } = await cluster.findLeader(LEADER_TIMEOUT_MS);
      const run = await LoadRun.open(cluster, leader, shape, await operationFor(session, leader));
      runs.set(session, { run, leader, load1m: loadavg()[0] ?? null });
    } catch (err) {
      recordError(session, id, err);
    }
  }
  const sliceMs = (options.seconds * 1000) / options.slices;
  for (let i = 0; i < options.slices; i++) {
    await eachTarget(async (session) => {
      const entry = runs.get(session);
      if (entry === undefined) return;
      try {
        await entry.run.slice(sliceMs);
      } catch (err) {
        entry.run.close();
        runs.delete(session);
        recordError(session, id, err);
      }
    });
  }
  for (const [session, { run, leader, load1m }] of runs) {
    try {
      const figures = run.finish();
      recordFigures(session, id, {
        leader: leader.name,
        connections: shape.connections,
        in_flight: shape.inFlight,
        slices: options.slices,
        ...figures,
        load_1m_at_start: load1m,
      });
    } catch (err) {
      recordError(session, id, err);
    }
  }
}

function summarizeFailover(rounds: FailoverRound[]): Record<string, number> {
  const of = (k: keyof FailoverRound): number[] => rounds.map((r) => r[k]);
  return {
    rounds: rounds.length,
    election_ms_median: median(of("election_ms")),
    election_ms_min: Math.min(...of("election_ms")),
    election_ms_max: Math.max(...of("election_ms")),
    write_unavailable_ms_median: median(of("write_unavailable_ms")),
    write_unavailable_ms_max: Math.max(...of("write_unavailable_ms")),
    restart_answering_ms_median: median(of("restart_answering_ms")),
    catch_up_ms_median: median(of("catch_up_ms")),
    catch_up_ms_max: Math.max(...of("catch_up_ms")),
  };
}

/**
 * Both clusters run at once and the work alternates between them (load scenarios slice by slice,
 * the others scenario by scenario, failover round by round; which target goes first alternates
 * too), so that the load other programs put on this shared machine falls on both targets alike.
 * The idle cluster costs only its heartbeats (`members_cpu_pct` of `memory_idle` shows how much).
 */
async function runAll(options: Options, settings: ClusterSettings): Promise<Map<TargetName, TargetResults>> {
  const sessions: Session[] = [];
  try {
    for (const name of options.targets) sessions.push(await startSession(name, options, settings));
    const wanted = (id: string): boolean => options.scenarios.has(id);
    let turn = 0;
    /** Runs `run` on every session, in an order that alternates from one call to the next. */
    const eachTarget = async (run: (session: Session) => Promise<void>): Promise<void> => {
      const order = turn++ % 2 === 0 ? sessions : [...sessions].reverse();
      for (const session of order) await run(session);
    };

    const idleMeters = sessions.map((s) => (s.cluster === null ? null : startCpuMeter(s.cluster.members)));
    await sleep(IDLE_SETTLE_MS);
    if (wanted("memory_idle")) {
      for (const [i, session] of sessions.entries()) {
        await measure(session, "memory_idle", async (cluster) => {
          const perMember = memoryPerMemberMiB(cluster);
          return { rss_mib_mean: mean(perMember), rss_mib_per_member: perMember, members_cpu_pct: idleMeters[i]?.().members_cpu_pct ?? null };
        });
      }
    }
    for (const id of ["put_seq", "put_64", "put_256"]) {
      if (wanted(id)) await loadScenario(sessions, id, options, eachTarget, async (s) => putOperation(s.keys, s.value));
    }
    if (wanted("memory_after_puts")) {
      for (const session of sessions) {
        await measure(session, "memory_after_puts", async (cluster) => {
          const perMember = memoryPerMemberMiB(cluster);
          return { rss_mib_mean: mean(perMember), rss_mib_per_member: perMember, puts: session.keys.putCount };
        });
      }
    }
    for (const [id, serializable] of [
      ["get_linearizable_64", false],
      ["get_serializable_64", true],
    ] as const) {
      if (wanted(id)) await loadScenario(sessions, id, options, eachTarget, (s, leader) => getOperation(leader, s.keys, s.value, serializable));
    }
    if (wanted("watch_latency")) {
      await eachTarget((s) =>
        measure(s, "watch_latency", async (cluster) => {
          const { leader } = await cluster.findLeader(LEADER_TIMEOUT_MS);
          return { leader: leader.name, ...(await runWatchLatency(leader, s.value, options.seconds)) };
        }),
      );
    }
    if (wanted("failover")) {
      const rounds = new Map<Session, FailoverRound[]>(sessions.map((s) => [s, []]));
      const errors = new Map<Session, string>();
      for (let i = 0; i < options.failoverRounds; i++) {
        await eachTarget(async (s) => {
          if (s.cluster === null || errors.has(s)) return;
          try {
            const round = await runFailoverRound(s.cluster, s.value);
            rounds.get(s)!.push(round);
            progress(
              s.name,
              `failover round ${i + 1}/${options.failoverRounds}: ${JSON.stringify(round, (_k, v: unknown) => (typeof v === "number" ? Math.round(v) : v))}`,
            );
          } catch (err) {
            errors.set(s, (err as Error).message);
          }
        });
      }
      for (const s of sessions) {
        await measure(s, "failover", async () => {
          const error = errors.get(s);
          if (error !== undefined) throw new ScenarioFailedError(error);
          return summarizeFailover(rounds.get(s)!);
        });
      }
    }
  } finally {
    for (const session of sessions) await stopSession(session);
  }
  return new Map(sessions.map((s) => [s.name, s.results]));
}

function numberOrNull(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function ratio(etcd: number | null, coxswain: number | null): number | null {
  return etcd === null || coxswain === null || etcd === 0 ? null : coxswain / etcd;
}

function report(options: Options, byTarget: Map<TargetName, TargetResults>, settings: ClusterSettings): void {
  const rows: BenchRow[] = [];
  const figure = (target: TargetName, id: string, key: string): number | null => numberOrNull(byTarget.get(target)?.get(id)?.figures?.[key]);
  for (const s of SCENARIOS) {
    if (!options.scenarios.has(s.id)) continue;
    for (const [i, m] of s.metrics.entries()) {
      const etcd = figure("etcd", s.id, m.key);
      const coxswain = figure("coxswain", s.id, m.key);
      rows.push({ scenario: i === 0 ? s.short : "", figure: m.label, etcd, coxswain, "coxswain/etcd": ratio(etcd, coxswain), better: `${m.better} is better` });
    }
    const outcome = (t: TargetName): Record<string, unknown> | null => {
      const o = byTarget.get(t)?.get(s.id);
      return o === undefined ? null : o.error !== null ? { error: o.error } : o.figures;
    };
    printBenchLine({
      bench: "store",
      scenario: s.id,
      title: s.title,
      seconds: options.seconds,
      value_bytes: VALUE_BYTES,
      etcd: outcome("etcd"),
      coxswain: outcome("coxswain"),
      ratio: Object.fromEntries(s.metrics.map((m) => [m.key, ratio(figure("etcd", s.id, m.key), figure("coxswain", s.id, m.key))])),
      better: Object.fromEntries(s.metrics.map((m) => [m.key, m.better])),
    });
  }
  printTable(
    `bench/store: 3 members on 127.0.0.1, ${VALUE_BYTES}-byte values, ${options.seconds} s per load scenario, ` +
      `heartbeat ${settings.heartbeatIntervalMs} ms, election ${settings.electionTimeoutMs} ms; ratio = coxswain/etcd`,
    rows,
  );
  for (const [target, results] of byTarget) {
    // One line per distinct error, naming the scenarios it stopped.
    const scenariosByError = new Map<string, string[]>();
    for (const [id, o] of results) if (o.error !== null) scenariosByError.set(o.error, [...(scenariosByError.get(o.error) ?? []), id]);
    for (const [error, ids] of scenariosByError) console.log(`${target} failed (${ids.join(", ")}): ${error}`);
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench-store: ${(err as Error).message}`);
    return 2;
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      process.stderr.write(`bench-store: ${signal}: stopping\n`);
      void Promise.allSettled([...activeClusters].map((c) => c.stop({ keepData: false }))).finally(() => process.exit(130));
    });
  }
  const settings = DEFAULT_SETTINGS;
  const byTarget = await runAll(options, settings);
  report(options, byTarget, settings);
  const anyFailed = [...byTarget.values()].some((r) => [...r.values()].some((o) => o.error !== null));
  return anyFailed ? 1 : 0;
}

process.exitCode = await main();
