/**
 * Runs the real kubectl (1.32 on this machine; $KUBECTL_BIN overrides) against a cluster with a
 * given kubeconfig. Results carry the exit code and exactly what kubectl printed, so tests assert
 * on what a person would see. Each Kubectl has its own discovery cache directory, so a cache left
 * by another cluster on the same port never leaks in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { kubectlBinary } from "./paths.js";
import { killOnExit } from "./processes.js";

export interface KubectlResult {
  /** The exit code; null when kubectl was killed (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KubectlRunOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  stdin?: string;
  /** More environment (e.g. KUBE_EDITOR). */
  env?: Record<string, string>;
  /** An API server URL to use instead of the kubeconfig's (`--server`). */
  server?: string;
  /** Default 60 s: a hang becomes a failure with what was printed so far. */
  timeoutMs?: number;
}

export class KubectlError extends Error {
  override readonly name = "KubectlError";
}

const KUBECTL_TIMEOUT_MS_DEFAULT = 60_000;
/** Output kept per stream; beyond it a test is printing far more than it can mean to check. */
const OUTPUT_BYTES_MAX = 16 * 1024 * 1024;

export class Kubectl {
  constructor(
    readonly kubeconfig: string,
    readonly cacheDir: string,
    /** Used when a call names no server; default the kubeconfig's. */
    readonly defaultServer?: string,
  ) {}

  /** The same kubeconfig against another API server. */
  withServer(server: string): Kubectl {
    return new Kubectl(this.kubeconfig, this.cacheDir, server);
  }

  /** Runs kubectl to completion; never throws for a non-zero exit. */
  run(args: readonly string[], options: KubectlRunOptions = {}): Promise<KubectlResult> {
    const child = this.spawn(args, options);
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      if (stdout.length < OUTPUT_BYTES_MAX) stdout += s;
    });
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      if (stderr.length < OUTPUT_BYTES_MAX) stderr += s;
    });
    const timeoutMs = options.timeoutMs ?? KUBECTL_TIMEOUT_MS_DEFAULT;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new KubectlError(`kubectl ${args.join(" ")}: ${err.message}`));
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(options.stdin ?? "");
    });
  }

  /** Runs kubectl and fails (with everything it printed) unless it exits 0; returns stdout. */
  async ok(args: readonly string[], options: KubectlRunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new KubectlError(`kubectl ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  /** Starts a long-running kubectl (`get -w`); its output accumulates until `stop()`. */
  start(args: readonly string[], options: KubectlRunOptions = {}): KubectlProcess {
    return new KubectlProcess(this.spawn(args, options), args);
  }

  private spawn(args: readonly string[], options: KubectlRunOptions): ChildProcess {
    const server = options.server ?? this.defaultServer;
    const fullArgs = [...(server !== undefined ? [`--server=${server}`] : []), ...args];
    const child = spawn(kubectlBinary(), fullArgs, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, KUBECONFIG: this.kubeconfig, KUBECACHEDIR: this.cacheDir, ...(options.env ?? {}) },
    });
    killOnExit(child);
    return child;
  }
}

/** A kubectl that keeps running (a watch); read what it printed so far, wait for a line, stop it. */
export class KubectlProcess {
  stdout = "";
  stderr = "";
  private readonly closed: Promise<number | null>;
  private listeners: Array<() => void> = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly args: readonly string[],
  ) {
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      if (this.stdout.length < OUTPUT_BYTES_MAX) this.stdout += s;
      this.notify();
    });
    child.stderr?.setEncoding("utf8").on("data", (s: string) => {
      if (this.stderr.length < OUTPUT_BYTES_MAX) this.stderr += s;
      this.notify();
    });
    child.stdin?.end();
    this.closed = new Promise((resolve) => {
      child.once("close", (code) => {
        resolve(code);
        this.notify();
      });
      child.once("error", () => resolve(null));
    });
  }

  /** Lines printed on stdout so far (the last one only when complete). */
  get lines(): string[] {
    const all = this.stdout.split("\n");
    all.pop();
    return all;
  }

  /** Waits until a complete stdout line matches; fails with the output when kubectl exits or time runs out. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new KubectlError(`kubectl ${this.args.join(" ")} exited before printing ${pattern}:\n${this.stderr}${this.stdout}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new KubectlError(`kubectl ${this.args.join(" ")} did not print ${pattern} within ${timeoutMs} ms:\n${this.stderr}${this.stdout}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.listeners.push(done);
      });
    }
  }

  /** Waits for kubectl to exit on its own. */
  async wait(timeoutMs: number): Promise<KubectlResult> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.closed,
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === "timeout") throw new KubectlError(`kubectl ${this.args.join(" ")} still running after ${timeoutMs} ms:\n${this.stderr}${this.stdout}`);
    return { code, stdout: this.stdout, stderr: this.stderr };
  }

  /** Ends kubectl (SIGTERM) and returns everything it printed. */
  async stop(): Promise<KubectlResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    const code = await this.closed;
    return { code, stdout: this.stdout, stderr: this.stderr };
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) l();
  }
}
