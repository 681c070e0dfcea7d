import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Toleration } from "@coxswain/api";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith, type NodeOptions } from "../../testing/builders.js";
import { NodeReady } from "./node-ready.js";

const plugin = new NodeReady();

describe("NodeReady", () => {
  const cases: { name: string; ready: NodeOptions["ready"]; tolerations?: Toleration[]; reason?: string }[] = [
    { name: "passes a Ready node", ready: "True" },
    { name: "rejects a node whose Ready condition is False", ready: "False", reason: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }" },
    {
      name: "rejects a node whose Ready condition is Unknown as unreachable",
      ready: "Unknown",
      reason: "node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
    },
    {
      name: "rejects a node that never reported a Ready condition",
      ready: "missing",
      reason: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
    },
    {
      name: "passes a not-ready node for a pod tolerating the not-ready NoSchedule taint",
      ready: "False",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoSchedule" }],
    },
    {
      name: "still rejects for the default NoExecute toleration (it only delays eviction)",
      ready: "False",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      reason: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const status = plugin.filter(new CycleState(), PodInfo.of(makePod("p", { tolerations: c.tolerations })), nodeInfoWith(makeNode("n", { ready: c.ready })));
      if (c.reason === undefined) assert.ok(status.isSuccess(), status.toString());
      else {
        assert.equal(status.code, "UnschedulableAndUnresolvable");
        assert.deepEqual(status.reasons, [c.reason]);
      }
    });
  }
});
