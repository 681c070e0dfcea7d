/**
 * Test support: histories that are linearizable by construction, and a corruption that makes one
 * certainly not. Not exported from the package entry point.
 *
 * Generation simulates clients against a real in-memory map. Each operation gets three events at
 * increasing times — call, effect (applied to the map, which fixes its output), return — and the
 * events of different clients interleave at random, so operations overlap the way concurrent
 * requests do. The effect times form a valid linearization, hence the history is linearizable.
 * Some requests time out: the client records an unknown outcome, gives up (a fresh client takes
 * its place) and the request may still take effect later, or never, as on a real server.
 */
import type { KvInput, KvOperation, KvOutput } from "../kv.js";

/** A small seeded generator (mulberry32): enough spread for tests, and a seed replays a run. */
export class TestRandom {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** An integer in [0, n). */
  intn(n: number): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(u * n);
  }

  /** True with probability `percent`/100. */
  chance(percent: number): boolean {
    return this.intn(100) < percent;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.intn(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
}

export interface GenerateKvHistoryOptions {
  readonly seed: number;
  readonly operationCount: number;
  readonly keyCount: number;
  readonly clientCount: number;
  /** Share of requests whose client times out, in percent. */
  readonly unknownPercent: number;
}

interface InFlight {
  readonly clientId: number;
  readonly input: KvInput;
  readonly callMs: number;
  output?: KvOutput;
}

export function generateLinearizableKvHistory(options: GenerateKvHistoryOptions): KvOperation[] {
  const random = new TestRandom(options.seed);
  const keys = Array.from({ length: options.keyCount }, (_, i) => `k${i}`);
  const store = new Map<string, string | null>();
  const written = new Map<string, string[]>();
  let nextValue = 0;
  let nextClientId = options.clientCount;
  let nowMs = 0;
  let started = 0;

  const slots: {
    clientId: number;
    inFlight: InFlight | undefined;
    timesOut: boolean;
  }[] = [];
  for (let i = 0; i < options.clientCount; i++) slots.push({ clientId: i, inFlight: undefined, timesOut: false });
  // Requests whose client gave up; each may still take effect, or be dropped.
  const orphans: InFlight[] = [];
  const history: KvOperation[] = [];

  const newInput = (): KvInput => {
    const key = random.pick(keys);
    const roll = random.intn(100);
    if (roll < 40) return { type: "get", key };
    const value = `v${nextValue++}`;
    if (roll < 65) return { type: "put", key, value };
    if (roll < 92) {
      // Mostly the current value (likely to succeed), sometimes an older value or "absent".
      const history = written.get(key) ?? [];
      const current = store.get(key) ?? null;
      const expected = random.chance(60) || history.length === 0 ? current : random.chance(20) ? null : random.pick(history);
      return { type: "cas", key, expected, value };
    }
    return { type: "delete", key };
  };

  const applyEffect = (op: InFlight): KvOutput => {
    const input = op.input;
    const current = store.get(input.key) ?? null;
    const setValue = (value: string | null): void => {
      store.set(input.key, value);
      if (value !== null) written.set(input.key, [...(written.get(input.key) ?? []), value]);
    };
    switch (input.type) {
      case "get":
        return { type: "get", value: current };
      case "put":
        setValue(input.value);
        return { type: "put" };
      case "cas":
        if (current !== input.expected) return { type: "cas", ok: false };
        setValue(input.value);
        return { type: "cas", ok: true };
      case "delete":
        setValue(null);
        return { type: "delete", deleted: current !== null };
    }
  };

  while (started < options.operationCount || slots.some((s) => s.inFlight !== undefined)) {
    nowMs += 1 + random.intn(3);

    if (orphans.length > 0 && random.chance(10)) {
      const orphan = orphans.splice(random.intn(orphans.length), 1)[0];
      if (orphan !== undefined && orphan.output === undefined && random.chance(50)) applyEffect(orphan);
      continue;
    }

    const slot = random.pick(slots);
    const op = slot.inFlight;
    if (op === undefined) {
      if (started >= options.operationCount) continue;
      started += 1;
      slot.inFlight = {
        clientId: slot.clientId,
        input: newInput(),
        callMs: nowMs,
      };
      slot.timesOut = random.chance(options.unknownPercent);
      continue;
    }
    if (slot.timesOut && random.chance(50)) {
      // The client gives up, applied or not; the request lives on at the server.
      history.push({
        clientId: op.clientId,
        input: op.input,
        output: { type: "unknown" },
        callMs: op.callMs,
        returnMs: Infinity,
      });
      if (op.output === undefined) orphans.push(op);
      slot.inFlight = undefined;
      slot.clientId = nextClientId++;
      continue;
    }
    if (op.output === undefined) {
      op.output = applyEffect(op);
      continue;
    }
    if (slot.timesOut) continue; // its answer will never arrive
    history.push({
      clientId: op.clientId,
      input: op.input,
      output: op.output,
      callMs: op.callMs,
      returnMs: nowMs,
    });
    slot.inFlight = undefined;
  }
  return history;
}

/** The value a known, successful write stores, or undefined for anything else. */
function writtenValue(op: KvOperation): string | null | undefined {
  if (op.input.type === "put" && op.output.type === "put") return op.input.value;
  if (op.input.type === "cas" && op.output.type === "cas" && op.output.ok) return op.input.value;
  if (op.input.type === "delete" && op.output.type === "delete") return null;
  return undefined;
}

/**
 * Replaces the output of one completed get with a stale value, chosen so that no linearization
 * can exist: value v was written by P (values are unique, so only by P), a later write W of
 * another value completed after P returned and before the get was called. The get would have to
 * come after W but see P's value, which nothing restores. Returns undefined if no get qualifies.
 */
export function corruptOneRead(
  history: readonly KvOperation[],
  random: TestRandom,
): { history: KvOperation[]; corruptedIndex: number; staleValue: string } | undefined {
  const choices: { index: number; staleValue: string }[] = [];
  for (const [index, get] of history.entries()) {
    if (get.input.type !== "get" || get.output.type !== "get") continue;
    const key = get.input.key;
    const writes = history.filter((w) => w.input.key === key && writtenValue(w) !== undefined);
    for (const p of writes) {
      const v = writtenValue(p);
      if (typeof v !== "string" || v === get.output.value) continue;
      const overwritten = writes.some((w) => w !== p && writtenValue(w) !== v && p.returnMs < w.callMs && w.returnMs < get.callMs);
      if (overwritten) choices.push({ index, staleValue: v });
    }
  }
  if (choices.length === 0) return undefined;
  const choice = random.pick(choices);
  const corrupted = history.slice();
  const original = history[choice.index];
  if (original === undefined) return undefined;
  corrupted[choice.index] = {
    ...original,
    output: { type: "get", value: choice.staleValue },
  };
  return {
    history: corrupted,
    corruptedIndex: choice.index,
    staleValue: choice.staleValue,
  };
}
