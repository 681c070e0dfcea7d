/**
 * Starts a three-member cluster of one target (real etcd or `bin/coxswain store`) on 127.0.0.1
 * with the same etcd flags for both, in a fresh temporary data directory; finds the leader; kills
 * (-9) and restarts members for the failover scenario; stops everything at the end (SIGTERM, then
 * SIGKILL), also when the bench fails or is interrupted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert } from "@coxswain/raft";
import { type MemberStatus, StoreConnection } from "./client.js";

export type TargetName = "etcd" | "coxswain";

/** The settings both targets get, as etcd flags (etcd's own defaults unless the brief fixes them). */
export interface ClusterSettings {
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
}

export const DEFAULT_SETTINGS: ClusterSettings = {
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
  snapshotCount: 100_000,
  quotaBackendBytes: 2 * 1024 ** 3,
  maxRequestBytes: 1.5 * 1024 ** 2,
  maxTxnOps: 128,
};

export interface TargetCommand {
  name: TargetName;
  executable: string;
  /** Arguments before the etcd flags (["store"] for `coxswain store`). */
  argsBefore: string[];
  /**
   * Member 1's client port; member i uses firstClientPort + (i-1)*1000 for clients and the next
   * port for peers (etcd's 2379/2380 pattern). Chosen below Linux's ephemeral range (32768+), so
   * that other programs' outgoing connections and random ports do not take them.
   */
  firstClientPort: number;
}

export const MEMBER_COUNT = 3;
const HOST = "127.0.0.1";
const STATUS_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 50;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_BYTES = 2_000;
const MEMBER_PORT_STRIDE = 1000;
const PORT_RANGE_SHIFT = 100;
const PORT_RANGE_ATTEMPTS_MAX = 5;
/** USER_HZ: 100 on every Linux architecture Node runs on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_S = 100;

export class ClusterStartError extends Error {
  override readonly name = "ClusterStartError";
}

export class PortBusyError extends Error {
  override readonly name = "PortBusyError";
}

export class Member {
  process: ChildProcess | null = null;
  exited: Promise<void> = Promise.resolve();
  /** Learned from the member's own Status answer. */
  memberId: bigint = 0n;
  /** A connection for control calls (Status); scenarios open their own for load. New after a restart. */
  control: StoreConnection;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    readonly logPath: string,
  ) {
    this.control = new StoreConnection(this.endpoint);
  }

  get endpoint(): string {
    return `${HOST}:${this.clientPort}`;
  }

  get pid(): number | null {
    return this.process !== null && this.process.exitCode === null && this.process.signalCode === null ? (this.process.pid ?? null) : null;
  }

  /** Resident set size from /proc/<pid>/status, or null if the member is not running. */
  rssBytes(): number | null {
    const pid = this.pid;
    if (pid === null) return null;
    try {
      const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return match === null ? null : Number(match[1]) * 1024;
    } catch {
      return null;
    }
  }

  /** CPU time (user + system) the member has used, from /proc/<pid>/stat, or null if not running. */
  cpuSeconds(): number | null {
    const pid = this.pid;
    if (pid === null) return null;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after the command name (which may contain spaces) start at field 3 (state); utime
      // and stime are fields 14 and 15, in clock ticks.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
    } catch {
      return null;
    }
  }

  logTail(): string {
    if (!existsSync(this.logPath)) return "(no log)";
    const text = readFileSync(this.logPath, "utf8");
    return text.slice(-LOG_TAIL_BYTES);
  }
}

/** Every child process any cluster started, so that an exit of the bench never leaves one behind. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveChildren) if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
});

export class Cluster {
  private constructor(
    readonly target: TargetCommand,
    readonly settings: ClusterSettings,
    readonly rootDir: string,
    readonly members: Member[],
  ) {}

  /** Starts three members in a fresh temporary directory and waits until all answer Status. */
  static async start(target: TargetCommand, settings: ClusterSettings, startTimeoutMs: number): Promise<Cluster> {
    const firstClientPort = await findFreePorts(target.firstClientPort);
    const rootDir = await mkdtemp(join(tmpdir(), `bench-store-${target.name}-`));
    const members: Member[] = [];
    for (let i = 1; i <= MEMBER_COUNT; i++) {
      const clientPort = firstClientPort + (i - 1) * MEMBER_PORT_STRIDE;
      const file = (suffix: string): string => join(rootDir, `${target.name}-${i}.${suffix}`);
      members.push(new Member(i, `${target.name}-${i}`, clientPort, clientPort + 1, file("data"), file("log")));
    }
    const cluster = new Cluster(target, settings, rootDir, members);
    try {
      for (const m of members) cluster.spawnMember(m, "new");
      await cluster.waitAllAnswering(startTimeoutMs);
    } catch (err) {
      const tails = members.map((m) => `--- ${m.name} (${m.logPath}) ---\n${m.logTail()}`).join("\n");
      await cluster.stop({ keepData: true });
      throw new ClusterStartError(`${target.name}: cluster did not start: ${(err as Error).message}\n${tails}`, { cause: err });
    }
    return cluster;
  }

  /** etcd's flags for one member; identical for both targets. */
  flagsFor(m: Member, state: "new" | "existing"): string[] {
    const s = this.settings;
    const initialCluster = this.members.map((x) => `${x.name}=http://${HOST}:${x.peerPort}`).join(",");
    return [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=http://${HOST}:${m.clientPort}`,
      `--advertise-client-urls=http://${HOST}:${m.clientPort}`,
      `--listen-peer-urls=http://${HOST}:${m.peerPort}`,
      `--initial-advertise-peer-urls=http://${HOST}:${m.peerPort}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=bench-store-${this.target.name}`,
      `--heartbeat-interval=${s.heartbeatIntervalMs}`,
      `--election-timeout=${s.electionTimeoutMs}`,
      `--snapshot-count=${s.snapshotCount}`,
      `--quota-backend-bytes=${s.quotaBackendBytes}`,
      `--max-request-bytes=${s.maxRequestBytes}`,
      `--max-txn-ops=${s.maxTxnOps}`,
      // Both log to a file in the run's directory; info-level logging would cost both some CPU.
      "--log-level=warn",
    ];
  }

  private spawnMember(m: Member, state: "new" | "existing"): void {
    assert(m.pid === null, `${m.name} is already running`);
    const log = openSync(m.logPath, "a");
    const child = spawn(this.target.executable, [...this.target.argsBefore, ...this.flagsFor(m, state)], { stdio: ["ignore", log, log] });
    closeSync(log);
    liveChildren.add(child);
    m.process = child;
    m.exited = new Promise<void>((resolve) => {
      child.once("exit", () => {
        liveChildren.delete(child);
        resolve();
      });
      child.once("error", () => {
        liveChildren.delete(child);
        resolve();
      });
    });
  }

  /** Waits until every running member answers Status (and learns each member's id). */
  async waitAllAnswering(timeoutMs: number, members: Member[] = this.members): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (const m of members) {
      for (;;) {
        if (m.pid === null) throw new ClusterStartError(`${m.name} exited (code ${m.process?.exitCode ?? "?"}, signal ${m.process?.signalCode ?? "-"})`);
        try {
          m.memberId = (await m.control.status(STATUS_TIMEOUT_MS)).memberId;
          break;
        } catch (err) {
          if (performance.now() > deadline) throw new ClusterStartError(`${m.name} did not answer Status within ${timeoutMs} ms: ${(err as Error).message}`);
          await sleep(POLL_INTERVAL_MS);
        }
      }
    }
  }

  /** The member that the running members agree is the leader (its own Status says so). */
  async findLeader(timeoutMs: number): Promise<{ leader: Member; status: MemberStatus }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (const m of this.members) {
        if (m.pid === null) continue;
        const status = await m.control.status(STATUS_TIMEOUT_MS).catch(() => null);
        if (status !== null && status.leaderId !== 0n && status.leaderId === status.memberId) return { leader: m, status };
      }
      if (performance.now() > deadline) throw new ClusterStartError(`${this.target.name}: no leader within ${timeoutMs} ms`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** kill -9; returns the performance.now() at which the signal was sent. */
  kill9(m: Member): number {
    const child = m.process;
    assert(child !== null && m.pid !== null, `${m.name} is not running`);
    const at = performance.now();
    child.kill("SIGKILL");
    return at;
  }

  /** Starts a killed member again from its data directory. */
  async restart(m: Member): Promise<void> {
    await m.exited;
    m.control.close();
    m.control = new StoreConnection(m.endpoint);
    this.spawnMember(m, "existing");
  }

  /** SIGTERM to every member, SIGKILL to any still running after the grace period. */
  async stop(options: { keepData: boolean }): Promise<void> {
    for (const m of this.members) m.control.close();
    const running = this.members.filter((m) => m.pid !== null);
    for (const m of running) m.process?.kill("SIGTERM");
    const graceOver = sleep(STOP_GRACE_MS).then(() => "timeout" as const);
    for (const m of running) {
      if ((await Promise.race([m.exited.then(() => "exited" as const), graceOver])) === "timeout") m.process?.kill("SIGKILL");
    }
    await Promise.all(running.map((m) => m.exited));
    if (!options.keepData) await rm(this.rootDir, { recursive: true, force: true });
  }
}

/**
 * The first client port, from `preferred`, at which all six ports are free; if another bench or
 * cluster holds one, the next range (+100) is tried.
 */
async function findFreePorts(preferred: number): Promise<number> {
  const busy: string[] = [];
  for (let attempt = 0; attempt < PORT_RANGE_ATTEMPTS_MAX; attempt++) {
    const first = preferred + attempt * PORT_RANGE_SHIFT;
    try {
      for (let i = 0; i < MEMBER_COUNT; i++) {
        await assertPortFree(first + i * MEMBER_PORT_STRIDE);
        await assertPortFree(first + i * MEMBER_PORT_STRIDE + 1);
      }
      return first;
    } catch (err) {
      if (!(err instanceof PortBusyError)) throw err;
      busy.push(err.message);
    }
  }
  throw new PortBusyError(`no free port range after ${PORT_RANGE_ATTEMPTS_MAX} attempts: ${busy.join("; ")}`);
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => reject(new PortBusyError(`127.0.0.1:${port} is in use (${err.code ?? err.message})`)));
    server.listen(port, HOST, () => server.close(() => resolve()));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
