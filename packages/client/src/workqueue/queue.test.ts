import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { AssertionFailure } from "@coxswain/raft";
import { FakeClock, flushPromises } from "../clock/fake-clock.js";
import { DelayingQueue } from "./delaying-queue.js";
import { WorkQueue } from "./queue.js";
import { BucketRateLimiter, ItemExponentialFailureRateLimiter, MaxOfRateLimiter, defaultControllerRateLimiter } from "./rate-limiters.js";
import { RateLimitingQueue } from "./rate-limiting-queue.js";
import { runWorker, runWorkers } from "./worker.js";

/** A get() that has not resolved yet reads as "pending". */
async function settled<T>(promise: Promise<T>): Promise<T | "pending"> {
  let value: T | "pending" = "pending";
  void promise.then((v) => {
    value = v;
  });
  await flushPromises();
  return value;
}

describe("WorkQueue", () => {
  it("hands items out in the order they were added, each once however often it was added", async () => {
    const queue = new WorkQueue();
    for (const key of ["a", "b", "a", "c", "b"]) queue.add(key);
    assert.equal(queue.len(), 3);
    assert.deepEqual([await queue.get(), await queue.get(), await queue.get()], ["a", "b", "c"]);
  });

  it("never hands out an item a worker holds; an add meanwhile queues it again after done", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    const first = await queue.get();
    assert.equal(first, "a");
    queue.add("a");
    assert.equal(queue.len(), 0, "not queued while processing");
    const second = queue.get();
    assert.equal(await settled(second), "pending", "a second worker does not get a");
    queue.done("a");
    assert.equal(await settled(second), "a", "re-added during processing, so processed again");
    queue.done("a");
    assert.equal(queue.len(), 0);
  });

  it("processes an item once after done when it was not re-added", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    await queue.get();
    queue.done("a");
    assert.equal(queue.len(), 0);
    assert.equal(await settled(queue.get()), "pending");
  });

  it("wakes a blocked worker when an item arrives", async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    assert.equal(await settled(waiting), "pending");
    queue.add("x");
    assert.equal(await settled(waiting), "x");
  });

  it("on shutdown ignores adds, still hands out what was queued, then answers null", async () => {
    const queue = new WorkQueue();
    const blocked = queue.get();
    queue.shutDown();
    assert.equal(await blocked, null);
    const other = new WorkQueue();
    other.add("a");
    other.shutDown();
    other.add("b");
    assert.equal(await other.get(), "a");
    assert.equal(await other.get(), null);
    assert.equal(other.shuttingDown(), true);
  });

  it("shutDownWithDrain waits until workers finish what they hold", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    await queue.get();
    const drained = queue.shutDownWithDrain();
    assert.equal(await settled(drained.then(() => "drained")), "pending");
    queue.done("a");
    assert.equal(await settled(drained.then(() => "drained")), "drained");
  });

  it("crashes on done for an item no worker holds (a programmer error)", () => {
    const queue = new WorkQueue();
    assert.throws(() => queue.done("a"), AssertionFailure);
  });
});

describe("DelayingQueue", () => {
  it("adds an item once its delay has passed, keeping the earlier of two ready times", async () => {
    const clock = new FakeClock();
    const queue = new DelayingQueue({ clock });
    queue.addAfter("a", 100);
    queue.addAfter("b", 50);
    queue.addAfter("a", 500);
    queue.addAfter("a", 30);
    assert.equal(queue.len(), 0);
    assert.equal(queue.waitingCount(), 2);
    await clock.advance(29);
    assert.equal(queue.len(), 0);
    await clock.advance(1);
    assert.deepEqual([queue.len(), await queue.get()], [1, "a"]);
    await clock.advance(20);
    assert.deepEqual([queue.len(), await queue.get()], [1, "b"]);
    await clock.advance(1_000);
    assert.equal(queue.len(), 0, "the later ready times of a were dropped");
  });

  it("adds at once when the delay is not positive, and drops waiting items on shutdown", async () => {
    const clock = new FakeClock();
    const queue = new DelayingQueue({ clock });
    queue.addAfter("now", 0);
    queue.addAfter("later", 10);
    assert.equal(queue.len(), 1);
    queue.shutDown();
    await clock.advance(10);
    assert.equal(queue.waitingCount(), 0);
    assert.equal(clock.pendingTimers(), 0);
    assert.equal(await queue.get(), "now");
    assert.equal(await queue.get(), null);
  });
});

describe("rate limiters", () => {
  it("back off one item exponentially from 5 ms, capped at 1000 s, until forgotten", () => {
    const limiter = new ItemExponentialFailureRateLimiter<string>();
    const delays = Array.from({ length: 5 }, () => limiter.when("a"));
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(limiter.when("b"), 5, "other items back off on their own");
    assert.equal(limiter.numRequeues("a"), 5);
    for (let i = 0; i < 30; i++) limiter.when("a");
    assert.equal(limiter.when("a"), 1_000_000);
    limiter.forget("a");
    assert.equal(limiter.numRequeues("a"), 0);
    assert.equal(limiter.when("a"), 5);
  });

  it("let a burst of 100 retries through, then 10 a second", () => {
    const clock = new FakeClock();
    const bucket = new BucketRateLimiter<string>(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => bucket.when(`k${i}`));
    assert.ok(burst.every((d) => d === 0));
    assert.deepEqual([bucket.when("x"), bucket.when("y")], [100, 200]);
  });

  it("default to the longer of the item backoff and the overall bucket", () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter<string>(clock);
    assert.equal(limiter.when("a"), 5);
    assert.equal(limiter.when("a"), 10);
    const combined = new MaxOfRateLimiter<string>(new ItemExponentialFailureRateLimiter(1, 1_000), new BucketRateLimiter(1, 1, clock));
    assert.deepEqual([combined.when("a"), combined.when("a")], [1, 1_000]);
  });
});

describe("RateLimitingQueue", () => {
  it("retries a failing item later each time, and from the start after forget", async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const start = clock.now();
      queue.addRateLimited("a");
      while (queue.len() === 0) await clock.advance(1);
      readyAfter.push(clock.now() - start);
      await queue.get();
      queue.done("a");
    }
    assert.deepEqual(readyAfter, [5, 10, 20, 40]);
    assert.equal(queue.numRequeues("a"), 4);
    queue.forget("a");
    assert.equal(queue.numRequeues("a"), 0);
  });

  it("reports client-go's workqueue metrics", async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const queue = new RateLimitingQueue({ name: "replicaset", registry, clock });
    queue.add("a");
    queue.add("b");
    await queue.get();
    await clock.advance(250);
    queue.done("a");
    queue.addRateLimited("a");
    const text = await registry.metrics();
    assert.match(text, /workqueue_adds_total\{name="replicaset"\} 2/);
    assert.match(text, /workqueue_depth\{name="replicaset"\} 1/);
    assert.match(text, /workqueue_retries_total\{name="replicaset"\} 1/);
    assert.match(text, /workqueue_work_duration_seconds_sum\{name="replicaset"\} 0.25/);
    assert.match(text, /workqueue_queue_duration_seconds_count\{name="replicaset"\} 1/);
    assert.match(text, /workqueue_unfinished_work_seconds\{name="replicaset"\} 0/);
    await queue.get();
    await clock.advance(2_000);
    assert.match(await registry.metrics(), /workqueue_longest_running_processor_seconds\{name="replicaset"\} 2/);
  });
});

describe("runWorker", () => {
  it("forgets an item that synced and retries one that failed with backoff", async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    const attempts: string[] = [];
    let failuresLeft = 2;
    const errors: string[] = [];
    const worker = runWorker(
      queue,
      async (key) => {
        attempts.push(key);
        if (key === "bad" && failuresLeft-- > 0) throw new Error("conflict");
      },
      { onError: (key, err, requeued) => errors.push(`${key}: ${(err as Error).message}${requeued ? "" : " (dropped)"}`) },
    );
    queue.add("good");
    queue.add("bad");
    await flushPromises();
    assert.deepEqual(attempts, ["good", "bad"]);
    await clock.advance(5);
    await clock.advance(10);
    assert.deepEqual(attempts, ["good", "bad", "bad", "bad"]);
    assert.deepEqual(errors, ["bad: conflict", "bad: conflict"]);
    assert.equal(queue.numRequeues("bad"), 0, "forgotten after it synced");
    queue.shutDown();
    await worker;
  });

  it("drops an item after retriesMax requeues", async () => {
    const clock = new FakeClock();
    const queue = new RateLimitingQueue({ clock });
    const errors: boolean[] = [];
    const worker = runWorker(
      queue,
      async () => {
        throw new Error("always");
      },
      { retriesMax: 2, onError: (_k, _e, requeued) => errors.push(requeued) },
    );
    queue.add("a");
    for (let i = 0; i < 5; i++) await clock.advance(100);
    assert.deepEqual(errors, [true, true, false]);
    queue.shutDown();
    await worker;
  });

  it("never syncs one key in two workers at once", async () => {
    const queue = new RateLimitingQueue({ clock: new FakeClock() });
    const inProgress = new Set<string>();
    let overlaps = 0;
    let syncs = 0;
    const gates: (() => void)[] = [];
    const workers = runWorkers(queue, 4, async (key) => {
      if (inProgress.has(key)) overlaps++;
      inProgress.add(key);
      syncs++;
      await new Promise<void>((resolve) => gates.push(resolve));
      inProgress.delete(key);
    });
    for (let round = 0; round < 5; round++) {
      for (const key of ["a", "b", "a", "a"]) queue.add(key);
      await flushPromises();
      for (const open of gates.splice(0)) open();
      await flushPromises();
    }
    while (gates.length > 0) {
      for (const open of gates.splice(0)) open();
      await flushPromises();
    }
    assert.equal(overlaps, 0);
    assert.ok(syncs >= 10);
    queue.shutDown();
    await workers;
  });
});
