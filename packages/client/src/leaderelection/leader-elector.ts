/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection), so that of
 * two schedulers or two controller managers exactly one acts at a time.
 *
 * Algorithm (client-go's tryAcquireOrRenew):
 * - Every retryPeriod (jittered while waiting to acquire) read the Lease. A Lease held by someone
 *   else is respected until `leaseDurationSeconds` have passed since this elector last saw the
 *   record change, measured on its own clock (so clock skew between machines does not matter,
 *   only their rates do). An expired or released Lease is taken: holderIdentity = us,
 *   leaseTransitions + 1.
 * - Writes are updates with the resourceVersion read (optimistic concurrency): of two standbys
 *   racing for an expired Lease one gets 409 Conflict and stays standby.
 * - The leader renews (renewTime = now) every retryPeriod, first optimistically with the Lease
 *   it last wrote, then by reading it again.
 * - A leader that has not renewed within renewDeadline of its last successful renewal (counted
 *   from when that request was sent) stops acting: it aborts the signal it gave
 *   onStartedLeading and calls onStoppedLeading("lost"); the process is expected to stop its
 *   controllers or exit. Since renewDeadline < leaseDuration, it stops before any standby can
 *   consider the Lease expired. Seeing another holder on a renewal stops it at once (client-go
 *   keeps trying until the deadline; stopping earlier is only safer).
 * - On shutdown (the run signal aborts) the leader waits for its work to stop, then releases the
 *   Lease (holderIdentity "", leaseDurationSeconds 1) so a standby takes over at its next retry
 *   instead of waiting out the lease.
 *
 * An elector runs once: after it stops leading, make a new one (client-go's Run is the same).
 */
import { ApiStatusError, type Lease, type LeaseSpec } from "@coxswain/api";
import { assert, silentLogger, SeededRandom, type Logger, type RandomSource } from "@coxswain/raft";
import { Gauge, type Registry } from "prom-client";
import type { ApiClientInterface } from "../api.js";
import type { ResourceRef } from "../client.js";
import { realClock, sleep, type Clock } from "../clock/clock.js";

export type StoppedLeadingReason = "lost" | "shutdown";

export interface LeaderElectionCallbacks {
  /**
   * This process leads: start acting. Stop when `signal` aborts; return a promise that settles
   * once the work has stopped, since the Lease is released only after that.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Leading ended: "lost" (renewal failed, stop at once) or "shutdown" (the Lease was released). */
  onStoppedLeading(reason: StoppedLeadingReason): void;
  /** The holder this elector saw changed (including to itself, or to "" after a release). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  api: ApiClientInterface;
  leaseNamespace: string;
  leaseName: string;
  /** Unique per process: the Lease's holderIdentity (e.g. `hostname_pid`). */
  identity: string;
  /** How long a standby waits after the last change it saw before taking the Lease. Whole seconds. */
  leaseDurationMs?: number;
  /** How long a leader keeps acting without a successful renewal. */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew. */
  retryPeriodMs?: number;
  /** Release the Lease when the run signal aborts. */
  releaseOnCancel?: boolean;
  callbacks: LeaderElectionCallbacks;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  /** Where leader_election_master_status goes. */
  registry?: Registry;
}

/** Kubernetes' defaults (kube-scheduler, kube-controller-manager); components here pass shorter ones. */
export const leaderElectionDefaults = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  releaseOnCancel: true,
} as const;

/** client-go's JitterFactor: a standby waits retryPeriod · [1, 2.2) between attempts. */
export const leaderElectionJitterFactor = 1.2;

export class LeaderElectionConfigError extends Error {
  override readonly name = "LeaderElectionConfigError";
}

/** The fields of a Lease that make up the election record. */
interface ElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

type Attempt = "ok" | "held-by-other" | "failed";

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function recordOf(lease: Lease): ElectionRecord {
  const s: LeaseSpec = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? "",
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: s.acquireTime ?? "",
    renewTime: s.renewTime ?? "",
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

function sameRecord(a: ElectionRecord | null, b: ElectionRecord): boolean {
  return (
    a !== null &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

function withRecord(lease: Lease, record: ElectionRecord): Lease {
  return { ...lease, spec: { ...lease.spec, ...record } };
}

type Raced<T> = { kind: "done"; value: T } | { kind: "failed"; error: unknown } | { kind: "deadline" } | { kind: "aborted" };

export class LeaderElector {
  private readonly api: ApiClientInterface;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly logger: Logger;
  private readonly callbacks: LeaderElectionCallbacks;
  private readonly statusGauge: Gauge<"name"> | null;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly releaseOnCancel: boolean;
  private readonly ref: ResourceRef;

  /** The election record last read or written, and when (on this clock) it last changed. */
  private observed: ElectionRecord | null = null;
  private observedAtMs = 0;
  /** The Lease object last read or written: its resourceVersion is the next write's precondition. */
  private lease: Lease | null = null;
  private leading = false;
  private lastRenewSentAtMs = 0;
  private reportedLeader = "";
  private inFlight: Promise<Attempt> | null = null;
  private state: "new" | "running" | "finished" = "new";

  constructor(config: LeaderElectionConfig) {
    const leaseDurationMs = config.leaseDurationMs ?? leaderElectionDefaults.leaseDurationMs;
    const renewDeadlineMs = config.renewDeadlineMs ?? leaderElectionDefaults.renewDeadlineMs;
    const retryPeriodMs = config.retryPeriodMs ?? leaderElectionDefaults.retryPeriodMs;
    // The checks client-go's NewLeaderElector makes, in milliseconds.
    if (config.identity === "") throw new LeaderElectionConfigError("leader election identity must not be empty");
    if (leaseDurationMs < 1000 || leaseDurationMs % 1000 !== 0)
      throw new LeaderElectionConfigError(`leaseDurationMs must be a whole number of seconds (the Lease stores seconds), got ${leaseDurationMs}`);
    if (leaseDurationMs <= renewDeadlineMs) throw new LeaderElectionConfigError("leaseDurationMs must be greater than renewDeadlineMs");
    if (retryPeriodMs <= 0) throw new LeaderElectionConfigError("retryPeriodMs must be positive");
    if (renewDeadlineMs <= leaderElectionJitterFactor * retryPeriodMs)
      throw new LeaderElectionConfigError(`renewDeadlineMs must be greater than retryPeriodMs * ${leaderElectionJitterFactor}`);
    this.api = config.api;
    this.identity = config.identity;
    this.leaseDurationMs = leaseDurationMs;
    this.renewDeadlineMs = renewDeadlineMs;
    this.retryPeriodMs = retryPeriodMs;
    this.releaseOnCancel = config.releaseOnCancel ?? leaderElectionDefaults.releaseOnCancel;
    this.callbacks = config.callbacks;
    this.clock = config.clock ?? realClock;
    this.random = config.random ?? new SeededRandom(Date.now() >>> 0);
    this.logger = (config.logger ?? silentLogger).child({ lease: `${config.leaseNamespace}/${config.leaseName}`, identity: config.identity });
    this.ref = { group: "coordination.k8s.io", version: "v1", resource: "leases", namespace: config.leaseNamespace, name: config.leaseName };
    this.statusGauge = config.registry === undefined ? null : masterStatusGauge(config.registry);
    this.statusGauge?.set({ name: config.leaseName }, 0);
  }

  /**
   * Campaigns until this elector leads, leads until the Lease is lost or `signal` aborts, then
   * returns. If `signal` aborts while campaigning it returns without leading, once the attempt in
   * flight (if any) has answered, giving back a Lease that attempt won.
   */
  async run(signal: AbortSignal): Promise<void> {
    assert(this.state === "new", "a LeaderElector runs once; make a new one to campaign again");
    this.state = "running";
    try {
      if (!(await this.acquire(signal))) return;
      const leadingAbort = new AbortController();
      this.setLeading(true);
      this.logger.info("became leader");
      const work = (async () => this.callbacks.onStartedLeading(leadingAbort.signal))().catch((err: unknown) => {
        this.logger.error({ err }, "onStartedLeading failed");
      });
      const reason = await this.renewLoop(signal);
      this.setLeading(false);
      leadingAbort.abort();
      if (reason === "shutdown") {
        // Release only once the work has stopped, or a standby could act while we still do.
        await work;
        if (this.releaseOnCancel) await this.release();
      }
      this.logger.info({ reason }, "stopped leading");
      this.callbacks.onStoppedLeading(reason);
    } finally {
      this.state = "finished";
    }
  }

  /** This elector leads and its last renewal is within renewDeadline. */
  isLeader(): boolean {
    return this.leading && this.clock.now() < this.lastRenewSentAtMs + this.renewDeadlineMs;
  }

  /** The holder this elector last saw ("" before it read the Lease or after a release). */
  getLeader(): string {
    return this.observed?.holderIdentity ?? "";
  }

  /**
   * A health check (client-go's HealthzAdaptor): fails when this elector believes it leads but
   * has not renewed for leaseDuration + `toleranceMs` — its loop is stuck and the process should
   * be restarted. A standby is always healthy.
   */
  check(toleranceMs: number): Error | null {
    if (!this.leading) return null;
    const sinceMs = this.clock.now() - this.observedAtMs;
    if (sinceMs > this.leaseDurationMs + toleranceMs)
      return new Error(`failed to renew leadership on lease ${this.ref.namespace}/${this.ref.name} for ${sinceMs} ms`);
    return null;
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.statusGauge?.set({ name: this.ref.name! }, leading ? 1 : 0);
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.logger.info("attempting to acquire leader lease");
    for (;;) {
      if (signal.aborted) return false;
      const startedAtMs = this.clock.now();
      const outcome = await this.attempt();
      this.maybeReportTransition();
      if (outcome === "ok") {
        this.lastRenewSentAtMs = startedAtMs;
        if (!signal.aborted) return true;
        // Acquired just as we were told to stop: give it back rather than make a standby wait.
        if (this.releaseOnCancel) await this.release();
        return false;
      }
      const jitterMs = (this.retryPeriodMs * leaderElectionJitterFactor * this.random.intn(1000)) / 1000;
      if (!(await sleep(this.clock, this.retryPeriodMs + jitterMs, signal))) return false;
    }
  }

  /** Renews every retryPeriod until renewal fails past the deadline ("lost") or `signal` aborts. */
  private async renewLoop(signal: AbortSignal): Promise<StoppedLeadingReason> {
    for (;;) {
      if (!(await sleep(this.clock, this.retryPeriodMs, signal))) return "shutdown";
      for (;;) {
        const deadlineMs = this.lastRenewSentAtMs + this.renewDeadlineMs;
        const startedAtMs = this.clock.now();
        if (startedAtMs >= deadlineMs) {
          this.logger.warn("failed to renew the lease within the renew deadline");
          return "lost";
        }
        // The deadline cuts a renewal that hangs: the leader must stop on time, answer or not.
        const raced = await this.race(this.attempt(), deadlineMs - startedAtMs, signal);
        this.maybeReportTransition();
        if (raced.kind === "aborted") return "shutdown";
        if (raced.kind === "deadline") {
          this.logger.warn("renewal still unanswered at the renew deadline");
          return "lost";
        }
        const outcome: Attempt = raced.kind === "done" ? raced.value : "failed";
        if (outcome === "ok") {
          this.lastRenewSentAtMs = startedAtMs;
          break;
        }
        if (outcome === "held-by-other") {
          this.logger.warn({ holder: this.getLeader() }, "the lease is held by another candidate");
          return "lost";
        }
        if (!(await sleep(this.clock, Math.min(this.retryPeriodMs, deadlineMs - this.clock.now()), signal))) return "shutdown";
      }
    }
  }

  /** Gives the Lease up so a standby can take it at once (client-go's release). */
  private async release(): Promise<void> {
    // A renewal still in flight carries the same precondition; let it land first.
    if (this.inFlight !== null) await this.race(this.inFlight, this.renewDeadlineMs);
    if (this.observed?.holderIdentity !== this.identity || this.lease === null) return;
    const nowMs = this.clock.now();
    const record: ElectionRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: formatMicroTime(nowMs),
      renewTime: formatMicroTime(nowMs),
      leaseTransitions: this.observed.leaseTransitions,
    };
    const raced = await this.race(this.api.update<Lease>(this.ref, withRecord(this.lease, record)), this.renewDeadlineMs);
    if (raced.kind === "done") {
      this.lease = raced.value;
      this.setObserved(recordOf(raced.value));
      this.logger.info("released the lease");
    } else {
      this.logger.warn({ err: raced.kind === "failed" ? raced.error : raced.kind }, "failed to release the lease");
    }
  }

  private attempt(): Promise<Attempt> {
    const attempt = this.tryAcquireOrRenew().catch((err: unknown) => {
      this.logger.warn({ err }, "leader election attempt failed");
      return "failed" as const;
    });
    this.inFlight = attempt;
    void attempt.finally(() => {
      if (this.inFlight === attempt) this.inFlight = null;
    });
    return attempt;
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const nowMs = this.clock.now();
    const desired: ElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime: formatMicroTime(nowMs),
      renewTime: formatMicroTime(nowMs),
      leaseTransitions: 0,
    };

    // 1. The leader's fast path: update the Lease it last wrote, assuming nobody changed it.
    if (this.observed !== null && this.observed.holderIdentity === this.identity && this.leaseValid(nowMs) && this.lease !== null) {
      const record = { ...desired, acquireTime: this.observed.acquireTime, leaseTransitions: this.observed.leaseTransitions };
      try {
        this.lease = await this.api.update<Lease>(this.ref, withRecord(this.lease, record));
        this.setObserved(recordOf(this.lease));
        return "ok";
      } catch (err) {
        this.logger.debug({ err }, "optimistic renewal failed; reading the lease");
      }
    }

    // 2. Read the Lease, or create it.
    let current: Lease;
    try {
      current = await this.api.get<Lease>(this.ref);
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) {
        this.logger.warn({ err }, "failed to read the lease");
        return "failed";
      }
      try {
        const { name, namespace } = this.ref;
        this.lease = await this.api.create<Lease>(
          { ...this.ref, name: "" },
          { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: name!, namespace: namespace! }, spec: desired },
        );
        this.setObserved(recordOf(this.lease));
        return "ok";
      } catch (createErr) {
        this.logger.warn({ err: createErr }, "failed to create the lease");
        return "failed";
      }
    }

    // 3. Respect a valid Lease held by someone else. Expiry counts from when *we* saw it change.
    const record = recordOf(current);
    if (!sameRecord(this.observed, record)) this.setObserved(record);
    this.lease = current;
    if (record.holderIdentity !== "" && record.holderIdentity !== this.identity && this.leaseValid(nowMs)) return "held-by-other";

    // 4. Take it (or renew it), with the resourceVersion just read as the precondition.
    const next =
      record.holderIdentity === this.identity
        ? { ...desired, acquireTime: record.acquireTime, leaseTransitions: record.leaseTransitions }
        : { ...desired, leaseTransitions: record.leaseTransitions + 1 };
    try {
      this.lease = await this.api.update<Lease>(this.ref, withRecord(current, next));
      this.setObserved(recordOf(this.lease));
      return "ok";
    } catch (err) {
      this.logger.debug({ err }, "failed to update the lease");
      return "failed";
    }
  }

  private leaseValid(nowMs: number): boolean {
    return this.observed !== null && this.observedAtMs + this.observed.leaseDurationSeconds * 1000 > nowMs;
  }

  private setObserved(record: ElectionRecord): void {
    this.observed = record;
    this.observedAtMs = this.clock.now();
  }

  private maybeReportTransition(): void {
    const holder = this.observed?.holderIdentity ?? "";
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    try {
      this.callbacks.onNewLeader?.(holder);
    } catch (err) {
      this.logger.error({ err }, "onNewLeader failed");
    }
  }

  /** `promise`'s value, unless `timeoutMs` passes or `signal` aborts first. */
  private race<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<Raced<T>> {
    if (signal?.aborted === true) return Promise.resolve({ kind: "aborted" });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: Raced<T>): void => {
        if (settled) return;
        settled = true;
        cancel();
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const onAbort = (): void => finish({ kind: "aborted" });
      const cancel = this.clock.setTimer(timeoutMs, () => finish({ kind: "deadline" }));
      signal?.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => finish({ kind: "done", value }),
        (error: unknown) => finish({ kind: "failed", error }),
      );
    });
  }
}

function masterStatusGauge(registry: Registry): Gauge<"name"> {
  const existing = registry.getSingleMetric("leader_election_master_status");
  if (existing !== undefined) return existing as Gauge<"name">;
  // client-go's metric: 1 while this process leads the named lease.
  return new Gauge({
    name: "leader_election_master_status",
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease.",
    labelNames: ["name"],
    registers: [registry],
  });
}
