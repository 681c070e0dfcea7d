import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "@coxswain/api";
import { CycleState } from "../../framework/cycle-state.js";
import { PodInfo } from "../../framework/types.js";
import { makePod } from "../../testing/builders.js";
import { DefaultBinder } from "./default-binder.js";

describe("DefaultBinder", () => {
  it("calls the injected bind function with the pod and node", async () => {
    const calls: [string | undefined, string][] = [];
    const binder = new DefaultBinder({ bindPod: async (pod: Pod, node: string) => void calls.push([pod.metadata.name, node]) });
    const status = await binder.bind(new CycleState(), PodInfo.of(makePod("p")), "n1");
    assert.ok(status.isSuccess());
    assert.deepEqual(calls, [["p", "n1"]]);
  });

  it("turns a failed write into an Error status naming the pod and node", async () => {
    const binder = new DefaultBinder({ bindPod: async () => Promise.reject(new Error("conflict")) });
    const status = await binder.bind(new CycleState(), PodInfo.of(makePod("p")), "n1");
    assert.equal(status.code, "Error");
    assert.match(status.message(), /binding default\/p to n1: conflict/);
    assert.equal(status.error?.name, "PluginError");
  });
});
