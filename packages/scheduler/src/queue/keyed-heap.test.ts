import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom } from "@coxswain/raft";
import { KeyedHeap } from "./keyed-heap.js";

interface Item {
  key: string;
  value: number;
}

describe("keyed heap", () => {
  it("pops in order after random pushes, replacements and removals (seed 1..20)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = new SeededRandom(seed);
      const heap = new KeyedHeap<Item>(
        (i) => i.key,
        (a, b) => a.value < b.value,
      );
      const model = new Map<string, number>();
      for (let step = 0; step < 300; step++) {
        const key = `k${random.intn(60)}`;
        if (random.intn(4) === 0) {
          heap.remove(key);
          model.delete(key);
        } else {
          const value = random.intn(1000);
          heap.push({ key, value });
          model.set(key, value);
        }
      }
      assert.equal(heap.size, model.size, `seed ${seed}`);
      const popped: number[] = [];
      for (let item = heap.pop(); item !== undefined; item = heap.pop()) {
        assert.equal(item.value, model.get(item.key), `seed ${seed}: the latest value of ${item.key}`);
        popped.push(item.value);
      }
      assert.deepEqual(
        popped,
        [...model.values()].sort((a, b) => a - b),
        `seed ${seed}`,
      );
    }
  });
});
