import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith } from "../../testing/builders.js";
import { NodeName, nodeNameReason } from "./node-name.js";

const plugin = new NodeName();

describe("NodeName", () => {
  it("skips pods that name no node", () => {
    assert.ok(plugin.preFilter(new CycleState(), PodInfo.of(makePod("p"))).isSkip());
  });

  it("passes only the named node", () => {
    const pod = PodInfo.of(makePod("p", { nodeName: "n2" }));
    assert.ok(plugin.filter(new CycleState(), pod, nodeInfoWith(makeNode("n2"))).isSuccess());
    const other = plugin.filter(new CycleState(), pod, nodeInfoWith(makeNode("n1")));
    assert.equal(other.code, "UnschedulableAndUnresolvable");
    assert.deepEqual(other.reasons, [nodeNameReason]);
  });
});
