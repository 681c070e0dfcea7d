import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AssertionFailure } from "./assert.js";
import { checkHistory } from "./check.js";
import { HistoryFullError } from "./errors.js";
import { kvModel, unknownKvOutput, type KvInput, type KvOutput } from "./kv.js";
import { HistoryRecorder } from "./recorder.js";

/** A clock that moves only when told, so recorded times are exact. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let nowMs = 0;
  return { now: () => nowMs, advance: (ms) => (nowMs += ms) };
}

describe("history recorder", () => {
  test("stamps call and return times and produces a checkable history", () => {
    const clock = manualClock();
    const recorder = new HistoryRecorder<KvInput, KvOutput>({
      unknownOutput: unknownKvOutput,
      now: clock.now,
    });
    const write = recorder.begin(1, { type: "put", key: "k", value: "a" });
    clock.advance(5);
    const read = recorder.begin(2, { type: "get", key: "k" });
    clock.advance(1);
    recorder.complete(read, { type: "get", value: "a" });
    clock.advance(1);
    recorder.complete(write, { type: "put" });

    const history = recorder.history();
    assert.deepEqual(
      history.map((op) => [op.clientId, op.callMs, op.returnMs]),
      [
        [1, 0, 7],
        [2, 5, 6],
      ],
    );
    assert.equal(checkHistory(kvModel, history).outcome, "ok");
  });

  test("unknown and still-pending operations are reported with an unknown outcome, discarded ones not at all", () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>({
      unknownOutput: unknownKvOutput,
      now: () => 1,
    });
    recorder.markUnknown(recorder.begin(1, { type: "put", key: "k", value: "a" }));
    recorder.begin(2, { type: "put", key: "k", value: "b" });
    recorder.discard(recorder.begin(3, { type: "put", key: "k", value: "c" }));
    const history = recorder.history();
    assert.deepEqual(
      history.map((op) => [op.clientId, op.output, op.returnMs]),
      [
        [1, unknownKvOutput, Infinity],
        [2, unknownKvOutput, Infinity],
      ],
    );
  });

  test("track records a resolved call as returned and a rejected call as unknown", async () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>({
      unknownOutput: unknownKvOutput,
      now: () => 1,
    });
    await recorder.track(1, { type: "get", key: "k" }, () => Promise.resolve({ type: "get", value: null }));
    await assert.rejects(recorder.track(2, { type: "put", key: "k", value: "a" }, () => Promise.reject(new Error("deadline"))));
    assert.deepEqual(
      recorder.history().map((op) => [op.clientId, op.output.type]),
      [
        [1, "get"],
        [2, "unknown"],
      ],
    );
  });

  test("refuses operations beyond its cap", () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>({
      unknownOutput: unknownKvOutput,
      operationsMax: 1,
    });
    recorder.begin(1, { type: "get", key: "k" });
    assert.throws(() => recorder.begin(1, { type: "get", key: "k" }), HistoryFullError);
  });

  test("completing an operation twice is a programmer error", () => {
    const recorder = new HistoryRecorder<KvInput, KvOutput>({
      unknownOutput: unknownKvOutput,
    });
    const handle = recorder.begin(1, { type: "put", key: "k", value: "a" });
    recorder.complete(handle, { type: "put" });
    assert.throws(() => recorder.complete(handle, { type: "put" }), AssertionFailure);
  });
});
