/**
 * A store cluster of real processes on 127.0.0.1 for the storage tests: three members of
 * `bin/coxswain store` or, when asked, of real etcd — started with the same etcd flags. The idea is
 * packages/store/test/faults/harness.ts's, cut down to what these tests need (start, kill -9,
 * SIGSTOP, stop). Every process started here is killed by `stop()`, and by an exit hook if the
 * test process ends first.
 *
 * Targets: Coxswain's store always; real etcd too when STORAGE_TEST_ETCD=1 (binary from ETCD_BIN,
 * default /usr/bin/etcd).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, silentLogger } from "@coxswain/raft";
import { EtcdClient, type EtcdClientOptions } from "../etcd-client.js";

export type StoreTarget = "coxswain" | "etcd";

/** The repository root, from this file's place: packages/apiserver/dist/storage/testing/. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));

/** The targets this run covers: Coxswain's store, plus real etcd when STORAGE_TEST_ETCD=1. */
export function storeTargets(): StoreTarget[] {
  return process.env["STORAGE_TEST_ETCD"] === "1" ? ["coxswain", "etcd"] : ["coxswain"];
}

/** Why a target cannot run here (a skip message), or null. */
export function missingPiece(target: StoreTarget): string | null {
  if (target === "etcd") {
    const binary = process.env["ETCD_BIN"] ?? "/usr/bin/etcd";
    return existsSync(binary) ? null : `no etcd binary at ${binary} (set ETCD_BIN)`;
  }
  return existsSync(join(REPO_ROOT, "packages", "cli", "dist", "coxswain.js")) ? null : "bin/coxswain is not built (make build)";
}

/** How long a cluster may take to elect a leader and answer a write. */
const START_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 20;
/** Polls of /proc for a SIGSTOPped member to show as stopped. */
const STOP_POLLS_MAX = 1_000;

const livePids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

export interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logPath: string;
  process: ChildProcess | null;
  /** Resolves when the current process has exited. */
  exited: Promise<void>;
}

export class StoreCluster {
  private stopped = false;

  private constructor(
    readonly target: StoreTarget,
    readonly baseDir: string,
    readonly members: Member[],
  ) {}

  static async start(target: StoreTarget, memberCount = 3): Promise<StoreCluster> {
    installExitHook();
    const ports = await freePorts(2 * memberCount);
    const baseDir = mkdtempSync(join(tmpdir(), `coxswain-storage-${target}-`));
    const members: Member[] = [];
    for (let i = 0; i < memberCount; i++) {
      const name = `m${i + 1}`;
      members.push({
        name,
        clientPort: ports[2 * i]!,
        peerPort: ports[2 * i + 1]!,
        dataDir: join(baseDir, name),
        logPath: join(baseDir, `${name}.log`),
        process: null,
        exited: Promise.resolve(),
      });
    }
    const cluster = new StoreCluster(target, baseDir, members);
    try {
      for (const member of members) cluster.spawn(member);
      await cluster.waitUntilServing();
    } catch (err) {
      await cluster.stop({ keepData: true });
      throw err;
    }
    return cluster;
  }

  endpoints(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  indexOfEndpoint(endpoint: string): number {
    const index = this.endpoints().indexOf(endpoint);
    assert(index >= 0, "an endpoint of this cluster");
    return index;
  }

  /** A client for these tests: quiet, with short backoffs. */
  client(endpoints: string[] = this.endpoints(), options: Omit<EtcdClientOptions, "endpoints"> = {}): EtcdClient {
    return new EtcdClient({ endpoints, logger: silentLogger, backoffMsMax: 500, ...options });
  }

  /** kill -9 of member `index`; resolves once the process is gone. */
  async kill(index: number): Promise<void> {
    this.signal(index, "SIGKILL");
    await this.members[index]!.exited;
  }

  /** SIGSTOP: the member freezes with its connections open; resolves once the kernel says it is stopped. */
  async pause(index: number): Promise<void> {
    this.signal(index, "SIGSTOP");
    const pid = this.members[index]!.process!.pid!;
    // /proc/<pid>/stat: "pid (comm) state ..."; T is "stopped by a signal".
    const state = (): string =>
      readFileSync(`/proc/${pid}/stat`, "utf8")
        .replace(/^.*\) /s, "")
        .charAt(0);
    for (let polls = 0; state() !== "T"; polls++) {
      assert(polls < STOP_POLLS_MAX, `member ${this.members[index]!.name} stops on SIGSTOP`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  logTail(index: number): string {
    const path = this.members[index]!.logPath;
    return existsSync(path) ? readFileSync(path, "utf8").split("\n").slice(-LOG_TAIL_LINES).join("\n") : "(no log)";
  }

  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.members.map(async (member) => {
        const child = member.process;
        if (child === null || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
        await member.exited;
      }),
    );
    if (options.keepData !== true) rmSync(this.baseDir, { recursive: true, force: true });
  }

  private signal(index: number, sig: NodeJS.Signals): void {
    const child = this.members[index]?.process;
    assert(child !== null && child !== undefined && child.pid !== undefined, "signal a started member");
    try {
      process.kill(child.pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  private spawn(member: Member): void {
    const initialCluster = this.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
    const flags = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${member.clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${member.clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${member.peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${member.peerPort}`,
      `--initial-cluster=${initialCluster}`,
      "--initial-cluster-state=new",
      `--initial-cluster-token=storage-test-${this.target}`,
    ];
    const command = this.target === "etcd" ? (process.env["ETCD_BIN"] ?? "/usr/bin/etcd") : join(REPO_ROOT, "bin", "coxswain");
    const args = this.target === "etcd" ? flags : ["store", ...flags];
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
    assert(child.pid !== undefined, `spawned ${command}`);
    const pid = child.pid;
    livePids.add(pid);
    member.process = child;
    member.exited = new Promise((resolve) => {
      child.once("exit", () => {
        livePids.delete(pid);
        resolve();
      });
      child.once("error", () => {
        livePids.delete(pid);
        resolve();
      });
    });
  }

  /** Every member answers a write through itself (so a leader exists and each member reaches it). */
  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (const [index, endpoint] of this.endpoints().entries()) {
      const client = this.client([endpoint]);
      try {
        for (;;) {
          try {
            await client.put({ key: "storage-test/ready", value: endpoint }, { timeoutMs: 2_000 });
            break;
          } catch (err) {
            const member = this.members[index]!;
            if (member.process?.exitCode !== null && member.process?.exitCode !== undefined) {
              throw new Error(`${member.name} exited (code ${member.process.exitCode}):\n${this.logTail(index)}`);
            }
            if (Date.now() >= deadline) throw new Error(`${this.target} member ${member.name} not serving: ${(err as Error).message}\n${this.logTail(index)}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      } finally {
        client.close();
      }
    }
  }
}

/** Listening ports below the kernel's ephemeral range, picked at random and probed free. */
const LISTEN_PORT_MIN = 20_000;
const LISTEN_PORT_MAX = 32_000;
const PORT_PROBES_MAX = 1000;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let probe = 0; probe < PORT_PROBES_MAX && ports.size < count; probe++) {
    const port = LISTEN_PORT_MIN + Math.floor(Math.random() * (LISTEN_PORT_MAX - LISTEN_PORT_MIN));
    if (!ports.has(port) && (await portIsFree(port))) ports.add(port);
  }
  assert(ports.size === count, `found ${count} free ports`);
  return [...ports];
}
