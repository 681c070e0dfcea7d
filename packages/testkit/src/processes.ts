/**
 * One child process a test owns — a store member, an API server — with the faults tests inject
 * (kill -9, SIGSTOP/SIGCONT) and restarts. Output goes to a log file; an exit the test did not
 * cause is recorded as an `UnexpectedExit` with the end of that log. Every live process is killed
 * by an exit hook if the test process ends first (Ctrl-C, a failed assertion, a timeout).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { assert } from "@coxswain/raft";

export type ProcessState = "running" | "paused" | "killed";

/** A process that ended without being killed by the test kit: for a server, a crash. */
export interface UnexpectedExit {
  /** The process's name in its cluster (`m1`, `apiserver-2`). */
  name: string;
  code: number | null;
  signal: string | null;
  /** The end of the process's log. */
  logTail: string;
}

/** Lines of a log quoted when a process fails. */
export const LOG_TAIL_LINES = 30;

/** Pids of every live process started by the test kit in this process, for the exit hook. */
const livePids = new Set<number>();
/** Directories of clusters not stopped yet: an interrupted run leaves them for a look at the logs. */
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
    for (const dir of liveBaseDirs) process.stderr.write(`testkit: interrupted; processes killed, data and logs left in ${dir}\n`);
  });
}

/** Marks a cluster's directory as in use until `releaseBaseDir` (the exit hook names it if not). */
export function holdBaseDir(dir: string): void {
  installExitHook();
  liveBaseDirs.add(dir);
}

export function releaseBaseDir(dir: string): void {
  liveBaseDirs.delete(dir);
}

/**
 * Kills `child` in the exit hook if it is still alive then (for helper processes such as a
 * `kubectl get -w` that a failed test never stopped).
 */
export function killOnExit(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  installExitHook();
  livePids.add(pid);
  child.once("exit", () => livePids.delete(pid));
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Called once when the process ends without the test kit having killed it. */
  onUnexpectedExit?: (exit: UnexpectedExit) => void;
}

export class ManagedProcess {
  state: ProcessState = "killed";
  process: ChildProcess | null = null;
  /** Set before the test kit kills the process, so that its exit is not reported as a crash. */
  expectingExit = false;
  /** Resolves when the current process has exited. */
  exited: Promise<void> = Promise.resolve();
  /** How many times a process was started here (restarts are starts - 1). */
  starts = 0;

  constructor(
    readonly name: string,
    readonly logPath: string,
  ) {}

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  /** Starts the process (appending to its log); the previous one must have exited. */
  start(command: string, args: readonly string[], options: StartOptions = {}): void {
    assert(this.state === "killed", "start a process that is not running");
    installExitHook();
    const logFd = openSync(this.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ["ignore", logFd, logFd], env: options.env ?? process.env });
    } finally {
      closeSync(logFd);
    }
    const pid = child.pid;
    this.process = child;
    this.state = "running";
    this.expectingExit = false;
    this.starts++;
    let markExited: () => void = () => {};
    this.exited = new Promise((resolve) => (markExited = resolve));
    const report = options.onUnexpectedExit ?? (() => {});
    if (pid !== undefined) livePids.add(pid);
    child.once("error", (err) => {
      // Could not start (or signal) the process; "exit" may never come.
      if (pid !== undefined) livePids.delete(pid);
      markExited();
      if (this.process === child && !this.expectingExit) {
        this.state = "killed";
        report({ name: this.name, code: null, signal: null, logTail: `${command}: ${err.message}` });
      }
    });
    child.once("exit", (code, sig) => {
      if (pid !== undefined) livePids.delete(pid);
      markExited();
      if (this.process === child && !this.expectingExit) {
        this.state = "killed";
        report({ name: this.name, code, signal: sig, logTail: this.logTail() });
      }
    });
  }

  /** kill -9: no chance to flush or say goodbye. */
  kill(): void {
    assert(this.state !== "killed", "kill a process that is running or paused");
    this.expectingExit = true;
    this.signal("SIGKILL");
    this.state = "killed";
  }

  /** SIGSTOP: the process freezes with its connections open, as a long GC pause or a stalled VM would. */
  pause(): void {
    assert(this.state === "running", "pause a running process");
    this.signal("SIGSTOP");
    this.state = "paused";
  }

  resume(): void {
    assert(this.state === "paused", "resume a paused process");
    this.signal("SIGCONT");
    this.state = "running";
  }

  /** Kills the process if it is alive and waits for it to be gone. Idempotent. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      this.expectingExit = true;
      this.signal("SIGKILL");
    }
    this.state = "killed";
    await this.exited;
  }

  /** The end of the process's log, for failure messages. */
  logTail(lines = LOG_TAIL_LINES): string {
    if (!existsSync(this.logPath)) return "(no log)";
    return readFileSync(this.logPath, "utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    assert(pid !== null, "signal a process that was started");
    try {
      process.kill(pid, sig);
    } catch (err) {
      // ESRCH: it already died; its exit handler reports that.
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }
}
