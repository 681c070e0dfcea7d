import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, formatCheckResult } from "./check.js";
import { InvalidHistoryError } from "./errors.js";
import { kvModel, type KvInput, type KvOperation, type KvOutput } from "./kv.js";

const key = "k";
const get = (value: string | null): [KvInput, KvOutput] => [
  { type: "get", key },
  { type: "get", value },
];
const put = (value: string): [KvInput, KvOutput] => [{ type: "put", key, value }, { type: "put" }];
const cas = (expected: string | null, value: string, ok: boolean): [KvInput, KvOutput] => [
  { type: "cas", key, expected, value },
  { type: "cas", ok },
];
const del = (deleted?: boolean): [KvInput, KvOutput] => [{ type: "delete", key }, deleted === undefined ? { type: "delete" } : { type: "delete", deleted }];
/** The same operation with its outcome unknown: the client never heard back. */
const unknown = ([input]: [KvInput, KvOutput]): [KvInput, KvOutput] => [input, { type: "unknown" }];

function op(clientId: number, [input, output]: [KvInput, KvOutput], callMs: number, returnMs: number): KvOperation {
  return { clientId, input, output, callMs, returnMs };
}

function outcomeOf(history: KvOperation[]): string {
  return checkHistory(kvModel, history).outcome;
}

function assertLinearizable(history: KvOperation[]): void {
  const result = checkHistory(kvModel, history);
  assert.equal(result.outcome, "ok", formatCheckResult(result));
}

function assertNotLinearizable(history: KvOperation[]): void {
  const result = checkHistory(kvModel, history);
  assert.equal(result.outcome, "illegal", formatCheckResult(result));
}

describe("kv model: linearizable histories pass", () => {
  test("an empty history is linearizable", () => {
    assertLinearizable([]);
  });

  test("a sequential history of every operation type passes", () => {
    assertLinearizable([
      op(1, get(null), 0, 1),
      op(1, put("a"), 2, 3),
      op(2, get("a"), 4, 5),
      op(1, cas("a", "b", true), 6, 7),
      op(2, cas("a", "c", false), 8, 9),
      op(1, get("b"), 10, 11),
      op(2, del(true), 12, 13),
      op(1, del(false), 14, 15),
      op(2, get(null), 16, 17),
      op(1, cas(null, "d", true), 18, 19),
      op(2, get("d"), 20, 21),
    ]);
  });

  test("a read overlapping a write may see the old value or the new one", () => {
    assertLinearizable([op(1, put("a"), 0, 10), op(2, get(null), 1, 2), op(3, get("a"), 3, 4)]);
    assertLinearizable([op(1, put("a"), 0, 10), op(2, get("a"), 1, 2)]);
  });

  test("concurrent writes may take effect in either order, reads after them agree on the last", () => {
    assertLinearizable([op(1, put("a"), 0, 5), op(2, put("b"), 1, 6), op(3, get("a"), 7, 8), op(4, get("a"), 9, 10)]);
    assertLinearizable([op(1, put("a"), 0, 5), op(2, put("b"), 1, 6), op(3, get("b"), 7, 8)]);
  });

  test("the second write to be called may be the first to take effect", () => {
    // put(b) is called later but must precede put(a): the read during both sees b, the read after sees a.
    assertLinearizable([op(1, put("a"), 0, 10), op(2, put("b"), 2, 4), op(3, get("b"), 5, 6), op(3, get("a"), 11, 12)]);
  });

  test("two overlapping CASes from the same value: one succeeds, the other fails", () => {
    assertLinearizable([op(1, put("a"), 0, 1), op(2, cas("a", "b", true), 2, 6), op(3, cas("a", "c", false), 3, 5), op(1, get("b"), 7, 8)]);
  });

  test("operations that touch at one instant count as concurrent", () => {
    assertLinearizable([op(1, put("a"), 0, 5), op(2, get(null), 5, 6)]);
  });

  test("a delete without a recorded count is accepted either way", () => {
    assertLinearizable([op(1, del(), 0, 1), op(1, put("a"), 2, 3), op(1, del(), 4, 5), op(1, get(null), 6, 7)]);
  });

  test("keys are checked independently", () => {
    const history: KvOperation[] = [
      {
        clientId: 1,
        input: { type: "put", key: "x", value: "1" },
        output: { type: "put" },
        callMs: 0,
        returnMs: 1,
      },
      {
        clientId: 2,
        input: { type: "get", key: "y" },
        output: { type: "get", value: null },
        callMs: 2,
        returnMs: 3,
      },
      {
        clientId: 2,
        input: { type: "get", key: "x" },
        output: { type: "get", value: "1" },
        callMs: 4,
        returnMs: 5,
      },
    ];
    const result = checkHistory(kvModel, history);
    assert.equal(result.outcome, "ok");
    assert.deepEqual(
      result.partitions.map((p) => [p.label, p.operationCount]),
      [
        ['key "x"', 2],
        ['key "y"', 1],
      ],
    );
  });
});

describe("kv model: non-linearizable histories fail", () => {
  test("a read after a completed write that sees the value before it is stale", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(1, put("b"), 2, 3), op(2, get("a"), 4, 5)]);
  });

  test("a read after a completed write that sees the key absent is stale", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, get(null), 2, 3)]);
  });

  test("two successful CASes from the same expected value cannot both take effect", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, cas("a", "b", true), 2, 6), op(3, cas("a", "c", true), 3, 5)]);
  });

  test("a read of a value that was never written fails", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, get("z"), 2, 3)]);
  });

  test("a failed CAS whose comparison would have held fails", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, cas("a", "b", false), 2, 3)]);
  });

  test("a delete that reports a deletion of an absent key fails", () => {
    assertNotLinearizable([op(1, del(true), 0, 1)]);
  });

  test("once a read saw a new value, a later read cannot see the old one", () => {
    // Both reads overlap the write, but they are ordered with respect to each other.
    assertNotLinearizable([op(1, put("a"), 0, 10), op(2, get("a"), 1, 2), op(3, get(null), 3, 4)]);
  });

  test("one bad key makes the history illegal and only that partition is reported", () => {
    const history: KvOperation[] = [
      {
        clientId: 1,
        input: { type: "put", key: "good", value: "1" },
        output: { type: "put" },
        callMs: 0,
        returnMs: 1,
      },
      {
        clientId: 1,
        input: { type: "put", key: "bad", value: "1" },
        output: { type: "put" },
        callMs: 2,
        returnMs: 3,
      },
      {
        clientId: 2,
        input: { type: "get", key: "bad" },
        output: { type: "get", value: "2" },
        callMs: 4,
        returnMs: 5,
      },
    ];
    const result = checkHistory(kvModel, history);
    assert.equal(result.outcome, "illegal");
    assert.deepEqual(
      result.partitions.map((p) => [p.label, p.outcome]),
      [
        ['key "good"', "ok"],
        ['key "bad"', "illegal"],
      ],
    );
    assert.equal(result.illegal.length, 1);
    assert.equal(result.illegal[0]?.partitionLabel, 'key "bad"');
  });
});

describe("kv model: operations with an unknown outcome", () => {
  test("an unknown put that a later read observed took effect", () => {
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(put("b")), 2, Infinity), op(3, get("b"), 5, 6)]);
  });

  test("an unknown put that no read observed may never have taken effect", () => {
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(put("b")), 2, Infinity), op(3, get("a"), 5, 6), op(3, get("a"), 100, 101)]);
  });

  test("an unknown put may take effect long after its client gave up", () => {
    assertLinearizable([op(1, unknown(put("b")), 0, Infinity), op(2, put("a"), 10, 11), op(3, get("a"), 20, 21), op(3, get("b"), 30, 31)]);
  });

  test("an unknown put cannot take effect before it was called", () => {
    assertNotLinearizable([op(1, get("b"), 0, 1), op(2, unknown(put("b")), 2, Infinity)]);
  });

  test("an unknown put that was observed cannot be undone", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, unknown(put("b")), 2, Infinity), op(3, get("b"), 5, 6), op(3, get("a"), 7, 8)]);
  });

  test("an unknown CAS whose comparison held may or may not have taken effect", () => {
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(cas("a", "b", true)), 2, Infinity), op(3, get("b"), 5, 6)]);
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(cas("a", "b", true)), 2, Infinity), op(3, get("a"), 5, 6)]);
  });

  test("an unknown CAS whose comparison never held cannot have written its value", () => {
    assertNotLinearizable([op(1, put("a"), 0, 1), op(2, unknown(cas("x", "b", true)), 2, Infinity), op(3, get("b"), 5, 6)]);
  });

  test("an unknown CAS cannot win against a successful CAS from the same value", () => {
    // Both compare against "a"; the known one succeeded, so the unknown one cannot also have.
    assertNotLinearizable([
      op(1, put("a"), 0, 1),
      op(2, cas("a", "b", true), 2, 3),
      op(3, unknown(cas("a", "c", true)), 2, Infinity),
      op(4, get("c"), 10, 11),
      op(4, get("b"), 12, 13),
    ]);
  });

  test("an unknown delete may have removed the key or not", () => {
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(del()), 2, Infinity), op(3, get("a"), 5, 6)]);
    assertLinearizable([op(1, put("a"), 0, 1), op(2, unknown(del()), 2, Infinity), op(3, get(null), 5, 6)]);
  });

  test("a get with an unknown outcome is left out of the check", () => {
    const result = checkHistory(kvModel, [op(1, put("a"), 0, 1), op(2, unknown(get(null)), 2, Infinity)]);
    assert.equal(result.outcome, "ok");
    assert.equal(result.partitions[0]?.operationCount, 1);
  });

  test("an unknown outcome with a return time is rejected as a harness bug", () => {
    assert.throws(() => outcomeOf([op(1, unknown(put("a")), 0, 5)]), InvalidHistoryError);
  });

  test("a known outcome without a return time is rejected as a harness bug", () => {
    assert.throws(() => outcomeOf([op(1, put("a"), 0, Infinity)]), InvalidHistoryError);
  });

  test("an output that does not answer its input is rejected", () => {
    const history: KvOperation[] = [
      {
        clientId: 1,
        input: { type: "get", key },
        output: { type: "put" },
        callMs: 0,
        returnMs: 1,
      },
    ];
    assert.throws(() => outcomeOf(history), InvalidHistoryError);
  });
});

describe("kv model: explanations", () => {
  test("a stale read is explained by the prefix, the state and the read that cannot be placed", () => {
    const history = [op(1, put("a"), 0, 1), op(1, put("b"), 2, 3), op(2, get("a"), 4, 5), op(2, get("b"), 6, 7)];
    const result = checkHistory(kvModel, history);
    const explanation = result.illegal[0];
    assert.ok(explanation !== undefined);
    assert.equal(explanation.partitionLabel, 'key "k"');
    assert.deepEqual(explanation.linearizedPrefix, [history[0], history[1]]);
    assert.equal(explanation.stateAfterPrefix, "b");
    assert.deepEqual(explanation.unplaceable, [history[2]]);
    assert.equal(explanation.overdue, history[2]);
    assert.match(explanation.text, /not linearizable: key "k"/);
    assert.match(explanation.text, /state after the prefix: "b"/);
    assert.match(explanation.text, /client 2: get\(\) -> "a"  \[4, 5\]/);
  });

  test("the explanation lists every pending operation when none can go next", () => {
    // After put(a), both CASes are pending; each claims success from a value that is not there.
    const history = [op(1, put("a"), 0, 1), op(2, cas("x", "b", true), 2, 6), op(3, cas("y", "c", true), 3, 5)];
    const explanation = checkHistory(kvModel, history).illegal[0];
    assert.ok(explanation !== undefined);
    assert.deepEqual(explanation.linearizedPrefix, [history[0]]);
    assert.deepEqual(new Set(explanation.unplaceable), new Set([history[1], history[2]]));
    assert.equal(explanation.overdue, history[2]);
  });
});
