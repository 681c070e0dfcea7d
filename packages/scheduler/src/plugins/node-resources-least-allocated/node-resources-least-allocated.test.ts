import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith, type PodOptions } from "../../testing/builders.js";
import { NodeResourcesLeastAllocated, leastRequestedScore } from "./node-resources-least-allocated.js";

const plugin = new NodeResourcesLeastAllocated();

describe("NodeResourcesLeastAllocated", () => {
  const cases: { name: string; node: { cpu: string; memory: string }; existing: PodOptions[]; pod: PodOptions; score: number }[] = [
    // cpu (4000-2000)*100/4000 = 50; memory (10000-5000)*100/10000 = 50; (50+50)/2 = 50
    {
      name: "half used on both resources scores 50",
      node: { cpu: "4", memory: "10000" },
      existing: [{ cpu: "1", memory: "2000" }],
      pod: { cpu: "1", memory: "3000" },
      score: 50,
    },
    // cpu 2000*100/3000 = 66 (truncated); memory 6000*100/7000 = 85; (66+85)/2 = 75
    { name: "truncates each resource score and the average", node: { cpu: "3", memory: "7000" }, existing: [], pod: { cpu: "1", memory: "1000" }, score: 75 },
    // the empty node: cpu 100m of 1000m -> 90; memory 200Mi of 1000Mi -> 80; (90+80)/2 = 85
    { name: "counts a best-effort pod as 100m cpu and 200Mi memory", node: { cpu: "1", memory: "1000Mi" }, existing: [], pod: {}, score: 85 },
    // cpu over capacity scores 0; memory 0 used of 10000 with 0 requested -> 100; (0+100)/2 = 50
    { name: "gives 0 for a resource requested beyond capacity", node: { cpu: "1", memory: "10000" }, existing: [], pod: { cpu: "2", memory: "0" }, score: 50 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const info = nodeInfoWith(
        makeNode("n", c.node),
        c.existing.map((o, i) => makePod(`e${i}`, o)),
      );
      assert.equal(plugin.score(new CycleState(), PodInfo.of(makePod("p", c.pod)), info), c.score);
    });
  }

  it("scores an empty resource as 0", () => {
    assert.equal(leastRequestedScore(0, 0), 0);
    assert.equal(leastRequestedScore(0, 1000), 100);
  });
});
