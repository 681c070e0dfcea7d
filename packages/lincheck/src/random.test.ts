import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, defaultStepsMaxPerPartition, formatCheckResult } from "./check.js";
import { kvModel } from "./kv.js";
import { corruptOneRead, generateLinearizableKvHistory, TestRandom } from "./testing/kv-history.js";

/** LINCHECK_SEED=<n> replays one seed of the randomized tests. */
const replaySeed = process.env["LINCHECK_SEED"];
const seeds = replaySeed !== undefined ? [Number(replaySeed)] : Array.from({ length: 40 }, (_, i) => i + 1);
const replayHint = (seed: number): string => `seed ${seed}; replay: LINCHECK_SEED=${seed} node --test packages/lincheck/dist/random.test.js`;

describe("randomized histories from a real sequential execution", () => {
  test("every generated history is linearizable, and corrupting one read makes it illegal", () => {
    for (const seed of seeds) {
      const history = generateLinearizableKvHistory({
        seed,
        operationCount: 200,
        keyCount: 3,
        clientCount: 5,
        unknownPercent: 3,
      });
      const result = checkHistory(kvModel, history);
      assert.equal(result.outcome, "ok", `${replayHint(seed)}\n${formatCheckResult(result)}`);

      const corruption = corruptOneRead(history, new TestRandom(seed));
      assert.ok(corruption !== undefined, `${replayHint(seed)}: no read could be corrupted`);
      const corrupted = checkHistory(kvModel, corruption.history);
      assert.equal(
        corrupted.outcome,
        "illegal",
        `${replayHint(seed)}: read #${corruption.corruptedIndex} now sees ${corruption.staleValue}\n${formatCheckResult(corrupted)}`,
      );
      assert.equal(corrupted.illegal.length, 1, replayHint(seed));
    }
  });

  test("generated histories really overlap and include unknown outcomes", () => {
    // Guards the generator: a sequential-only history would make the test above trivial.
    const history = generateLinearizableKvHistory({
      seed: 7,
      operationCount: 500,
      keyCount: 3,
      clientCount: 5,
      unknownPercent: 3,
    });
    const known = history.filter((op) => op.returnMs !== Infinity).sort((a, b) => a.callMs - b.callMs);
    let overlapping = 0;
    for (let i = 1; i < known.length; i++) {
      if ((known[i]?.callMs ?? 0) < (known[i - 1]?.returnMs ?? 0)) overlapping += 1;
    }
    assert.ok(overlapping > known.length / 4, `only ${overlapping} of ${known.length} operations overlap the previous one`);
    assert.ok(
      history.some((op) => op.returnMs === Infinity),
      "some outcomes are unknown",
    );
    assert.ok(history.some((op) => op.input.type === "cas" && op.output.type === "cas" && op.output.ok));
    assert.ok(history.some((op) => op.input.type === "cas" && op.output.type === "cas" && !op.output.ok));
  });
});

describe("performance sanity", () => {
  test("a 2,000-operation history over 5 keys is checked within the default step cap", () => {
    const history = generateLinearizableKvHistory({
      seed: 2000,
      operationCount: 2000,
      keyCount: 5,
      clientCount: 8,
      unknownPercent: 1,
    });
    assert.equal(history.length, 2000);
    const result = checkHistory(kvModel, history);
    assert.equal(result.outcome, "ok", formatCheckResult(result));
    assert.equal(result.partitions.length, 5);
    for (const p of result.partitions) assert.ok(p.steps < defaultStepsMaxPerPartition, p.label);
  });
});
