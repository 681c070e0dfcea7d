/**
 * A three-member cluster of real processes on 127.0.0.1 — real etcd or Coxswain's store, started
 * with the same etcd flags — and the faults the test injects into it: kill -9, SIGSTOP/SIGCONT and
 * restart from the member's data dir. Every process started here is killed by `stop()`, and by an
 * exit hook if the test process ends first.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert } from "@coxswain/raft";
import { KvConnection, type MemberStatus } from "./kv-client.js";

export type Target = "etcd" | "coxswain";

export const TARGETS: readonly Target[] = ["etcd", "coxswain"];

/** The repository root, from this file's place: packages/store/test/dist/faults/harness.js. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));

export const ETCD_BINARY_DEFAULT = "/usr/bin/etcd";

export interface ClusterOptions {
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
  /** Default: found from this file's location. */
  repoRoot?: string;
  /** More flags for every member (e.g. ones only one target knows). */
  extraFlags?: string[];
  /** Progress lines (one per lifecycle event). Default: none. */
  log?: (line: string) => void;
}

export type MemberState = "running" | "paused" | "killed";

/** A member process that ended without being killed by the harness: for a store, a crash. */
export interface UnexpectedExit {
  member: string;
  code: number | null;
  signal: string | null;
  /** The end of the member's log. */
  logTail: string;
}

export class ClusterStartError extends Error {
  override readonly name = "ClusterStartError";
}

/** How long a member may take to answer Status after being started. */
const MEMBER_START_TIMEOUT_MS = 30_000;
const STATUS_TIMEOUT_MS = 500;
const POLL_INTERVAL_MS = 100;
/** Lines of a member's log quoted when it fails. */
const LOG_TAIL_LINES = 30;

export class Member {
  state: MemberState = "killed";
  process: ChildProcess | null = null;
  /** Learned from the member's first Status answer; stable across restarts (it lives in the data dir). */
  memberId: bigint | null = null;
  /** For Status and the final per-member reads. */
  readonly connection: KvConnection;
  /** Set before the harness kills the process, so that its exit is not reported as a crash. */
  expectingExit = false;
  /** Resolves when the current process has exited. */
  exited: Promise<void> = Promise.resolve();
  starts = 0;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly dataDir: string,
    readonly logPath: string,
  ) {
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

  get pid(): number | null {
    return this.process?.pid ?? null;
  }
}

/** Pids of every live member process of every cluster in this process, for the exit hook. */
const livePids = new Set<number>();
/** Data dirs of clusters not stopped yet: an interrupted run leaves them for a look at the logs. */
const liveBaseDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Ctrl-C or a supervisor's SIGTERM: exit normally, so that the hook below runs.
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(128 + (sig === "SIGINT" ? 2 : 15)));
  // 'exit' handlers run synchronously; process.kill is synchronous. SIGKILL also ends stopped processes.
  process.on("exit", () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of liveBaseDirs) process.stderr.write(`faults: interrupted; members killed, data and logs left in ${dir}\n`);
  });
}

export class Cluster {
  readonly members: Member[];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly log: (line: string) => void;
  private stopped = false;

  private constructor(
    readonly options: Required<Omit<ClusterOptions, "snapshotCount" | "log">> & { snapshotCount: number | undefined },
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
  static async start(options: ClusterOptions): Promise<Cluster> {
    const resolved = {
      target: options.target,
      memberCount: options.memberCount ?? 3,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
      electionTimeoutMs: options.electionTimeoutMs ?? 1000,
      snapshotCount: options.snapshotCount,
      extraFlags: options.extraFlags ?? [],
      etcdBinary: options.etcdBinary ?? process.env["ETCD_BIN"] ?? ETCD_BINARY_DEFAULT,
      repoRoot: options.repoRoot ?? REPO_ROOT,
    };
    assert(resolved.memberCount >= 1, "a cluster has at least one member");
    const missing = missingTargetPiece(resolved.target, resolved.repoRoot, resolved.etcdBinary);
    if (missing !== null) throw new ClusterStartError(`cannot start a ${resolved.target} cluster: missing ${missing.what}`);
    installExitHook();
    const ports = await freePorts(2 * resolved.memberCount);
    const baseDir = mkdtempSync(join(tmpdir(), `coxswain-faults-${resolved.target}-`));
    liveBaseDirs.add(baseDir);
    const cluster = new Cluster(resolved, baseDir, ports, options.log ?? (() => {}));
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
    assert(member.state !== "killed", "kill a member that is running or paused");
    member.expectingExit = true;
    signal(member, "SIGKILL");
    member.state = "killed";
    this.log(`kill -9 ${member.name} (pid ${member.pid})`);
  }

  /** SIGSTOP: the process freezes with its connections open, as a long GC pause or a stalled VM would. */
  pause(index: number): void {
    const member = this.member(index);
    assert(member.state === "running", "pause a running member");
    signal(member, "SIGSTOP");
    member.state = "paused";
    this.log(`SIGSTOP ${member.name} (pid ${member.pid})`);
  }

  resume(index: number): void {
    const member = this.member(index);
    assert(member.state === "paused", "resume a paused member");
    signal(member, "SIGCONT");
    member.state = "running";
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
  logTail(index: number, lines = LOG_TAIL_LINES): string {
    const member = this.member(index);
    if (!existsSync(member.logPath)) return "(no log)";
    return readFileSync(member.logPath, "utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  }

  /** Kills every member and closes the connections; removes the data unless `keepData`. Idempotent. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      const exits: Array<Promise<void>> = [];
      for (const member of this.members) {
        member.connection.close();
        const child = member.process;
        if (child === null || child.exitCode !== null || child.signalCode !== null) continue;
        member.expectingExit = true;
        exits.push(member.exited);
        signal(member, "SIGKILL");
        member.state = "killed";
      }
      await Promise.all(exits);
      liveBaseDirs.delete(this.baseDir);
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
      throw new ClusterStartError(`${crash.member} exited (code ${crash.code}, signal ${crash.signal}):\n${crash.logTail}`);
    }
  }

  private spawnMember(member: Member, clusterState: "new" | "existing"): void {
    const { command, args } = this.commandLine(member, clusterState);
    const logFd = openSync(member.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: ["ignore", logFd, logFd],
        env: { ...process.env, COXSWAIN_LOG_LEVEL: process.env["COXSWAIN_LOG_LEVEL"] ?? "info" },
      });
    } finally {
      closeSync(logFd);
    }
    const pid = child.pid;
    assert(pid !== undefined, `spawned ${command}`);
    livePids.add(pid);
    member.process = child;
    member.state = "running";
    member.expectingExit = false;
    member.starts++;
    let markExited: () => void = () => {};
    member.exited = new Promise((resolve) => (markExited = resolve));
    child.once("error", (err) => {
      // Could not start (or signal) the process; "exit" may never come.
      livePids.delete(pid);
      markExited();
      if (!member.expectingExit) this.unexpectedExits.push({ member: member.name, code: null, signal: null, logTail: `${command}: ${err.message}` });
    });
    child.once("exit", (code, sig) => {
      livePids.delete(pid);
      markExited();
      if (member.process === child && !member.expectingExit) {
        member.state = "killed";
        this.unexpectedExits.push({ member: member.name, code, signal: sig, logTail: this.logTail(member.index) });
        this.log(`${member.name} exited on its own (code ${code}, signal ${sig}); log ${member.logPath}`);
      }
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
      `--initial-cluster-token=faults-${o.target}`,
      `--heartbeat-interval=${o.heartbeatIntervalMs}`,
      `--election-timeout=${o.electionTimeoutMs}`,
      ...(o.snapshotCount === undefined ? [] : [`--snapshot-count=${o.snapshotCount}`]),
      ...o.extraFlags,
    ];
    if (o.target === "etcd") return { command: o.etcdBinary, args: flags };
    return { command: join(o.repoRoot, "bin", "coxswain"), args: ["store", ...flags] };
  }
}

/** A piece a target needs that is not there: what it is, and how to get it. */
export interface MissingPiece {
  piece: "etcd-binary" | "store-member" | "launcher";
  what: string;
}

/** What is missing to run a target (so that a skip or an error names exactly that), or null. */
export function missingTargetPiece(target: Target, repoRoot = REPO_ROOT, etcdBinary = process.env["ETCD_BIN"] ?? ETCD_BINARY_DEFAULT): MissingPiece | null {
  if (target === "etcd") {
    return existsSync(etcdBinary) ? null : { piece: "etcd-binary", what: `the etcd binary ${etcdBinary} (Debian's etcd-server, or set ETCD_BIN)` };
  }
  if (!existsSync(join(repoRoot, "packages", "store", "dist", "member"))) {
    return { piece: "store-member", what: "the store member (packages/store/dist/member, built from packages/store/src/member)" };
  }
  if (!existsSync(join(repoRoot, "packages", "cli", "dist", "coxswain.js"))) {
    return { piece: "launcher", what: "the coxswain launcher packages/cli/dist/coxswain.js behind bin/coxswain (run make build)" };
  }
  return null;
}

function signal(member: Member, sig: NodeJS.Signals): void {
  const pid = member.pid;
  assert(pid !== null, "signal a member that was started");
  try {
    process.kill(pid, sig);
  } catch (err) {
    // ESRCH: it already died; its exit handler reports that.
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

function describeStatus(status: MemberStatus | null): string {
  if (status === null) return "no answer";
  return status.leaderId === 0n ? "no leader" : `leader ${status.leaderId.toString(16)}`;
}

/**
 * Listening ports come from below the kernel's ephemeral range: a member that is down for a while
 * must get its port back, and a port in the ephemeral range may meanwhile be taken as the local
 * end of some outgoing connection.
 */
const LISTEN_PORT_MIN = 20_000;
const EPHEMERAL_PORT_MIN_DEFAULT = 32_768;
/** Attempts at finding free ports before giving up (each is one bind). */
const PORT_PROBES_MAX = 1000;

function ephemeralPortMin(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LISTEN_PORT_MIN + 1000 ? low : EPHEMERAL_PORT_MIN_DEFAULT;
  } catch {
    return EPHEMERAL_PORT_MIN_DEFAULT;
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** `count` distinct ports that are free now, picked at random below the ephemeral range. */
export async function freePorts(count: number): Promise<number[]> {
  const span = ephemeralPortMin() - LISTEN_PORT_MIN;
  const ports = new Set<number>();
  for (let probe = 0; probe < PORT_PROBES_MAX && ports.size < count; probe++) {
    const port = LISTEN_PORT_MIN + Math.floor(Math.random() * span);
    if (!ports.has(port) && (await portIsFree(port))) ports.add(port);
  }
  if (ports.size < count) throw new ClusterStartError(`found only ${ports.size} free ports of ${count} after ${PORT_PROBES_MAX} probes`);
  return [...ports];
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
