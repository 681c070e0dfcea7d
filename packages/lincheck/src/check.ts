/**
 * The linearizability checker: Wing & Gong's backtracking search (1993) with Lowe's memoization of
 * (set of linearized operations, model state) pairs (2017), run separately on each partition of
 * the history — the combination Porcupine popularised.
 *
 * How the search works, on one partition:
 *  - Every operation becomes two entries, a call and a return, in one list sorted by time. Entries
 *    with equal times put calls first, so operations that touch at an instant count as concurrent
 *    (the checker gives the history the benefit of the doubt; clocks are not that precise).
 *  - Walk the list from the front. At a call entry, try to linearize that operation now: if the
 *    model accepts it in the current state, record the choice on a stack, unlink its call and
 *    return entries, and start again from the front with the new state. If the model refuses, or
 *    the same (linearized set, state) pair was explored before, move to the next entry.
 *  - Reaching a return entry means its operation had to take effect before anything later in the
 *    list and none of the candidates before it could be placed: undo the last choice (relink its
 *    entries, restore the state) and try the entry after it. With nothing to undo, the partition is
 *    not linearizable.
 *  - An empty list means every operation was placed: the stack holds a linearization.
 *
 * The memoization is what makes this practical: two different orders that linearize the same set
 * of operations and reach the same state have the same future, so the second is cut immediately.
 */
import { assert } from "./assert.js";
import { InvalidHistoryError } from "./errors.js";
import type { Model, Operation } from "./model.js";

export type CheckOutcome = "ok" | "illegal" | "unknown";

/** Why a partition's outcome is "unknown". */
export type BudgetExhausted = "steps" | "timeout";

export interface CheckOptions {
  /**
   * Cap on search steps (one step = one list entry visited) for each partition. Also bounds the
   * memoization cache, which gains at most one entry per step. Default 1,000,000.
   */
  stepsMaxPerPartition?: number;
  /** Wall-clock budget for the whole check. None by default: the step cap already bounds work. */
  timeoutMs?: number;
  /** Return as soon as one partition is illegal instead of checking the rest. Default false. */
  stopAtFirstIllegal?: boolean;
}

export const defaultStepsMaxPerPartition = 1_000_000;

/** How often (in steps) the search looks at the clock; reading it every step would dominate. */
const clockCheckEverySteps = 1024;

/** How many operations of the linearizable prefix an explanation's text shows (the latest ones). */
const explanationPrefixLinesMax = 20;

export interface PartitionResult {
  /** Position in the model's partition list. */
  readonly index: number;
  /** The model's name for the partition (e.g. `key "a"`), or `partition N`. */
  readonly label: string;
  readonly outcome: CheckOutcome;
  readonly operationCount: number;
  /** Search steps spent on this partition. */
  readonly steps: number;
  /** Set when the outcome is "unknown". */
  readonly budgetExhausted?: BudgetExhausted;
}

/** What went wrong in an illegal partition, from the deepest point the search reached. */
export interface IllegalExplanation<State, Input, Output> {
  readonly partitionIndex: number;
  readonly partitionLabel: string;
  /** Every operation of the partition, in call order. */
  readonly operations: readonly Operation<Input, Output>[];
  /** The longest sequence of operations the search could linearize, in linearization order. */
  readonly linearizedPrefix: readonly Operation<Input, Output>[];
  /** The model state after `linearizedPrefix`. */
  readonly stateAfterPrefix: State;
  /**
   * The operations that were candidates to go next (called before `overdue` returned, not yet
   * linearized): the model accepts none of them in `stateAfterPrefix`.
   */
  readonly unplaceable: readonly Operation<Input, Output>[];
  /**
   * The first operation, among those not yet linearized, to have returned. It had to take effect
   * before anything called after its return, so one of `unplaceable` had to go next.
   */
  readonly overdue: Operation<Input, Output>;
  /** A multi-line, human-readable account of the above. */
  readonly text: string;
}

export interface CheckResult<State, Input, Output> {
  /** "illegal" if any partition is; otherwise "unknown" if any ran out of budget; else "ok". */
  readonly outcome: CheckOutcome;
  readonly partitions: readonly PartitionResult[];
  /** One explanation per illegal partition (only the first with `stopAtFirstIllegal`). */
  readonly illegal: readonly IllegalExplanation<State, Input, Output>[];
  /** Search steps over all partitions. */
  readonly steps: number;
}

/**
 * Checks a history against a model. Throws `InvalidHistoryError` for a history that cannot be
 * checked (bad times); a violation is a result, not an error.
 */
export function checkHistory<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<State, Input, Output> {
  const stepsMax = options.stepsMaxPerPartition ?? defaultStepsMaxPerPartition;
  assert(Number.isInteger(stepsMax) && stepsMax > 0, "stepsMaxPerPartition must be a positive integer");
  assert(options.timeoutMs === undefined || options.timeoutMs >= 0, "timeoutMs must not be negative");
  for (const op of history) validateTimes(op);

  const deadlineMs = options.timeoutMs === undefined ? Infinity : performance.now() + options.timeoutMs;
  const partitions = model.partition ? model.partition(history) : [history.slice()];

  const results: PartitionResult[] = [];
  const illegal: IllegalExplanation<State, Input, Output>[] = [];
  let stepsTotal = 0;
  for (const [index, operations] of partitions.entries()) {
    const label = model.describePartition?.(operations) ?? `partition ${index}`;
    const search = searchPartition(model, operations, stepsMax, deadlineMs);
    stepsTotal += search.steps;
    results.push({
      index,
      label,
      outcome: search.outcome,
      operationCount: operations.length,
      steps: search.steps,
      ...(search.budgetExhausted ? { budgetExhausted: search.budgetExhausted } : {}),
    });
    if (search.outcome === "illegal") {
      assert(search.deepest !== undefined, "an illegal search records its deepest point");
      illegal.push(explain(model, operations, index, label, search.deepest));
      if (options.stopAtFirstIllegal === true) break;
    }
  }

  const outcome: CheckOutcome = illegal.length > 0 ? "illegal" : results.some((r) => r.outcome === "unknown") ? "unknown" : "ok";
  return { outcome, partitions: results, illegal, steps: stepsTotal };
}

/** A one-paragraph summary of a result, with the explanations of illegal partitions. */
export function formatCheckResult<State, Input, Output>(result: CheckResult<State, Input, Output>): string {
  const counts = { ok: 0, illegal: 0, unknown: 0 };
  for (const p of result.partitions) counts[p.outcome] += 1;
  const lines = [
    `linearizability: ${result.outcome} (${result.partitions.length} partition${result.partitions.length === 1 ? "" : "s"}: ` +
      `${counts.ok} ok, ${counts.illegal} illegal, ${counts.unknown} unknown; ${result.steps} steps)`,
  ];
  for (const p of result.partitions) {
    if (p.outcome === "unknown") {
      lines.push(`  ${p.label}: unknown (ran out of ${p.budgetExhausted ?? "budget"} after ${p.steps} steps)`);
    }
  }
  for (const e of result.illegal) lines.push(e.text);
  return lines.join("\n");
}

function validateTimes<Input, Output>(op: Operation<Input, Output>): void {
  if (!Number.isFinite(op.callMs)) {
    throw new InvalidHistoryError(`operation of client ${op.clientId} has a non-finite callMs (${op.callMs})`);
  }
  if (Number.isNaN(op.returnMs) || op.returnMs < op.callMs) {
    throw new InvalidHistoryError(`operation of client ${op.clientId} returns (${op.returnMs}) before it is called (${op.callMs})`);
  }
}

/** One node of the persistent stack of choices: sharing tails makes "remember the deepest" O(1). */
interface Choice<State> {
  readonly callEntry: number;
  readonly opIndex: number;
  /** The state before this operation, restored when the choice is undone. */
  readonly stateBefore: State;
  readonly parent: Choice<State> | null;
  readonly depth: number;
}

/** The deepest point of the search, kept to explain an illegal outcome. */
interface DeepestPoint<State> {
  readonly top: Choice<State> | null;
  readonly state: State;
  readonly candidateOps: readonly number[];
  readonly overdueOp: number;
}

interface SearchResult<State> {
  readonly outcome: CheckOutcome;
  readonly steps: number;
  readonly budgetExhausted?: BudgetExhausted;
  readonly deepest?: DeepestPoint<State>;
}

const noEntry = -1;

function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  stepsMax: number,
  deadlineMs: number,
): SearchResult<State> {
  const opCount = operations.length;
  if (opCount === 0) return { outcome: "ok", steps: 0 };

  // Entries 0..2n-1 are calls and returns; entry 2n is the list head (a sentinel).
  const entryCount = 2 * opCount;
  const head = entryCount;
  const order: number[] = [];
  for (let i = 0; i < entryCount; i++) order.push(i);
  // Entry 2i is the call of operation i and 2i+1 its return (before sorting into list order).
  const timeOf = (e: number): number => {
    const op = operations[e >> 1];
    assert(op !== undefined, "entry refers to an operation");
    return (e & 1) === 0 ? op.callMs : op.returnMs;
  };
  order.sort((a, b) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    // Calls before returns at the same instant: touching operations are concurrent.
    if ((a & 1) !== (b & 1)) return (a & 1) === 0 ? -1 : 1;
    return a - b;
  });

  const next = new Int32Array(entryCount + 1).fill(noEntry);
  const prev = new Int32Array(entryCount + 1).fill(noEntry);
  let last = head;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  const isCall = (e: number): boolean => (e & 1) === 0;
  const returnOf = (callEntry: number): number => callEntry + 1;

  const at = (array: Int32Array, e: number): number => {
    const v = array[e];
    assert(v !== undefined, "entry index in range");
    return v;
  };
  // Unlinks a call entry and its return entry. The return is never the head, and the call always
  // precedes it, so both have a predecessor.
  const lift = (callEntry: number): void => {
    const ret = returnOf(callEntry);
    const callPrev = at(prev, callEntry);
    const callNext = at(next, callEntry);
    next[callPrev] = callNext;
    if (callNext !== noEntry) prev[callNext] = callPrev;
    const retPrev = at(prev, ret);
    const retNext = at(next, ret);
    next[retPrev] = retNext;
    if (retNext !== noEntry) prev[retNext] = retPrev;
  };
  // Relinks them, in the reverse order of `lift`; valid because choices are undone LIFO.
  const unlift = (callEntry: number): void => {
    const ret = returnOf(callEntry);
    const retPrev = at(prev, ret);
    const retNext = at(next, ret);
    next[retPrev] = ret;
    if (retNext !== noEntry) prev[retNext] = ret;
    const callPrev = at(prev, callEntry);
    const callNext = at(next, callEntry);
    next[callPrev] = callEntry;
    if (callNext !== noEntry) prev[callNext] = callEntry;
  };

  const linearized = new Uint32Array(Math.ceil(opCount / 32));
  const toggle = (opIndex: number): void => {
    const word = opIndex >>> 5;
    linearized[word] = (linearized[word] ?? 0) ^ (1 << (opIndex & 31));
  };
  // Zobrist hashing: the hash of a set is the XOR of its members' random keys, so it is updated in
  // O(1) per choice. Collisions only cost a full comparison in the cache.
  const zobrist = new Uint32Array(opCount);
  for (let i = 0; i < opCount; i++) zobrist[i] = splitmix32(i);
  let linearizedHash = 0;
  const cache = new LinearizationCache<State>((a, b) => model.equal(a, b));

  const recordDeepest = (top: Choice<State> | null, state: State): DeepestPoint<State> => {
    const candidateOps: number[] = [];
    let e = at(next, head);
    while (e !== noEntry && isCall(e)) {
      candidateOps.push(e >> 1);
      e = at(next, e);
    }
    assert(e !== noEntry, "a pending call is followed by its return");
    return { top, state, candidateOps, overdueOp: e >> 1 };
  };

  let state = model.init();
  let top: Choice<State> | null = null;
  let deepest = recordDeepest(null, state);
  let steps = 0;
  let entry = at(next, head);
  while (at(next, head) !== noEntry) {
    if (steps >= stepsMax) return { outcome: "unknown", steps, budgetExhausted: "steps" };
    if (steps % clockCheckEverySteps === 0 && deadlineMs !== Infinity && performance.now() >= deadlineMs) {
      return { outcome: "unknown", steps, budgetExhausted: "timeout" };
    }
    steps += 1;
    assert(entry !== noEntry, "the walk stops at a return entry before the end of the list");

    if (isCall(entry)) {
      const opIndex = entry >> 1;
      const op = operations[opIndex];
      assert(op !== undefined, "call entry refers to an operation");
      const result = model.step(state, op.input, op.output);
      if (result.ok) {
        toggle(opIndex);
        const hash = (linearizedHash ^ (zobrist[opIndex] ?? 0)) >>> 0;
        if (cache.addIfAbsent(hash, linearized, result.state)) {
          linearizedHash = hash;
          const parent: Choice<State> | null = top;
          const depth: number = (parent === null ? 0 : parent.depth) + 1;
          top = {
            callEntry: entry,
            opIndex,
            stateBefore: state,
            parent,
            depth,
          };
          state = result.state;
          lift(entry);
          if (top.depth > (deepest.top?.depth ?? 0) && at(next, head) !== noEntry) {
            deepest = recordDeepest(top, state);
          }
          entry = at(next, head);
          continue;
        }
        toggle(opIndex); // seen before: this branch has been explored
      }
      entry = at(next, entry);
      continue;
    }

    // A return entry: its operation cannot be postponed any further. Undo the latest choice.
    if (top === null) return { outcome: "illegal", steps, deepest };
    toggle(top.opIndex);
    linearizedHash = (linearizedHash ^ (zobrist[top.opIndex] ?? 0)) >>> 0;
    state = top.stateBefore;
    unlift(top.callEntry);
    entry = at(next, top.callEntry);
    top = top.parent;
  }
  return { outcome: "ok", steps };
}

interface CacheEntry<State> {
  readonly linearized: Uint32Array;
  readonly state: State;
}

/** The set of (linearized operations, state) pairs already explored. */
class LinearizationCache<State> {
  private readonly buckets = new Map<number, CacheEntry<State>[]>();

  constructor(private readonly equal: (a: State, b: State) => boolean) {}

  /** Adds the pair unless present; returns whether it was added. Copies `linearized`. */
  addIfAbsent(hash: number, linearized: Uint32Array, state: State): boolean {
    let bucket = this.buckets.get(hash);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(hash, bucket);
    } else {
      for (const cached of bucket) {
        if (sameWords(cached.linearized, linearized) && this.equal(cached.state, state)) return false;
      }
    }
    bucket.push({ linearized: linearized.slice(), state });
    return true;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A well-mixed 32-bit value per index (splitmix32), deterministic so runs are reproducible. */
function splitmix32(index: number): number {
  let z = Math.imul(index + 1, 0x9e3779b9) >>> 0 || 1;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  partitionIndex: number,
  partitionLabel: string,
  deepest: DeepestPoint<State>,
): IllegalExplanation<State, Input, Output> {
  const opAt = (i: number): Operation<Input, Output> => {
    const op = operations[i];
    assert(op !== undefined, "explanation refers to an operation of the partition");
    return op;
  };
  const linearizedPrefix: Operation<Input, Output>[] = [];
  for (let c = deepest.top; c !== null; c = c.parent) linearizedPrefix.push(opAt(c.opIndex));
  linearizedPrefix.reverse();
  const unplaceable = deepest.candidateOps.map(opAt);
  const overdue = opAt(deepest.overdueOp);
  const sortedOperations = operations.slice().sort((a, b) => a.callMs - b.callMs);

  const describe = (op: Operation<Input, Output>): string => describeOperation(model, op);
  const lines = [`not linearizable: ${partitionLabel} (partition ${partitionIndex}, ${operations.length} operations)`];
  if (linearizedPrefix.length === 0) {
    lines.push(`  no operation can go first from the initial state ${describeState(model, deepest.state)}`);
  } else {
    lines.push(`  longest linearizable prefix (${linearizedPrefix.length} operations):`);
    const shownFrom = Math.max(0, linearizedPrefix.length - explanationPrefixLinesMax);
    if (shownFrom > 0) lines.push(`    ... ${shownFrom} earlier operations`);
    for (const [i, op] of linearizedPrefix.entries()) {
      if (i >= shownFrom) lines.push(`    ${i + 1}. ${describe(op)}`);
    }
    lines.push(`  state after the prefix: ${describeState(model, deepest.state)}`);
  }
  lines.push(`  none of these ${unplaceable.length} pending operations can take effect next:`);
  for (const op of unplaceable) {
    const mark = op === overdue ? "   <- returned first; nothing called after its return may precede it" : "";
    lines.push(`    ${describe(op)}${mark}`);
  }
  return {
    partitionIndex,
    partitionLabel,
    operations: sortedOperations,
    linearizedPrefix,
    stateAfterPrefix: deepest.state,
    unplaceable,
    overdue,
    text: lines.join("\n"),
  };
}

/** `client 3: put("v") -> ok  [10, 12]`, using the model's wording when it has one. */
export function describeOperation<State, Input, Output>(model: Model<State, Input, Output>, op: Operation<Input, Output>): string {
  const what = model.describeOperation?.(op.input, op.output) ?? `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
  const until = op.returnMs === Infinity ? "∞)" : `${op.returnMs}]`;
  return `client ${op.clientId}: ${what}  [${op.callMs}, ${until}`;
}

function describeState<State, Input, Output>(model: Model<State, Input, Output>, state: State): string {
  return model.describeState?.(state) ?? JSON.stringify(state);
}
