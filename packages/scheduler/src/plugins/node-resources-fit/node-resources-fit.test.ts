import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { container, makeNode, makePod, nodeInfoWith, type PodOptions } from "../../testing/builders.js";
import { NodeResourcesFit } from "./node-resources-fit.js";

const plugin = new NodeResourcesFit();

describe("NodeResourcesFit", () => {
  const node = makeNode("n1", { cpu: "2", memory: "4Gi", pods: "3" });
  const existing = [makePod("e1", { cpu: "1", memory: "1Gi" }), makePod("e2", { cpu: "500m", memory: "1Gi" })];
  const cases: { name: string; pod: PodOptions; existing?: typeof existing; code: string; reasons: string[] }[] = [
    { name: "fits when requests are within what is left", pod: { cpu: "500m", memory: "2Gi" }, code: "Success", reasons: [] },
    { name: "rejects a cpu request beyond what is left", pod: { cpu: "600m" }, code: "Unschedulable", reasons: ["Insufficient cpu"] },
    { name: "rejects a memory request beyond what is left", pod: { memory: "3Gi" }, code: "Unschedulable", reasons: ["Insufficient memory"] },
    { name: "lists every shortfall", pod: { cpu: "1", memory: "3Gi" }, code: "Unschedulable", reasons: ["Insufficient cpu", "Insufficient memory"] },
    { name: "is unresolvable when the request exceeds the whole node", pod: { cpu: "3" }, code: "UnschedulableAndUnresolvable", reasons: ["Insufficient cpu"] },
    {
      name: "fits a best-effort pod on a full node while pod slots remain",
      pod: {},
      existing: [makePod("e", { cpu: "2", memory: "4Gi" })],
      code: "Success",
      reasons: [],
    },
    {
      name: "rejects any pod once the pod count is reached",
      pod: {},
      existing: [makePod("a"), makePod("b"), makePod("c")],
      code: "Unschedulable",
      reasons: ["Too many pods"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const info = nodeInfoWith(node, c.existing ?? existing);
      const status = plugin.filter(new CycleState(), PodInfo.of(makePod("p", c.pod)), info);
      assert.equal(status.code, c.code);
      assert.deepEqual(status.reasons, c.reasons);
    });
  }

  it("counts the largest init container, not the sum", () => {
    const info = nodeInfoWith(node, existing); // 500m cpu left
    const pod = makePod("p", {
      containers: [container("a", { cpu: "100m" })],
      initContainers: [container("i1", { cpu: "400m" }), container("i2", { cpu: "400m" })],
    });
    assert.equal(plugin.filter(new CycleState(), PodInfo.of(pod), info).code, "Success");
    const tooBig = makePod("p", { containers: [container("a", { cpu: "100m" })], initContainers: [container("i1", { cpu: "600m" })] });
    assert.deepEqual(plugin.filter(new CycleState(), PodInfo.of(tooBig), info).reasons, ["Insufficient cpu"]);
  });

  it("rejects a pod with a malformed request at preFilter", () => {
    const status = plugin.preFilter(new CycleState(), PodInfo.of(makePod("p", { memory: "a lot" })));
    assert.equal(status.code, "UnschedulableAndUnresolvable");
    assert.match(status.message(), /invalid resource request/);
  });
});
