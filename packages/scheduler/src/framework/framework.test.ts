import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AssertionFailure } from "@coxswain/raft";
import { defaultProfile, defaultRegistry } from "../plugins/registry.js";
import { makeNode, makePod, nodeInfoWith } from "../testing/builders.js";
import { CycleState } from "./cycle-state.js";
import { Diagnosis, fitErrorMessage } from "./diagnosis.js";
import { Framework } from "./framework.js";
import type { FilterPlugin, ScorePlugin } from "./interfaces.js";
import { ProfileError } from "./profile.js";
import { Registry } from "./registry.js";
import { Status } from "./status.js";
import { PodInfo } from "./types.js";

const handle = { bindPod: async () => {} };

function frameworkWith(...plugins: (FilterPlugin | ScorePlugin)[]): Framework {
  const registry = new Registry();
  for (const p of plugins) registry.register(p.name, () => p);
  return new Framework({ registry, profile: { schedulerName: "test", plugins: plugins.map((p) => p.name) }, handle });
}

describe("framework", () => {
  it("runs the default plugins in the registry's commented order", () => {
    const fw = new Framework({ registry: defaultRegistry(), profile: defaultProfile(), handle });
    assert.deepEqual(fw.describe(), {
      preFilter: ["NodeName", "NodeAffinity", "NodePorts", "NodeResourcesFit"],
      filter: ["NodeUnschedulable", "NodeName", "NodeReady", "TaintToleration", "NodeAffinity", "NodePorts", "NodeResourcesFit"],
      preScore: ["TaintToleration", "NodeAffinity", "NodeResourcesBalancedAllocation"],
      score: ["TaintToleration×3", "NodeAffinity×2", "NodeResourcesLeastAllocated×1", "NodeResourcesBalancedAllocation×1"],
      reserve: [],
      permit: [],
      bind: ["DefaultBinder"],
    });
  });

  it("keeps the registry's order whatever order the profile lists plugins in", () => {
    const fw = new Framework({
      registry: defaultRegistry(),
      profile: defaultProfile({ plugins: ["NodeResourcesFit", "NodeUnschedulable", "DefaultBinder"] }),
      handle,
    });
    assert.deepEqual(fw.describe()["filter"], ["NodeUnschedulable", "NodeResourcesFit"]);
  });

  it("refuses a profile naming an unknown plugin or a bad weight", () => {
    assert.throws(() => new Framework({ registry: defaultRegistry(), profile: defaultProfile({ plugins: ["NoSuchPlugin"] }), handle }), ProfileError);
    assert.throws(
      () => new Framework({ registry: defaultRegistry(), profile: defaultProfile({ scoreWeights: { TaintToleration: 0 } }), handle }),
      ProfileError,
    );
  });

  it("stops filtering a node at the first rejection and names the plugin", () => {
    const calls: string[] = [];
    const reject: FilterPlugin = { name: "Reject", filter: () => (calls.push("Reject"), Status.unschedulable("no")) };
    const after: FilterPlugin = { name: "After", filter: () => (calls.push("After"), Status.success) };
    const fw = frameworkWith(reject, after);
    const state = new CycleState();
    const result = fw.runFilter(fw.activeFilters(state), state, PodInfo.of(makePod("p")), nodeInfoWith(makeNode("n")));
    assert.equal(result.plugin, "Reject");
    assert.deepEqual(result.status.reasons, ["no"]);
    assert.deepEqual(calls, ["Reject"]);
  });

  it("turns a plugin that throws into an Error status, not an unschedulable node", () => {
    const broken: FilterPlugin = {
      name: "Broken",
      filter: () => {
        throw new TypeError("boom");
      },
    };
    const fw = frameworkWith(broken);
    const state = new CycleState();
    const result = fw.runFilter(fw.activeFilters(state), state, PodInfo.of(makePod("p")), nodeInfoWith(makeNode("n")));
    assert.equal(result.status.code, "Error");
    assert.equal(result.status.error?.name, "PluginError");
    assert.match(result.status.message(), /Broken: boom/);
  });

  it("lets an assertion failure through: a programmer error ends the process", () => {
    const asserting: FilterPlugin = {
      name: "Asserting",
      filter: () => {
        throw new AssertionFailure("invariant");
      },
    };
    const fw = frameworkWith(asserting);
    const state = new CycleState();
    assert.throws(() => fw.runFilter(fw.activeFilters(state), state, PodInfo.of(makePod("p")), nodeInfoWith(makeNode("n"))), AssertionFailure);
  });

  it("reports a score outside 0..100 as a plugin error", () => {
    const wild: ScorePlugin = { name: "Wild", score: () => 101 };
    const fw = frameworkWith(wild);
    const result = fw.runScore(new CycleState(), PodInfo.of(makePod("p")), [nodeInfoWith(makeNode("n"))]);
    assert.ok("failure" in result);
    assert.match(result.failure.status.message(), /invalid score 101/);
  });

  it("weights and sums the normalized scores per node", () => {
    const a: ScorePlugin = { name: "A", score: (_s, _p, n) => (n.name === "n1" ? 10 : 20) };
    const b: ScorePlugin = { name: "B", score: (_s, _p, n) => (n.name === "n1" ? 50 : 0) };
    const registry = new Registry().register("A", () => a).register("B", () => b);
    const fw = new Framework({ registry, profile: { schedulerName: "t", plugins: ["A", "B"], scoreWeights: { B: 3 } }, handle });
    const result = fw.runScore(new CycleState(), PodInfo.of(makePod("p")), [nodeInfoWith(makeNode("n1")), nodeInfoWith(makeNode("n2"))]);
    assert.ok("totals" in result);
    assert.deepEqual(result.totals, [10 + 150, 20]);
  });
});

describe("diagnosis message", () => {
  it("counts reasons per node and sorts the entries as strings, as kube-scheduler prints them", () => {
    const d = new Diagnosis();
    d.recordNode("n1", { plugin: "NodeResourcesFit", status: Status.unschedulable("Insufficient cpu") });
    d.recordNode("n2", { plugin: "NodeAffinity", status: Status.unresolvable("node(s) didn't match Pod's node affinity/selector") });
    d.recordNode("n3", { plugin: "NodeAffinity", status: Status.unresolvable("node(s) didn't match Pod's node affinity/selector") });
    assert.equal(fitErrorMessage(3, d), "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.");
  });

  it("counts every reason of a node that has several", () => {
    const d = new Diagnosis();
    d.recordNode("n1", { plugin: "NodeResourcesFit", status: Status.unschedulable("Insufficient cpu", "Insufficient memory") });
    d.recordNode("n2", { plugin: "NodeResourcesFit", status: Status.unschedulable("Insufficient memory") });
    assert.equal(fitErrorMessage(2, d), "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.");
  });

  it("prints a preFilter rejection once instead of per node", () => {
    const d = new Diagnosis();
    d.preFilterMessage = "invalid resource request";
    d.recordNode("n1", { plugin: "NodeResourcesFit", status: Status.unresolvable("invalid resource request") });
    assert.equal(fitErrorMessage(5, d), "0/5 nodes are available: invalid resource request.");
  });

  it("says so when there are no nodes at all", () => {
    assert.equal(fitErrorMessage(0, new Diagnosis()), "no nodes available to schedule pods");
  });
});
