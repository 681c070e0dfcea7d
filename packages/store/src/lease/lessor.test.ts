import { test } from "node:test";
import assert from "node:assert/strict";
import { LeaseExistsError, LeaseNotFoundError, LeaseNotPrimaryError, LeaseTtlTooLargeError } from "../errors.js";
import { EXPIRED_LEASE_RETRY_MS, LEASE_TTL_SECONDS_MAX, Lessor } from "./lessor.js";

function fakeClock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test("grant raises short TTLs to the minimum and refuses duplicates and huge TTLs", () => {
  const lessor = new Lessor({ minTtlSeconds: 5, now: () => 0 });
  assert.equal(lessor.grant(1, 2).ttlSeconds, 5);
  assert.equal(lessor.grant(2, 60).ttlSeconds, 60);
  assert.throws(() => lessor.grant(1, 60), LeaseExistsError);
  assert.throws(() => lessor.grant(3, LEASE_TTL_SECONDS_MAX + 1), LeaseTtlTooLargeError);
  assert.deepEqual(lessor.ids(), [1, 2]);
});

test("generated lease ids are deterministic, distinct, non-zero and below 2^53", () => {
  const a = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  const b = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const id = a.generateId();
    assert.equal(b.generateId(), id, "every member generates the same sequence");
    assert.ok(id > 0 && id < 2 ** 53 && Number.isSafeInteger(id));
    assert.ok(!seen.has(id));
    seen.add(id);
    a.grant(id, 10);
  }
});

test("a generated id skips ids that clients chose for live leases", () => {
  const probe = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  const firstGenerated = probe.generateId();
  const lessor = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  lessor.grant(firstGenerated, 10);
  assert.notEqual(lessor.generateId(), firstGenerated);
});

test("a follower's leases never expire; the leader finds expired ones and reports them again later", () => {
  const clock = fakeClock();
  const lessor = new Lessor({ minTtlSeconds: 1, now: clock.now });
  lessor.grant(1, 10);
  lessor.grant(2, 20);
  clock.advance(60_000);
  assert.deepEqual(lessor.findExpired(100), [], "not primary: no deadlines");
  lessor.promote(0);
  clock.advance(10_001);
  assert.deepEqual(lessor.findExpired(100), [1]);
  assert.deepEqual(lessor.findExpired(100), [], "reported once until the retry interval passes");
  clock.advance(EXPIRED_LEASE_RETRY_MS);
  assert.deepEqual(lessor.findExpired(100), [1], "still there: its revocation did not land, report again");
  clock.advance(10_000);
  assert.deepEqual(lessor.findExpired(100).sort(), [1, 2]);
});

test("findExpired reports at most the given number of leases per call", () => {
  const clock = fakeClock();
  const lessor = new Lessor({ minTtlSeconds: 1, now: clock.now });
  lessor.promote(0);
  for (let id = 1; id <= 10; id++) lessor.grant(id, 1);
  clock.advance(2_000);
  assert.equal(lessor.findExpired(4).length, 4);
  assert.equal(lessor.findExpired(4).length, 4);
  assert.equal(lessor.findExpired(4).length, 2);
});

test("a keep-alive moves the deadline by the granted TTL", () => {
  const clock = fakeClock();
  const lessor = new Lessor({ minTtlSeconds: 1, now: clock.now });
  lessor.promote(0);
  lessor.grant(1, 10);
  clock.advance(9_000);
  assert.equal(lessor.renew(1).ttlSeconds, 10);
  clock.advance(9_000);
  assert.deepEqual(lessor.findExpired(10), []);
  assert.equal(lessor.timeToLive(1).ttlSeconds, 1);
  clock.advance(1_001);
  assert.throws(() => lessor.renew(1), LeaseNotFoundError, "expired and waiting for revocation");
  assert.throws(() => lessor.renew(99), LeaseNotFoundError);
  lessor.demote();
  assert.throws(() => lessor.renew(1), LeaseNotPrimaryError);
});

test("a new leader gives every lease a fresh TTL plus the election time", () => {
  const clock = fakeClock();
  const old = new Lessor({ minTtlSeconds: 1, now: clock.now });
  old.grant(1, 10);
  clock.advance(9_000); // nearly expired under the old leader
  old.promote(1_000);
  clock.advance(10_500);
  assert.deepEqual(old.findExpired(10), [], "10 s TTL + 1 s extension from promotion");
  clock.advance(600);
  assert.deepEqual(old.findExpired(10), [1]);
});

test("promotion uses a checkpointed remaining TTL instead of the full one", () => {
  const clock = fakeClock();
  const lessor = new Lessor({ minTtlSeconds: 1, now: clock.now });
  lessor.grant(1, 100);
  lessor.checkpoint(1, 5);
  lessor.promote(0);
  assert.equal(lessor.timeToLive(1).ttlSeconds, 5);
  assert.equal(lessor.timeToLive(1).grantedTtlSeconds, 100);
  assert.equal(lessor.renew(1).clearCheckpoint, true, "renewing asks the leader to clear the checkpoint");
});

test("time-to-live lists attached keys in key order", () => {
  const lessor = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  lessor.grant(1, 30);
  lessor.attach(1, "b");
  lessor.attach(1, "a");
  lessor.attach(1, "c");
  lessor.detach(1, "c");
  assert.deepEqual(lessor.timeToLive(1).keys, ["a", "b"]);
  assert.deepEqual(lessor.keysOf(1), ["a", "b"]);
  assert.throws(() => lessor.timeToLive(2), LeaseNotFoundError);
});

test("snapshot records round-trip leases and the id generator", () => {
  const lessor = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  lessor.grant(lessor.generateId(), 30);
  lessor.grant(7, 40);
  lessor.checkpoint(7, 12);
  const restored = new Lessor({ minTtlSeconds: 1, now: () => 0 });
  restored.restore(lessor.snapshotRecords(), lessor.idGeneratorSequence);
  assert.deepEqual(restored.snapshotRecords(), lessor.snapshotRecords());
  assert.equal(restored.generateId(), lessor.generateId());
});
