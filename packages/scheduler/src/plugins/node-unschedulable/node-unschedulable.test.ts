import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith } from "../../testing/builders.js";
import { NodeUnschedulable, nodeUnschedulableReason } from "./node-unschedulable.js";

const plugin = new NodeUnschedulable();

describe("NodeUnschedulable", () => {
  const cases = [
    { name: "passes a schedulable node", unschedulable: false, tolerations: undefined, code: "Success" },
    { name: "rejects a cordoned node", unschedulable: true, tolerations: undefined, code: "UnschedulableAndUnresolvable" },
    {
      name: "passes a cordoned node for a pod tolerating the unschedulable taint",
      unschedulable: true,
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists" as const, effect: "NoSchedule" as const }],
      code: "Success",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const status = plugin.filter(
        new CycleState(),
        PodInfo.of(makePod("p", { tolerations: c.tolerations })),
        nodeInfoWith(makeNode("n", { unschedulable: c.unschedulable })),
      );
      assert.equal(status.code, c.code);
      if (!status.isSuccess()) assert.deepEqual(status.reasons, [nodeUnschedulableReason]);
    });
  }
});
