import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NodeSelectorRequirement } from "@coxswain/api";
import { CycleState } from "../../framework/cycle-state.js";
import type { NodeScore } from "../../framework/interfaces.js";
import { PodInfo } from "../../framework/types.js";
import { makeNode, makePod, nodeInfoWith } from "../../testing/builders.js";
import { NodeAffinity, nodeAffinityReason, requirementMatches } from "./node-affinity.js";

const plugin = new NodeAffinity();

function runFilter(podOptions: Parameters<typeof makePod>[1], nodeLabels: Record<string, string>, nodeName = "n1"): string {
  const state = new CycleState();
  const pod = PodInfo.of(makePod("p", podOptions));
  const pre = plugin.preFilter(state, pod);
  if (pre.isSkip()) return "Skip";
  return plugin.filter(state, pod, nodeInfoWith(makeNode(nodeName, { labels: nodeLabels }))).code;
}

describe("NodeAffinity operators", () => {
  const labels = { zone: "a", gen: "5", disk: "ssd" };
  const cases: { requirement: NodeSelectorRequirement; matches: boolean }[] = [
    { requirement: { key: "zone", operator: "In", values: ["a", "b"] }, matches: true },
    { requirement: { key: "zone", operator: "In", values: ["b"] }, matches: false },
    { requirement: { key: "missing", operator: "In", values: ["a"] }, matches: false },
    { requirement: { key: "zone", operator: "NotIn", values: ["b"] }, matches: true },
    { requirement: { key: "zone", operator: "NotIn", values: ["a"] }, matches: false },
    { requirement: { key: "missing", operator: "NotIn", values: ["a"] }, matches: true },
    { requirement: { key: "disk", operator: "Exists" }, matches: true },
    { requirement: { key: "missing", operator: "Exists" }, matches: false },
    { requirement: { key: "missing", operator: "DoesNotExist" }, matches: true },
    { requirement: { key: "disk", operator: "DoesNotExist" }, matches: false },
    { requirement: { key: "gen", operator: "Gt", values: ["4"] }, matches: true },
    { requirement: { key: "gen", operator: "Gt", values: ["5"] }, matches: false },
    { requirement: { key: "gen", operator: "Lt", values: ["6"] }, matches: true },
    { requirement: { key: "gen", operator: "Lt", values: ["5"] }, matches: false },
    { requirement: { key: "zone", operator: "Gt", values: ["1"] }, matches: false },
    { requirement: { key: "missing", operator: "Lt", values: ["9"] }, matches: false },
    { requirement: { key: "gen", operator: "Gt", values: ["four"] }, matches: false },
    { requirement: { key: "gen", operator: "Gt", values: ["1", "2"] }, matches: false },
  ];
  for (const c of cases) {
    it(`${c.requirement.key} ${c.requirement.operator} ${JSON.stringify(c.requirement.values ?? [])} ${c.matches ? "matches" : "does not match"}`, () => {
      assert.equal(requirementMatches(c.requirement, labels), c.matches);
    });
  }
});

describe("NodeAffinity filter", () => {
  it("skips pods without a selector or required affinity", () => {
    assert.equal(runFilter({}, {}), "Skip");
  });

  it("requires every nodeSelector label", () => {
    assert.equal(runFilter({ nodeSelector: { disk: "ssd", zone: "a" } }, { disk: "ssd", zone: "a" }), "Success");
    assert.equal(runFilter({ nodeSelector: { disk: "ssd", zone: "a" } }, { disk: "ssd" }), "UnschedulableAndUnresolvable");
  });

  it("ORs the required terms and ANDs the requirements inside one", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "zone", operator: "In" as const, values: ["a"] },
                { key: "disk", operator: "Exists" as const },
              ],
            },
            { matchExpressions: [{ key: "zone", operator: "In" as const, values: ["b"] }] },
          ],
        },
      },
    };
    assert.equal(runFilter({ affinity }, { zone: "a", disk: "hdd" }), "Success");
    assert.equal(runFilter({ affinity }, { zone: "a" }), "UnschedulableAndUnresolvable");
    assert.equal(runFilter({ affinity }, { zone: "b" }), "Success");
  });

  it("needs both the nodeSelector and the required affinity", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "Exists" as const }] }] },
      },
    };
    assert.equal(runFilter({ affinity, nodeSelector: { disk: "ssd" } }, { zone: "a" }), "UnschedulableAndUnresolvable");
    assert.equal(runFilter({ affinity, nodeSelector: { disk: "ssd" } }, { zone: "a", disk: "ssd" }), "Success");
  });

  it("matches nothing with an empty term", () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } };
    assert.equal(runFilter({ affinity }, { zone: "a" }), "UnschedulableAndUnresolvable");
  });

  it("selects on metadata.name through matchFields", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["n2"] }] }],
        },
      },
    };
    assert.equal(runFilter({ affinity }, {}, "n2"), "Success");
    assert.equal(runFilter({ affinity }, {}, "n1"), "UnschedulableAndUnresolvable");
  });

  it("gives kube-scheduler's reason", () => {
    const state = new CycleState();
    const pod = PodInfo.of(makePod("p", { nodeSelector: { zone: "x" } }));
    plugin.preFilter(state, pod);
    assert.deepEqual(plugin.filter(state, pod, nodeInfoWith(makeNode("n1"))).reasons, [nodeAffinityReason]);
  });
});

describe("NodeAffinity score", () => {
  it("sums the weights of matching preferred terms and scales the best to 100", () => {
    const pod = PodInfo.of(
      makePod("p", {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 2, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
              { weight: 6, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
            ],
          },
        },
      }),
    );
    const nodes = [
      nodeInfoWith(makeNode("both", { labels: { zone: "a", disk: "ssd" } })),
      nodeInfoWith(makeNode("ssd", { labels: { disk: "ssd" } })),
      nodeInfoWith(makeNode("zone", { labels: { zone: "a" } })),
      nodeInfoWith(makeNode("none")),
    ];
    const state = new CycleState();
    assert.ok(plugin.preScore(state, pod).isSuccess());
    const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: plugin.score(state, pod, n) }));
    assert.deepEqual(
      scores.map((s) => s.score),
      [8, 6, 2, 0],
    );
    plugin.normalizeScore(state, pod, scores);
    // 100*6/8 = 75, 100*2/8 = 25.
    assert.deepEqual(
      scores.map((s) => s.score),
      [100, 75, 25, 0],
    );
  });

  it("skips scoring for pods without preferred terms", () => {
    assert.ok(plugin.preScore(new CycleState(), PodInfo.of(makePod("p"))).isSkip());
  });
});
