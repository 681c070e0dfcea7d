import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Taint, Toleration } from "@coxswain/api";
import { CycleState } from "../../framework/cycle-state.js";
import type { NodeScore } from "../../framework/interfaces.js";
import { tolerates } from "../../framework/taints.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith } from "../../testing/builders.js";
import { TaintToleration } from "./taint-toleration.js";

const plugin = new TaintToleration();

describe("tolerations", () => {
  const taint: Taint = { key: "dedicated", value: "db", effect: "NoSchedule" };
  const cases: { toleration: Toleration; tolerates: boolean }[] = [
    { toleration: { key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }, tolerates: true },
    { toleration: { key: "dedicated", value: "db" }, tolerates: true },
    { toleration: { key: "dedicated", operator: "Equal", value: "web" }, tolerates: false },
    { toleration: { key: "dedicated", operator: "Exists" }, tolerates: true },
    { toleration: { operator: "Exists" }, tolerates: true },
    { toleration: { key: "dedicated", operator: "Exists", effect: "NoExecute" }, tolerates: false },
    { toleration: { key: "other", operator: "Exists" }, tolerates: false },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.toleration)} ${c.tolerates ? "tolerates" : "does not tolerate"} dedicated=db:NoSchedule`, () => {
      assert.equal(tolerates(c.toleration, taint), c.tolerates);
    });
  }
});

describe("TaintToleration filter", () => {
  const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; code: string; reasons?: string[] }[] = [
    { name: "passes an untainted node", taints: [], code: "Success" },
    {
      name: "rejects an untolerated NoSchedule taint, naming it",
      taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
      code: "UnschedulableAndUnresolvable",
      reasons: ["node(s) had untolerated taint {dedicated: db}"],
    },
    { name: "rejects an untolerated NoExecute taint", taints: [{ key: "evict", effect: "NoExecute" }], code: "UnschedulableAndUnresolvable" },
    { name: "ignores PreferNoSchedule taints", taints: [{ key: "soft", effect: "PreferNoSchedule" }], code: "Success" },
    {
      name: "passes a tolerated taint",
      taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }],
      tolerations: [{ key: "dedicated", operator: "Equal", value: "db", effect: "NoSchedule" }],
      code: "Success",
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const status = plugin.filter(
        new CycleState(),
        PodInfo.of(makePod("p", { tolerations: c.tolerations })),
        nodeInfoWith(makeNode("n", { taints: c.taints })),
      );
      assert.equal(status.code, c.code);
      if (c.reasons) assert.deepEqual(status.reasons, c.reasons);
    });
  }
});

describe("TaintToleration score", () => {
  it("prefers nodes with fewer untolerated PreferNoSchedule taints", () => {
    const pod = PodInfo.of(makePod("p", { tolerations: [{ key: "tolerated", operator: "Exists", effect: "PreferNoSchedule" }] }));
    const nodes = [
      nodeInfoWith(makeNode("clean")),
      nodeInfoWith(makeNode("one", { taints: [{ key: "a", effect: "PreferNoSchedule" }] })),
      nodeInfoWith(
        makeNode("two", {
          taints: [
            { key: "a", effect: "PreferNoSchedule" },
            { key: "b", effect: "PreferNoSchedule" },
          ],
        }),
      ),
      nodeInfoWith(makeNode("tolerated", { taints: [{ key: "tolerated", effect: "PreferNoSchedule" }] })),
    ];
    const state = new CycleState();
    plugin.preScore(state, pod);
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
    assert.deepEqual(
      scores.map((s) => s.score),
      [0, 1, 2, 0],
    );
    plugin.normalizeScore(state, pod, scores);
    assert.deepEqual(
      scores.map((s) => s.score),
      [100, 50, 0, 100],
    );
  });
});
