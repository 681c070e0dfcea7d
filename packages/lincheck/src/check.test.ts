import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, formatCheckResult } from "./check.js";
import { InvalidHistoryError } from "./errors.js";
import type { Model, Operation } from "./model.js";

/**
 * A model with no partition function and no descriptions: a counter that clients add to and read.
 * Shows the checker is generic, and gives histories whose search space is easy to reason about.
 */
type CounterInput = { readonly add: number } | { readonly read: true };
type CounterOutput = number | "done";
const counterModel: Model<number, CounterInput, CounterOutput> = {
  init: () => 0,
  step: (state, input, output) => ("add" in input ? { ok: output === "done", state: state + input.add } : { ok: output === state, state }),
  equal: (a, b) => a === b,
};
type CounterOp = Operation<CounterInput, CounterOutput>;

const add = (clientId: number, n: number, callMs: number, returnMs: number): CounterOp => ({
  clientId,
  input: { add: n },
  output: "done",
  callMs,
  returnMs,
});
const read = (clientId: number, value: number, callMs: number, returnMs: number): CounterOp => ({
  clientId,
  input: { read: true },
  output: value,
  callMs,
  returnMs,
});

/** n adds of distinct powers of two, all concurrent, then a read: every subset sum is a state. */
function concurrentAddsThenRead(n: number, readValue: number): CounterOp[] {
  const history: CounterOp[] = [];
  for (let i = 0; i < n; i++) history.push(add(i, 2 ** i, 0, 100));
  history.push(read(n, readValue, 200, 201));
  return history;
}

describe("checker", () => {
  test("a model without a partition function is checked as one partition", () => {
    const result = checkHistory(counterModel, [add(1, 2, 0, 10), add(2, 3, 1, 11), read(3, 5, 12, 13)]);
    assert.equal(result.outcome, "ok");
    assert.equal(result.partitions.length, 1);
    assert.equal(result.partitions[0]?.label, "partition 0");
  });

  test("a read that only an intermediate state explains must overlap the adds", () => {
    assert.equal(checkHistory(counterModel, [add(1, 2, 0, 10), add(2, 3, 1, 11), read(3, 3, 5, 6)]).outcome, "ok");
    assert.equal(checkHistory(counterModel, [add(1, 2, 0, 10), add(2, 3, 1, 11), read(3, 3, 12, 13)]).outcome, "illegal");
  });

  test("explanations fall back to JSON when the model does not describe operations", () => {
    const result = checkHistory(counterModel, [add(1, 2, 0, 1), read(2, 7, 2, 3)]);
    assert.equal(result.outcome, "illegal");
    assert.match(result.illegal[0]?.text ?? "", /client 2: \{"read":true\} -> 7  \[2, 3\]/);
    assert.match(result.illegal[0]?.text ?? "", /state after the prefix: 2/);
  });

  test("memoization lets many concurrent operations be checked without trying every order", () => {
    // 16 concurrent adds have 16! orders but only 2^16 (set, state) pairs.
    const result = checkHistory(counterModel, concurrentAddsThenRead(16, 2 ** 16 - 1));
    assert.equal(result.outcome, "ok", formatCheckResult(result));
  });

  test("an exhausted step budget gives unknown, not a verdict", () => {
    // Reading a sum no subset has forces the search through every subset of 20 adds.
    const result = checkHistory(counterModel, concurrentAddsThenRead(20, -1), {
      stepsMaxPerPartition: 1000,
    });
    assert.equal(result.outcome, "unknown");
    assert.equal(result.partitions[0]?.budgetExhausted, "steps");
    assert.equal(result.partitions[0]?.steps, 1000);
    assert.match(formatCheckResult(result), /unknown \(ran out of steps after 1000 steps\)/);
  });

  test("an exhausted time budget gives unknown", () => {
    const result = checkHistory(counterModel, concurrentAddsThenRead(20, -1), {
      timeoutMs: 0,
    });
    assert.equal(result.outcome, "unknown");
    assert.equal(result.partitions[0]?.budgetExhausted, "timeout");
  });

  test("an exhaustive search within budget proves a history illegal", () => {
    const result = checkHistory(counterModel, concurrentAddsThenRead(8, -1));
    assert.equal(result.outcome, "illegal");
    // The deepest point linearized all 8 adds; the read of -1 cannot follow any of them.
    assert.equal(result.illegal[0]?.linearizedPrefix.length, 8);
  });

  test("illegal wins over unknown when partitions disagree", () => {
    const twoParts: Model<number, CounterInput, CounterOutput> = {
      ...counterModel,
      partition: (history) => [history.slice(0, 21), history.slice(21)],
    };
    const history = [...concurrentAddsThenRead(20, -1), add(1, 1, 0, 1), read(2, 5, 2, 3)];
    const result = checkHistory(twoParts, history, {
      stepsMaxPerPartition: 1000,
    });
    assert.deepEqual(
      result.partitions.map((p) => p.outcome),
      ["unknown", "illegal"],
    );
    assert.equal(result.outcome, "illegal");
  });

  test("stopAtFirstIllegal skips the partitions after the first illegal one", () => {
    const twoParts: Model<number, CounterInput, CounterOutput> = {
      ...counterModel,
      partition: (history) => [history.slice(0, 1), history.slice(1)],
    };
    const history = [read(1, 9, 0, 1), read(2, 9, 0, 1)];
    assert.equal(checkHistory(twoParts, history).illegal.length, 2);
    const result = checkHistory(twoParts, history, {
      stopAtFirstIllegal: true,
    });
    assert.equal(result.illegal.length, 1);
    assert.equal(result.partitions.length, 1);
  });

  test("an operation that returns before it is called is rejected", () => {
    assert.throws(() => checkHistory(counterModel, [add(1, 1, 5, 4)]), InvalidHistoryError);
  });

  test("an operation without a finite call time is rejected", () => {
    assert.throws(() => checkHistory(counterModel, [add(1, 1, Number.NaN, 4)]), InvalidHistoryError);
    assert.throws(() => checkHistory(counterModel, [add(1, 1, 0, Number.NaN)]), InvalidHistoryError);
  });
});
