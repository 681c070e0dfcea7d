import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterEvent } from "../framework/interfaces.js";
import { makePod } from "../testing/builders.js";
import { QueueFullError, SchedulingQueue } from "./scheduling-queue.js";

function clockedQueue(options: { requeueEvents?: Map<string, readonly ClusterEvent[] | undefined>; queuedPodsMax?: number } = {}) {
  const clock = { nowMs: 0 };
  const queue = new SchedulingQueue({ nowMs: () => clock.nowMs, ...options });
  return { clock, queue };
}

function popName(queue: SchedulingQueue): string | undefined {
  return queue.pop()?.info.podInfo.pod.metadata.name;
}

describe("scheduling queue", () => {
  it("pops higher priority first, then the longest waiting", () => {
    const { clock, queue } = clockedQueue();
    queue.add(makePod("low-old", { priority: 0 }));
    clock.nowMs = 1;
    queue.add(makePod("high", { priority: 100 }));
    clock.nowMs = 2;
    queue.add(makePod("low-new", { priority: 0 }));
    assert.deepEqual([popName(queue), popName(queue), popName(queue), popName(queue)], ["high", "low-old", "low-new", undefined]);
  });

  it("backs a failed pod off 1 s, 2 s, 4 s, 8 s, then 10 s at most", () => {
    const { queue } = clockedQueue();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((attempts) => queue.backoffDurationMs(attempts)),
      [1_000, 2_000, 4_000, 8_000, 10_000, 10_000],
    );
  });

  it("holds a pod that failed with an error until its backoff runs out", () => {
    const { clock, queue } = clockedQueue();
    queue.add(makePod("p"));
    const popped = queue.pop();
    assert.ok(popped);
    queue.addBackoff(popped.info);
    assert.equal(queue.whereIs("default/p"), "backoff");
    clock.nowMs = 999;
    assert.equal(queue.pop(), undefined);
    assert.equal(queue.nextWakeMs(), 1_000);
    clock.nowMs = 1_000;
    assert.equal(popName(queue), "p");
  });

  it("keeps an unschedulable pod until an event its rejecting plugin registered for", () => {
    const requeueEvents = new Map<string, readonly ClusterEvent[] | undefined>([
      ["NodeAffinity", ["NodeAdd", "NodeUpdate"]],
      ["NodeResourcesFit", ["NodeAdd", "NodeUpdate", "AssignedPodDelete"]],
    ]);
    const { clock, queue } = clockedQueue({ requeueEvents });
    queue.add(makePod("affinity"));
    queue.add(makePod("resources"));
    const a = queue.pop();
    const r = queue.pop();
    assert.ok(a && r);
    queue.addUnschedulable(a.info, a.cycle, ["NodeAffinity"]);
    queue.addUnschedulable(r.info, r.cycle, ["NodeResourcesFit"]);
    clock.nowMs = 5_000; // past both backoffs
    assert.equal(queue.moveAllToActiveOrBackoff("AssignedPodDelete"), 1);
    assert.equal(queue.whereIs("default/resources"), "active");
    assert.equal(queue.whereIs("default/affinity"), "unschedulable");
    queue.moveAllToActiveOrBackoff("NodeAdd");
    assert.equal(queue.whereIs("default/affinity"), "active");
  });

  it("moves a pod still backing off to the backoff queue on an event, not to active", () => {
    const { clock, queue } = clockedQueue();
    queue.add(makePod("p"));
    const p = queue.pop();
    assert.ok(p);
    queue.addUnschedulable(p.info, p.cycle, ["NodeResourcesFit"]);
    clock.nowMs = 500;
    queue.moveAllToActiveOrBackoff("NodeAdd");
    assert.equal(queue.whereIs("default/p"), "backoff");
  });

  it("sends a pod to backoff, not unschedulable, when an event happened while it was being scheduled", () => {
    const { queue } = clockedQueue();
    queue.add(makePod("p"));
    const p = queue.pop();
    assert.ok(p);
    queue.moveAllToActiveOrBackoff("NodeAdd"); // e.g. a node joined mid-cycle
    queue.addUnschedulable(p.info, p.cycle, ["NodeResourcesFit"]);
    assert.equal(queue.whereIs("default/p"), "backoff");
  });

  it("retries a long-unschedulable pod after five minutes even without an event", () => {
    const { clock, queue } = clockedQueue();
    queue.add(makePod("p"));
    const p = queue.pop();
    assert.ok(p);
    queue.addUnschedulable(p.info, p.cycle, ["NodeAffinity"]);
    clock.nowMs = 5 * 60_000 - 1;
    queue.flush();
    assert.equal(queue.whereIs("default/p"), "unschedulable");
    clock.nowMs = 5 * 60_000;
    queue.flush();
    assert.equal(queue.whereIs("default/p"), "active");
  });

  it("moves an unschedulable pod back when the pod itself changes", () => {
    const { queue } = clockedQueue();
    queue.add(makePod("p", { cpu: "64" }));
    const p = queue.pop();
    assert.ok(p);
    queue.addUnschedulable(p.info, p.cycle, ["NodeResourcesFit"]);
    queue.update(makePod("p", { cpu: "1" }));
    assert.notEqual(queue.whereIs("default/p"), "unschedulable");
  });

  it("forgets a deleted pod wherever it is, including in flight", () => {
    const { queue } = clockedQueue();
    queue.add(makePod("p"));
    const p = queue.pop();
    assert.ok(p);
    queue.delete(makePod("p"));
    queue.addUnschedulable(p.info, p.cycle, []);
    assert.equal(queue.whereIs("default/p"), undefined);
    assert.deepEqual(queue.counts(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });

  it("refuses pods beyond its cap with a typed error", () => {
    const { queue } = clockedQueue({ queuedPodsMax: 2 });
    queue.add(makePod("a"));
    queue.add(makePod("b"));
    assert.throws(() => queue.add(makePod("c")), QueueFullError);
    queue.add(makePod("a")); // an update of a queued pod is not a new pod
  });
});
