import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkHistory, formatCheckResult } from "./check.js";
import { kvModel, type KvInput, type KvOperation, type KvOutput, type KvState } from "./kv.js";
import { TestRandom } from "./testing/kv-history.js";

/**
 * The definition of linearizability, checked by brute force: try every order that respects real
 * time (Y must precede X when Y returned before X was called), where unknown operations may also
 * be left out. Exponential, so only for a handful of operations — which is what makes it a
 * trustworthy oracle for the real checker.
 */
function bruteForceLinearizable(history: readonly KvOperation[]): boolean {
  const ops = history.filter((op) => !(op.input.type === "get" && op.output.type === "unknown"));
  const placed = new Array<boolean>(ops.length).fill(false);
  const search = (state: KvState, placedCount: number): boolean => {
    const knownLeft = ops.some((op, i) => !placed[i] && op.returnMs !== Infinity);
    if (!knownLeft) return true; // the remaining unknown operations never took effect
    for (const [i, op] of ops.entries()) {
      if (placed[i]) continue;
      const mustWait = ops.some((other, j) => j !== i && !placed[j] && other.returnMs < op.callMs);
      if (mustWait) continue;
      const step = kvModel.step(state, op.input, op.output);
      if (!step.ok) continue;
      placed[i] = true;
      const found = search(step.state, placedCount + 1);
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(kvModel.init(), 0);
}

const values = ["a", "b", "c"] as const;

function randomOperation(random: TestRandom, clientId: number): KvOperation {
  const key = "k";
  const value = random.pick(values);
  const maybeNull = (): string | null => (random.chance(25) ? null : random.pick(values));
  let input: KvInput;
  let output: KvOutput;
  switch (random.intn(4)) {
    case 0:
      input = { type: "get", key };
      output = { type: "get", value: maybeNull() };
      break;
    case 1:
      input = { type: "put", key, value };
      output = { type: "put" };
      break;
    case 2:
      input = { type: "cas", key, expected: maybeNull(), value };
      output = { type: "cas", ok: random.chance(50) };
      break;
    default:
      input = { type: "delete", key };
      output = random.chance(30) ? { type: "delete" } : { type: "delete", deleted: random.chance(50) };
  }
  const callMs = random.intn(20);
  if (random.chance(15))
    return {
      clientId,
      input,
      output: { type: "unknown" },
      callMs,
      returnMs: Infinity,
    };
  return { clientId, input, output, callMs, returnMs: callMs + random.intn(8) };
}

describe("checker agrees with a brute-force search", () => {
  test("on thousands of small random histories, legal and illegal alike", () => {
    const random = new TestRandom(20240601);
    const verdicts = { ok: 0, illegal: 0 };
    for (let round = 0; round < 3000; round++) {
      const length = 1 + random.intn(7);
      const history = Array.from({ length }, (_, i) => randomOperation(random, i));
      const expected = bruteForceLinearizable(history) ? "ok" : "illegal";
      const result = checkHistory(kvModel, history);
      assert.equal(result.outcome, expected, `round ${round}: ${JSON.stringify(history)}\n${formatCheckResult(result)}`);
      verdicts[expected] += 1;
    }
    // Both verdicts must be well represented, or the comparison proves little.
    assert.ok(verdicts.ok > 300 && verdicts.illegal > 300, JSON.stringify(verdicts));
  });
});
