/**
 * A ready-made model of etcd-style key-value operations, checked one key per partition.
 *
 * Operations: `get` (sees the value or null when absent), `put(value)`, `cas(expected, value)`
 * (an etcd transaction "if value == expected then put": succeeds or reports that the comparison
 * failed; `expected: null` means "only if absent", etcd's `version == 0`), and `delete`.
 * Keys are independent in this model, so a history is linearizable exactly when each key's
 * sub-history is (operations that span keys — ranges, multi-key transactions — are not modelled).
 */
import { InvalidHistoryError } from "./errors.js";
import type { Model, Operation, StepResult } from "./model.js";

/** The value of one key; null when absent. */
export type KvState = string | null;

export type KvInput =
  | { readonly type: "get"; readonly key: string }
  | { readonly type: "put"; readonly key: string; readonly value: string }
  | {
      readonly type: "cas";
      readonly key: string;
      readonly expected: string | null;
      readonly value: string;
    }
  | { readonly type: "delete"; readonly key: string };

export type KvOutput =
  | { readonly type: "get"; readonly value: string | null }
  | { readonly type: "put" }
  | { readonly type: "cas"; readonly ok: boolean }
  /** `deleted` as etcd reports it (deleted count > 0); leave it out if the client did not record it. */
  | { readonly type: "delete"; readonly deleted?: boolean }
  /** The client never learned the outcome; the operation's `returnMs` must be `Infinity`. */
  | { readonly type: "unknown" };

export type KvOperation = Operation<KvInput, KvOutput>;

export const unknownKvOutput: KvOutput = { type: "unknown" };

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  partition(history: readonly KvOperation[]): KvOperation[][] {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      validateKvOperation(op);
      // A get whose answer never arrived observed nothing and changed nothing: it can always be
      // linearized, so leaving it out only saves search.
      if (op.input.type === "get" && op.output.type === "unknown") continue;
      let ops = byKey.get(op.input.key);
      if (ops === undefined) {
        ops = [];
        byKey.set(op.input.key, ops);
      }
      ops.push(op);
    }
    return [...byKey.values()];
  },

  init(): KvState {
    return null;
  },

  step(state: KvState, input: KvInput, output: KvOutput): StepResult<KvState> {
    const unknown = output.type === "unknown";
    switch (input.type) {
      case "get":
        return {
          ok: unknown || (output.type === "get" && output.value === state),
          state,
        };
      case "put":
        return { ok: true, state: input.value };
      case "cas": {
        const matches = state === input.expected;
        // Unknown outcome: if it takes effect at this point it does what a cas does here. "It
        // never took effect" is covered by placing it after everything observed (returnMs = ∞).
        if (unknown) return { ok: true, state: matches ? input.value : state };
        const reportedOk = output.type === "cas" && output.ok;
        return {
          ok: reportedOk === matches,
          state: matches ? input.value : state,
        };
      }
      case "delete": {
        if (unknown || output.type !== "delete" || output.deleted === undefined) return { ok: true, state: null };
        return { ok: output.deleted === (state !== null), state: null };
      }
    }
  },

  equal(a: KvState, b: KvState): boolean {
    return a === b;
  },

  describeOperation(input: KvInput, output: KvOutput): string {
    const call =
      input.type === "put"
        ? `put(${JSON.stringify(input.value)})`
        : input.type === "cas"
          ? `cas(${JSON.stringify(input.expected)} -> ${JSON.stringify(input.value)})`
          : `${input.type}()`;
    let answer: string;
    switch (output.type) {
      case "unknown":
        answer = "? (outcome unknown)";
        break;
      case "get":
        answer = JSON.stringify(output.value);
        break;
      case "put":
        answer = "ok";
        break;
      case "cas":
        answer = output.ok ? "ok" : "failed";
        break;
      case "delete":
        answer = output.deleted === undefined ? "ok" : output.deleted ? "deleted" : "absent";
        break;
    }
    return `${call} -> ${answer}`;
  },

  describeState(state: KvState): string {
    return state === null ? "absent" : JSON.stringify(state);
  },

  describePartition(operations: readonly KvOperation[]): string {
    const first = operations[0];
    return first === undefined ? "no key" : `key ${JSON.stringify(first.input.key)}`;
  },
};

/** Rejects operations whose shape makes them uncheckable (a harness bug, not a store bug). */
function validateKvOperation(op: KvOperation): void {
  const where = `client ${op.clientId}'s ${op.input.type} of key ${JSON.stringify(op.input.key)} at ${op.callMs}ms`;
  const unknown = op.output.type === "unknown";
  if (unknown !== (op.returnMs === Infinity)) {
    throw new InvalidHistoryError(`${where}: an unknown output goes with returnMs = Infinity and only with it (returnMs ${op.returnMs})`);
  }
  if (!unknown && op.output.type !== op.input.type) {
    throw new InvalidHistoryError(`${where}: output of type ${op.output.type} does not answer a ${op.input.type}`);
  }
}
