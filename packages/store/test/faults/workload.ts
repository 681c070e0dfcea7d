/**
 * The clients: a few concurrent loops, each with its own connections to every member, doing
 * linearizable gets, puts and compare-and-swaps on a few keys and recording every request in one
 * history for the linearizability checker.
 *
 * What gets recorded:
 *  - an answer → the operation with its output;
 *  - a timeout, a broken connection, any error after the request went out → an unknown outcome
 *    (it may have taken effect, or may still); the client then moves to the next member;
 *  - nothing at all when the connection was not up, since such a request is never sent.
 * Every written value is unique (`c3-17`: client 3's 17th write), so a value read names its write.
 */
import { SeededRandom, assert } from "@coxswain/raft";
import { HistoryRecorder, type KvInput, type KvOutput } from "@coxswain/lincheck";
import { KvConnection, sleep } from "@coxswain/testkit";

export interface WorkloadOptions {
  endpoints: readonly string[];
  recorder: HistoryRecorder<KvInput, KvOutput>;
  seed: number;
  /** Concurrent clients. */
  clientCount: number;
  /** Keys in use at any time. */
  keysPerEpoch: number;
  /**
   * Every epoch the clients move to fresh keys (`e1/k0`, ...). Each key is a partition of the
   * checker's search, so this bounds the search per key on long runs. Infinity: one set of keys.
   */
  epochMs: number;
  /** Deadline of every request; past it the outcome is unknown. */
  requestTimeoutMs: number;
  /** Each client waits a random 0..thinkTimeMsMax between requests, which bounds the history's size. */
  thinkTimeMsMax: number;
  /** Fraction of gets; the rest are split evenly between puts and compare-and-swaps. */
  getFraction: number;
  /**
   * Serve gets from the member's own copy (etcd's serializable reads), which are allowed to be
   * stale: a negative control, under which the checker is expected to find violations.
   */
  serializableGets: boolean;
}

export interface WorkloadStats {
  get: number;
  put: number;
  cas: number;
  casSucceeded: number;
  unknown: number;
  /** Times a client found its member's connection down and moved on without sending. */
  notSent: number;
}

/** How long a client waits for its connection before trying the next member. */
const CONNECT_WAIT_MS = 200;

export class Workload {
  readonly stats: WorkloadStats = { get: 0, put: 0, cas: 0, casSucceeded: 0, unknown: 0, notSent: 0 };
  /** Every key any client has used, for the final reads. */
  readonly keysUsed = new Set<string>();
  private readonly abort = new AbortController();
  private loops: Array<Promise<void>> = [];
  private startedMs = 0;

  constructor(private readonly options: WorkloadOptions) {
    assert(options.clientCount >= 1, "at least one client");
    assert(options.keysPerEpoch >= 1, "at least one key");
    assert(options.endpoints.length >= 1, "at least one endpoint");
    assert(options.getFraction >= 0 && options.getFraction <= 1, "getFraction is a fraction");
  }

  start(): void {
    assert(this.loops.length === 0, "start once");
    this.startedMs = performance.now();
    for (let c = 1; c <= this.options.clientCount; c++) this.loops.push(this.runClient(c));
  }

  /** Stops issuing requests and waits for those in flight (each ends by its deadline). */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  /** The keys of the current epoch. */
  keysNow(): string[] {
    const epoch = Number.isFinite(this.options.epochMs) ? Math.floor((performance.now() - this.startedMs) / this.options.epochMs) : 0;
    return Array.from({ length: this.options.keysPerEpoch }, (_, i) => `e${epoch}/k${i}`);
  }

  private async runClient(clientNumber: number): Promise<void> {
    const o = this.options;
    const clientId = `c${clientNumber}`;
    const random = new SeededRandom((o.seed * 1000 + clientNumber) >>> 0);
    // Own connections, so that one client's broken connection is not every client's.
    const connections = o.endpoints.map((e) => new KvConnection(e));
    let current = random.intn(connections.length);
    let writes = 0;
    // The last value this client saw for each key: what its compare-and-swaps expect.
    const lastSeen = new Map<string, string | null>();
    const signal = this.abort.signal;
    try {
      while (!signal.aborted) {
        const connection = connections[current]!;
        if (!connection.isReady() && !(await connection.waitReady(CONNECT_WAIT_MS))) {
          this.stats.notSent++;
          current = (current + 1) % connections.length;
          continue;
        }
        if (signal.aborted) break;
        const keys = this.keysNow();
        const key = keys[random.intn(keys.length)]!;
        this.keysUsed.add(key);
        const input = this.nextInput(random, key, `${clientId}-${++writes}`, lastSeen.get(key) ?? null);
        const handle = o.recorder.begin(clientId, input);
        try {
          const output = await this.send(connection, input);
          o.recorder.complete(handle, output);
          if (output.type === "get") lastSeen.set(key, output.value);
          else if (input.type === "put" || (input.type === "cas" && output.type === "cas" && output.ok)) lastSeen.set(key, input.value);
        } catch {
          // Sent, but no answer: it may have been applied, or be applied later.
          o.recorder.markUnknown(handle);
          this.stats.unknown++;
          current = (current + 1) % connections.length;
        }
        if (o.thinkTimeMsMax > 0) await sleep(random.intn(o.thinkTimeMsMax + 1), signal);
      }
    } finally {
      for (const c of connections) c.close();
    }
  }

  private nextInput(random: SeededRandom, key: string, value: string, expected: string | null): KvInput {
    if (random.float() < this.options.getFraction) return { type: "get", key };
    return random.chance(0.5) ? { type: "put", key, value } : { type: "cas", key, expected, value };
  }

  private async send(connection: KvConnection, input: KvInput): Promise<KvOutput> {
    const timeoutMs = this.options.requestTimeoutMs;
    switch (input.type) {
      case "get": {
        this.stats.get++;
        const { value } = await connection.get(input.key, this.options.serializableGets, timeoutMs);
        return { type: "get", value };
      }
      case "put":
        this.stats.put++;
        await connection.put(input.key, input.value, timeoutMs);
        return { type: "put" };
      case "cas": {
        this.stats.cas++;
        const ok = await connection.compareAndSwap(input.key, input.expected, input.value, timeoutMs);
        if (ok) this.stats.casSucceeded++;
        return { type: "cas", ok };
      }
      case "delete":
        assert(false, "the workload does not delete");
    }
  }
}
