import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith, type PodOptions } from "../../testing/builders.js";
import { balancedResourceScore, NodeResourcesBalancedAllocation } from "./node-resources-balanced-allocation.js";

const plugin = new NodeResourcesBalancedAllocation();

describe("NodeResourcesBalancedAllocation", () => {
  const cases: { name: string; node: { cpu: string; memory: string }; existing: PodOptions[]; pod: PodOptions; score: number }[] = [
    // cpu 2000/4000 = 0.5, memory 5000/10000 = 0.5: std 0, score 100
    {
      name: "equal fractions score 100",
      node: { cpu: "4", memory: "10000" },
      existing: [{ cpu: "1", memory: "2000" }],
      pod: { cpu: "1", memory: "3000" },
      score: 100,
    },
    // cpu 3000/4000 = 0.75, memory 1000/10000 = 0.1: std |0.75-0.1|/2 = 0.325, score trunc(67.5) = 67
    { name: "unequal fractions score (1 - |a-b|/2) * 100", node: { cpu: "4", memory: "10000" }, existing: [], pod: { cpu: "3", memory: "1000" }, score: 67 },
    // cpu 5000/4000 capped at 1, memory 0.5: std 0.25, score 75
    { name: "caps a fraction at 1", node: { cpu: "4", memory: "10000" }, existing: [], pod: { cpu: "5", memory: "5000" }, score: 75 },
    // existing pods count with their real requests: cpu (1000+1000)/4000 = 0.5, memory (8000+0)/10000 = 0.8: std 0.15, score 85
    {
      name: "counts the node's existing requests",
      node: { cpu: "4", memory: "10000" },
      existing: [{ cpu: "1", memory: "8000" }],
      pod: { cpu: "1" },
      score: 85,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const info = nodeInfoWith(
        makeNode("n", c.node),
        c.existing.map((o, i) => makePod(`e${i}`, o)),
      );
      const pod = PodInfo.of(makePod("p", c.pod));
      const state = new CycleState();
      assert.ok(plugin.preScore(state, pod).isSuccess());
      assert.equal(plugin.score(state, pod, info), c.score);
    });
  }

  it("skips best-effort pods so they do not pile onto one node", () => {
    assert.ok(plugin.preScore(new CycleState(), PodInfo.of(makePod("p"))).isSkip());
  });

  it("ignores a resource the node has none of", () => {
    assert.equal(balancedResourceScore([500, 100], [1000, 0]), 100);
  });

  it("uses the standard deviation for more than two resources", () => {
    // fractions 0.2, 0.5, 0.8: mean 0.5, variance (0.09+0+0.09)/3 = 0.06, std 0.2449, score 75
    assert.equal(balancedResourceScore([2, 5, 8], [10, 10, 10]), 75);
  });
});
