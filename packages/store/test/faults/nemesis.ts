/**
 * The nemesis: a seeded schedule of faults against the cluster while the clients run.
 *
 * Rhythm: a healthy gap (faultGapMs), then one fault — kill -9 or SIGSTOP of a random member or of
 * the current leader — held for faultHoldMs, then the member is brought back (restarted from its
 * data dir, or SIGCONT), and again. At most one member is down at any time, so a quorum exists
 * except while a new leader is being elected or a restarted member catches up. The seed fixes the
 * sequence of choices (which fault, which member, how long); the cluster's timing still varies.
 */
import { SeededRandom, assert } from "@coxswain/raft";
import { type StoreCluster, sleep } from "@coxswain/testkit";

export type FaultKind = "kill" | "kill-leader" | "pause" | "pause-leader";

export const FAULT_KINDS: readonly FaultKind[] = ["kill", "kill-leader", "pause", "pause-leader"];

export interface NemesisOptions {
  seed: number;
  /** Healthy time between two faults: uniform in [min, max]. */
  faultGapMs: readonly [number, number];
  /** How long a member stays killed or paused: uniform in [min, max]. */
  faultHoldMs: readonly [number, number];
  /** How long to look for the leader before picking a random member instead. */
  leaderLookupTimeoutMs: number;
}

export const DEFAULT_NEMESIS_OPTIONS: Omit<NemesisOptions, "seed"> = {
  faultGapMs: [1000, 2000],
  faultHoldMs: [500, 3000],
  leaderLookupTimeoutMs: 1000,
};

export interface FaultEvent {
  /** Since the nemesis started. */
  atMs: number;
  kind: FaultKind;
  member: string;
  /** For a leader fault: false when no leader was found and a random member was hit instead. */
  leaderFound: boolean;
  heldMs: number;
}

export class Nemesis {
  readonly events: FaultEvent[] = [];
  private readonly random: SeededRandom;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private startedMs = 0;

  constructor(
    private readonly cluster: StoreCluster,
    private readonly options: NemesisOptions,
    private readonly log: (line: string) => void = () => {},
  ) {
    assert(options.faultGapMs[0] <= options.faultGapMs[1], "faultGapMs is [min, max]");
    assert(options.faultHoldMs[0] <= options.faultHoldMs[1], "faultHoldMs is [min, max]");
    this.random = new SeededRandom(options.seed >>> 0);
  }

  start(): void {
    assert(this.loop === null, "start once");
    this.startedMs = performance.now();
    this.loop = this.run();
  }

  /** Ends the schedule and brings every member back. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.cluster.healAll();
  }

  counts(): Record<FaultKind, number> {
    const counts: Record<FaultKind, number> = { kill: 0, "kill-leader": 0, pause: 0, "pause-leader": 0 };
    for (const e of this.events) counts[e.kind]++;
    return counts;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await sleep(this.uniform(this.options.faultGapMs), signal);
      if (signal.aborted) break;
      // A member that exited on its own (a crash, reported at the end) is restarted, so that the
      // run goes on with at most one member down.
      await this.cluster.healAll();
      // Drawn before the leader lookup, so that the seed alone fixes the sequence of choices.
      const kind = FAULT_KINDS[this.random.intn(FAULT_KINDS.length)]!;
      const holdMs = this.uniform(this.options.faultHoldMs);
      const randomMember = this.random.intn(this.cluster.members.length);
      let target = randomMember;
      let leaderFound = true;
      if (kind === "kill-leader" || kind === "pause-leader") {
        const leader = await this.cluster.findLeader(this.options.leaderLookupTimeoutMs);
        leaderFound = leader !== null;
        target = leader ?? randomMember;
        if (signal.aborted) break;
      }
      const member = this.cluster.member(target);
      if (member.state !== "running") continue; // exited on its own since healAll; the next round restarts it
      this.events.push({ atMs: Math.round(performance.now() - this.startedMs), kind, member: member.name, leaderFound, heldMs: holdMs });
      this.log(`fault ${this.events.length}: ${kind} ${member.name}${leaderFound ? "" : " (no leader found; random member)"} for ${holdMs} ms`);
      if (kind === "kill" || kind === "kill-leader") {
        this.cluster.kill(target);
        await sleep(holdMs, signal);
        if (this.cluster.member(target).state === "killed") await this.cluster.restart(target);
      } else {
        this.cluster.pause(target);
        await sleep(holdMs, signal);
        // (re-read: the member may have died meanwhile, and then the next healAll restarts it)
        if (this.cluster.member(target).state === "paused") this.cluster.resume(target);
      }
    }
  }

  private uniform([min, max]: readonly [number, number]): number {
    return min + this.random.intn(max - min + 1);
  }
}
