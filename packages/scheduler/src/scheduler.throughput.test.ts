/**
 * A sanity run at size: 5,000 nodes, 10,000 pods through the queue, the full default plugin set,
 * bindings confirmed by a simulated informer. It checks that everything is placed without errors
 * and without overcommitting any node, and prints the in-process rate for the record. It asserts
 * nothing about time (speed is measured in bench/).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import type { Pod } from "@coxswain/api";
import { makeNode, makePod } from "./testing/builders.js";
import { boundCopy, makeHarness } from "./testing/harness.js";
import type { BindingOutcome } from "./scheduler.js";

const nodeCount = 5_000;
const podCount = 10_000;
/** Pods scheduled between two rounds of informer confirmations. */
const confirmEveryPods = 500;

describe("throughput sanity run", () => {
  it(`schedules ${podCount} pods onto ${nodeCount} nodes without errors or overcommit`, async (t) => {
    const confirmations: Pod[] = [];
    const { scheduler, failures } = makeHarness({
      seed: 42,
      bindPod: async (pod, node) => {
        confirmations.push(boundCopy(pod, node));
      },
    });
    for (let i = 0; i < nodeCount; i++) {
      const zone = `zone-${i % 3}`;
      scheduler.onNodeAdd(makeNode(`node-${i}`, { cpu: "4", memory: "16Gi", pods: "110", labels: { "topology.kubernetes.io/zone": zone } }));
    }
    const sizes = ["100m", "250m", "500m", "1"];
    for (let i = 0; i < podCount; i++) {
      scheduler.onPodAdd(
        makePod(`pod-${i}`, {
          cpu: sizes[i % sizes.length],
          memory: `${128 * (1 + (i % 4))}Mi`,
          // A quarter of the pods carry a selector, so NodeAffinity's filter runs too.
          nodeSelector: i % 4 === 0 ? { "topology.kubernetes.io/zone": `zone-${i % 3}` } : undefined,
        }),
      );
    }

    const confirm = (): void => {
      for (const pod of confirmations.splice(0)) scheduler.onPodUpdate({ ...pod, spec: { containers: [], ...pod.spec, nodeName: undefined } }, pod);
    };
    const start = performance.now();
    let bindings: Promise<BindingOutcome>[] = [];
    let scheduled = 0;
    for (;;) {
      const attempt = scheduler.scheduleNext();
      if (attempt === undefined) break;
      assert.equal(attempt.kind, "assumed", attempt.kind === "assumed" ? "" : JSON.stringify(attempt.kind));
      if (attempt.kind === "assumed") bindings.push(attempt.binding);
      scheduled++;
      if (scheduled % confirmEveryPods === 0) {
        const outcomes = await Promise.all(bindings);
        assert.ok(outcomes.every((o) => o.kind === "bound"));
        bindings = [];
        confirm();
      }
    }
    const outcomes = await Promise.all(bindings);
    assert.ok(outcomes.every((o) => o.kind === "bound"));
    confirm();
    const elapsedMs = performance.now() - start;

    assert.equal(scheduled, podCount);
    assert.deepEqual(failures, []);
    assert.equal(scheduler.cache.podCount, podCount);
    assert.equal(scheduler.cache.assumedPodCount, 0);
    for (let i = 0; i < nodeCount; i++) {
      const info = scheduler.cache.nodeInfo(`node-${i}`);
      assert.ok(info !== undefined);
      assert.ok(info.requested.cpuMilli <= info.allocatable.cpuMilli, `node-${i} cpu`);
      assert.ok(info.requested.memoryBytes <= info.allocatable.memoryBytes, `node-${i} memory`);
      assert.ok(info.requested.podCount <= info.allocatable.podCount, `node-${i} pods`);
    }
    const rate = Math.round((podCount / elapsedMs) * 1000);
    t.diagnostic(`scheduled ${podCount} pods on ${nodeCount} nodes in ${Math.round(elapsedMs)} ms: ${rate} pods/s in-process`);
  });
});
