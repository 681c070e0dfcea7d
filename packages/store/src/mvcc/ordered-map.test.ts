import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom } from "@coxswain/raft";
import { OrderedMap } from "./ordered-map.js";

function collect(map: OrderedMap<number>, start: string, end: string | null): [string, number][] {
  const out: [string, number][] = [];
  map.forEachInRange(start, end, (k, v) => {
    out.push([k, v]);
  });
  return out;
}

test("ordered map returns entries in key order and replaces existing keys", () => {
  const map = new OrderedMap<number>();
  for (const [k, v] of [
    ["b", 2],
    ["a", 1],
    ["c", 3],
    ["a", 10],
  ] as const)
    map.set(k, v);
  assert.equal(map.size, 3);
  assert.deepEqual(collect(map, "", null), [
    ["a", 10],
    ["b", 2],
    ["c", 3],
  ]);
  assert.equal(map.get("a"), 10);
  assert.equal(map.get("zz"), undefined);
});

test("ordered map range scans stop at the exclusive end and can be cut short", () => {
  const map = new OrderedMap<number>();
  for (let i = 0; i < 1000; i++) map.set(`k${String(i).padStart(4, "0")}`, i);
  const slice = collect(map, "k0100", "k0200");
  assert.equal(slice.length, 100);
  assert.equal(slice[0]![0], "k0100");
  assert.equal(slice[99]![0], "k0199");
  let visited = 0;
  map.forEachInRange("k0500", null, () => ++visited < 3);
  assert.equal(visited, 3);
});

test("ordered map matches a sorted-array model under random inserts and deletes", () => {
  const seed = 7;
  const random = new SeededRandom(seed);
  const map = new OrderedMap<number>();
  const model = new Map<string, number>();
  for (let step = 0; step < 20000; step++) {
    const key = `key-${random.intn(3000)}`;
    // Phases that grow then shrink the tree exercise splits, borrows and merges.
    const deleteBias = Math.floor(step / 5000) % 2 === 0 ? 3 : 7;
    if (random.intn(10) < deleteBias) {
      assert.equal(map.delete(key), model.delete(key), `seed ${seed} step ${step}: delete ${key}`);
    } else {
      map.set(key, step);
      model.set(key, step);
    }
    if (step % 997 === 0) map.checkInvariants();
  }
  map.checkInvariants();
  const expected = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(collect(map, "", null), expected);
  const lo = "key-1";
  const hi = "key-5";
  assert.deepEqual(
    collect(map, lo, hi),
    expected.filter(([k]) => k >= lo && k < hi),
  );
  for (const key of [...model.keys()]) map.delete(key);
  assert.equal(map.size, 0);
  assert.equal(map.checkInvariants(), 1);
});
