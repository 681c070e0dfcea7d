/**
 * A cluster of store members as real processes on 127.0.0.1 — real etcd or Coxswain's store,
 * started with the same etcd flags — and the faults a test injects into it: kill -9,
 * SIGSTOP/SIGCONT and restart from the member's data dir. Every process started here is killed by
 * `stop()`, and by an exit hook if the test process ends first.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert } from "@coxswain/raft";
import { KvConnection, type MemberStatus } from "./kv-client.js";
import { freePorts } from "./ports.js";
import { REPO_ROOT, coxswainBinary, etcdBinary, missingLauncher } from "./paths.js";
import { ManagedProcess, type UnexpectedExit, holdBaseDir, releaseBaseDir } from "./processes.js";
import { sleep } from "./time.js";

export type Target = "etcd" | "coxswain";

export const TARGETS: readonly Target[] = ["etcd", "coxswain"];

export interface StoreClusterOptions {
  target: Target;
  /** Default 3. */
  memberCount?: number;
  /** One Raft tick. Default 100 (etcd's default). */
  heartbeatIntervalMs?: number;
  /** Default 1000 (etcd's default). */
  electionTimeoutMs?: number;
  /** --snapshot-count; the target's default when undefined. Small values make restarted members catch up by snapshot. */
  snapshotCount?: number;
  /** Default $ETCD_BIN or /usr/bin/etcd. */
  etcdBinary?: string;
  /** Default: found from this package's location. */
  repoRoot?: string;
  /** More flags for every member (e.g. ones only one target knows). */
  extraFlags?: string[];
  /** Where the members' data dirs and logs go (created if missing); default a fresh temporary dir. */
  baseDir?: string;
  /** Progress lines (one per lifecycle event). Default: none. */
  log?: (line: string) => void;
}

export class ClusterStartError extends Error {
  override readonly name = "ClusterStartError";
}

/** How long a member may take to answer Status after being started. */
const MEMBER_START_TIMEOUT_MS = 30_000;
const STATUS_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 100;

export class Member extends ManagedProcess {
  /** Learned from the member's first Status answer; stable across restarts (it lives in the data dir). */
  memberId: bigint | null = null;
  /** For Status and the final per-member reads. */
  readonly connection: KvConnection;

  constructor(
    readonly index: number,
    name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    logPath: string,
  ) {
    super(name, logPath);
    this.connection = new KvConnection(this.endpoint);
  }

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }
}

type ResolvedOptions = Required<Omit<StoreClusterOptions, "snapshotCount" | "log" | "baseDir">> & { snapshotCount: number | undefined };

export class StoreCluster {
  readonly members: Member[];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly log: (line: string) => void;
  private stopped = false;

  private constructor(
    readonly options: ResolvedOptions,
    readonly baseDir: string,
    ports: number[],
    log: (line: string) => void,
  ) {
    this.log = log;
    this.members = [];
    for (let i = 0; i < options.memberCount; i++) {
      const name = `m${i + 1}`;
      this.members.push(new Member(i, name, ports[2 * i]!, ports[2 * i + 1]!, join(baseDir, name), join(baseDir, `${name}.log`)));
    }
  }

  /** Starts every member and waits until each answers Status and a leader is elected. */
  static async start(options: StoreClusterOptions): Promise<StoreCluster> {
    const resolved: ResolvedOptions = {
      target: options.target,
      memberCount: options.memberCount ?? 3,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
      electionTimeoutMs: options.electionTimeoutMs ?? 1000,
      snapshotCount: options.snapshotCount,
      extraFlags: options.extraFlags ?? [],
      etcdBinary: options.etcdBinary ?? etcdBinary(),
      repoRoot: options.repoRoot ?? REPO_ROOT,
    };
    assert(resolved.memberCount >= 1, "a cluster has at least one member");
    const missing = missingTargetPiece(resolved.target, resolved.repoRoot, resolved.etcdBinary);
    if (missing !== null) throw new ClusterStartError(`cannot start a ${resolved.target} cluster: missing ${missing.what}`);
    const ports = await freePorts(2 * resolved.memberCount);
    let baseDir: string;
    if (options.baseDir !== undefined) {
      mkdirSync(options.baseDir, { recursive: true });
      baseDir = options.baseDir;
    } else {
      baseDir = mkdtempSync(join(tmpdir(), `coxswain-store-${resolved.target}-`));
    }
    holdBaseDir(baseDir);
    const cluster = new StoreCluster(resolved, baseDir, ports, options.log ?? (() => {}));
    try {
      for (const member of cluster.members) cluster.spawnMember(member, "new");
      await cluster.waitUntilServing(MEMBER_START_TIMEOUT_MS);
    } catch (err) {
      await cluster.stop({ keepData: true });
      throw err;
    }
    return cluster;
  }

  get target(): Target {
    return this.options.target;
  }

  endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  member(index: number): Member {
    const member = this.members[index];
    assert(member !== undefined, "member index within the cluster");
    return member;
  }

  /** kill -9: no chance to flush or say goodbye; what was acknowledged must already be on disk. */
  kill(index: number): void {
    const member = this.member(index);
    member.kill();
    this.log(`kill -9 ${member.name} (pid ${member.pid})`);
  }

  /** SIGSTOP: the process freezes with its connections open, as a long GC pause or a stalled VM would. */
  pause(index: number): void {
    const member = this.member(index);
    member.pause();
    this.log(`SIGSTOP ${member.name} (pid ${member.pid})`);
  }

  resume(index: number): void {
    const member = this.member(index);
    member.resume();
    this.log(`SIGCONT ${member.name} (pid ${member.pid})`);
  }

  /** Starts a killed member again from its data dir (once the old process is gone and its ports are free). */
  async restart(index: number): Promise<void> {
    const member = this.member(index);
    assert(member.state === "killed", "restart a killed member");
    await member.exited;
    this.spawnMember(member, "existing");
    this.log(`restart ${member.name} (pid ${member.pid})`);
  }

  /** Brings every member back: SIGCONT the paused, restart the killed. */
  async healAll(): Promise<void> {
    for (const member of this.members) {
      if (member.state === "paused") this.resume(member.index);
      else if (member.state === "killed") await this.restart(member.index);
    }
  }

  /** Status of every running member (paused and killed ones are skipped); null for those that did not answer. */
  async statuses(timeoutMs = STATUS_TIMEOUT_MS): Promise<Array<MemberStatus | null>> {
    return Promise.all(
      this.members.map(async (member) => {
        if (member.state !== "running") return null;
        try {
          const status = await member.connection.status(timeoutMs);
          member.memberId ??= status.memberId;
          return status;
        } catch {
          return null;
        }
      }),
    );
  }

  /**
   * The index of the member that says it is the leader (its own id equals the leader id it
   * reports), or null when no running member says so within the timeout.
   */
  async findLeader(timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await this.statuses();
      const leader = statuses.findIndex((s) => s !== null && s.leaderId !== 0n && s.leaderId === s.memberId);
      if (leader >= 0) return leader;
      if (Date.now() >= deadline) return null;
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** Waits until every running member answers Status and all of them name the same leader. */
  async waitUntilServing(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no status yet";
    for (;;) {
      this.throwIfCrashed();
      const statuses = await this.statuses();
      const running = this.members.filter((m) => m.state === "running");
      const answers = running.map((m) => statuses[m.index] ?? null);
      const leaders = new Set(answers.map((s) => s?.leaderId ?? 0n));
      if (answers.every((s) => s !== null) && leaders.size === 1 && !leaders.has(0n)) return;
      last = running.map((m) => `${m.name}: ${describeStatus(statuses[m.index] ?? null)}`).join(", ");
      if (Date.now() >= deadline) {
        throw new ClusterStartError(`${this.target} cluster not serving within ${timeoutMs} ms (${last}); logs in ${this.baseDir}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  /** The end of a member's log, for failure messages. */
  logTail(index: number, lines?: number): string {
    return this.member(index).logTail(lines);
  }

  /** Kills every member and closes the connections; removes the data unless `keepData`. Idempotent. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const member of this.members) member.connection.close();
      await Promise.all(this.members.map((m) => m.stop()));
      releaseBaseDir(this.baseDir);
    }
    if (options.keepData === true) this.log(`data and logs kept in ${this.baseDir}`);
    else rmSync(this.baseDir, { recursive: true, force: true });
  }

  /**
   * Replaces member `index` with a fresh one — new name, new ports, empty data dir — started with
   * --initial-cluster-state existing, as an operator replaces a dead member. The caller first
   * removes the old member and adds the new one's peer URL (etcdctl member remove / member add).
   */
  async startReplacement(index: number, name: string, clientPort: number, peerPort: number): Promise<Member> {
    const old = this.member(index);
    assert(old.state === "killed", "the member being replaced is down");
    old.connection.close();
    const fresh = new Member(index, name, clientPort, peerPort, join(this.baseDir, name), join(this.baseDir, `${name}.log`));
    this.members[index] = fresh;
    this.spawnMember(fresh, "existing");
    return fresh;
  }

  private throwIfCrashed(): void {
    const crash = this.unexpectedExits[0];
    if (crash !== undefined) {
      throw new ClusterStartError(`${crash.name} exited (code ${crash.code}, signal ${crash.signal}):\n${crash.logTail}`);
    }
  }

  private spawnMember(member: Member, clusterState: "new" | "existing"): void {
    const { command, args } = this.commandLine(member, clusterState);
    member.start(command, args, {
      env: { ...process.env, COXSWAIN_LOG_LEVEL: process.env["COXSWAIN_LOG_LEVEL"] ?? "info" },
      onUnexpectedExit: (exit) => {
        this.unexpectedExits.push(exit);
        this.log(`${member.name} exited on its own (code ${exit.code}, signal ${exit.signal}); log ${member.logPath}`);
      },
    });
  }

  private commandLine(member: Member, clusterState: "new" | "existing"): { command: string; args: string[] } {
    const o = this.options;
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
    // etcd's flag names; Coxswain's store takes the same ones.
    const flags = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${member.clientUrl}`,
      `--advertise-client-urls=${member.clientUrl}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${clusterState}`,
      `--initial-cluster-token=testkit-${o.target}`,
      `--heartbeat-interval=${o.heartbeatIntervalMs}`,
      `--election-timeout=${o.electionTimeoutMs}`,
      ...(o.snapshotCount === undefined ? [] : [`--snapshot-count=${o.snapshotCount}`]),
      ...o.extraFlags,
    ];
    if (o.target === "etcd") return { command: o.etcdBinary, args: flags };
    return { command: coxswainBinary(o.repoRoot), args: ["store", ...flags] };
  }
}

/** A piece a target needs that is not there: what it is, and how to get it. */
export interface MissingPiece {
  piece: "etcd-binary" | "store-member" | "launcher";
  what: string;
}

/** What is missing to run a target (so that a skip or an error names exactly that), or null. */
export function missingTargetPiece(target: Target, repoRoot = REPO_ROOT, etcd = etcdBinary()): MissingPiece | null {
  if (target === "etcd") {
    return existsSync(etcd) ? null : { piece: "etcd-binary", what: `the etcd binary ${etcd} (Debian's etcd-server, or set ETCD_BIN)` };
  }
  if (!existsSync(join(repoRoot, "packages", "store", "dist", "member"))) {
    return { piece: "store-member", what: "the store member (packages/store/dist/member, built from packages/store/src/member)" };
  }
  const launcher = missingLauncher(repoRoot);
  return launcher === null ? null : { piece: "launcher", what: launcher };
}

function describeStatus(status: MemberStatus | null): string {
  if (status === null) return "no answer";
  return status.leaderId === 0n ? "no leader" : `leader ${status.leaderId.toString(16)}`;
}
