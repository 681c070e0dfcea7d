import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "@coxswain/api";
import { PodInfo } from "../framework/types.js";
import { makeNode, makePod } from "../testing/builders.js";
import { SchedulerCache } from "./cache.js";
import { Snapshot } from "./snapshot.js";

function bound(pod: Pod, nodeName: string): Pod {
  return { ...pod, spec: { containers: [], ...pod.spec, nodeName } };
}

describe("scheduler cache", () => {
  it("aggregates requests, pod count and host ports per node", () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode("n1"));
    cache.addPod(bound(makePod("a", { cpu: "500m", memory: "1Gi", hostPorts: [8080] }), "n1"));
    cache.addPod(bound(makePod("b", { cpu: "250m", memory: "1Gi" }), "n1"));
    const info = cache.nodeInfo("n1");
    assert.deepEqual(info?.requested, { cpuMilli: 750, memoryBytes: 2 * 1024 ** 3, podCount: 2 });
    assert.deepEqual(info?.usedPorts.list(), ["TCP/8080@0.0.0.0"]);
    cache.removePod(makePod("a"));
    assert.deepEqual(cache.nodeInfo("n1")?.requested, { cpuMilli: 250, memoryBytes: 1024 ** 3, podCount: 1 });
    assert.deepEqual(cache.nodeInfo("n1")?.usedPorts.list(), []);
  });

  it("ignores pods that are not bound and drops pods that finished", () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode("n1"));
    cache.addPod(makePod("pending", { cpu: "1" }));
    assert.equal(cache.podCount, 0);
    const running = bound(makePod("job", { cpu: "1" }), "n1");
    cache.addPod(running);
    cache.updatePod(running, { ...running, status: { phase: "Succeeded" } });
    assert.equal(cache.podCount, 0);
    assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 0);
  });

  it("updates a pod's requests in place", () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode("n1"));
    const pod = bound(makePod("a", { cpu: "500m" }), "n1");
    cache.addPod(pod);
    cache.updatePod(pod, bound(makePod("a", { cpu: "200m" }), "n1"));
    assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 200);
  });

  it("keeps accounting for pods that arrive before their node, and offers the node only once it is known", () => {
    const cache = new SchedulerCache();
    cache.addPod(bound(makePod("early", { cpu: "1" }), "late-node"));
    assert.equal(cache.snapshot().numNodes(), 0);
    cache.addNode(makeNode("late-node"));
    const snap = cache.snapshot();
    assert.equal(snap.numNodes(), 1);
    assert.equal(snap.get("late-node")?.requested.cpuMilli, 1000);
  });

  it("stops offering a removed node but keeps its pods until they are deleted", () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode("n1"));
    cache.addNode(makeNode("n2"));
    const pod = bound(makePod("a"), "n1");
    cache.addPod(pod);
    const snapshot = new Snapshot();
    cache.updateSnapshot(snapshot);
    cache.removeNode("n1");
    cache.updateSnapshot(snapshot);
    assert.deepEqual(
      snapshot.list().map((n) => n.name),
      ["n2"],
    );
    assert.equal(snapshot.get("n1"), undefined);
    assert.equal(cache.podCount, 1);
    cache.removePod(pod);
    assert.equal(cache.podCount, 0);
    assert.equal(cache.nodeInfo("n1"), undefined);
  });

  describe("assumed pods", () => {
    it("count against the node at once, before any confirmation", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1", { cpu: "2" }));
      const pod = PodInfo.of(makePod("a", { cpu: "1500m" })).withNodeName("n1");
      cache.assumePod(pod);
      assert.ok(cache.isAssumed(pod.pod));
      assert.equal(cache.snapshot().get("n1")?.requested.cpuMilli, 1500);
    });

    it("are confirmed by the informer's add and then no longer assumed", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1"));
      const pod = PodInfo.of(makePod("a", { cpu: "1" })).withNodeName("n1");
      cache.assumePod(pod);
      cache.finishBinding(pod, 0);
      cache.addPod(pod.pod);
      assert.equal(cache.isAssumed(pod.pod), false);
      assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 1000);
      // Confirmed pods never expire.
      assert.deepEqual(cache.cleanupExpiredAssumedPods(10 ** 12), []);
      assert.equal(cache.podCount, 1);
    });

    it("move to the node the informer reports if someone else bound the pod", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1"));
      cache.addNode(makeNode("n2"));
      const pod = PodInfo.of(makePod("a", { cpu: "1" })).withNodeName("n1");
      cache.assumePod(pod);
      cache.addPod(bound(makePod("a", { cpu: "1" }), "n2"));
      assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 0);
      assert.equal(cache.nodeInfo("n2")?.requested.cpuMilli, 1000);
    });

    it("are forgotten after a failed bind, freeing the node", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1"));
      const pod = PodInfo.of(makePod("a", { cpu: "1" })).withNodeName("n1");
      cache.assumePod(pod);
      assert.equal(cache.forgetPod(pod), true);
      assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 0);
      assert.equal(cache.isAssumed(pod.pod), false);
    });

    it("expire when the binding finished but no confirmation came within the TTL", () => {
      const cache = new SchedulerCache({ assumedPodTtlMs: 30_000 });
      cache.addNode(makeNode("n1"));
      const pod = PodInfo.of(makePod("a", { cpu: "1" })).withNodeName("n1");
      cache.assumePod(pod);
      // Not expired while the bind is still in flight, however long it takes.
      assert.deepEqual(cache.cleanupExpiredAssumedPods(10 ** 9), []);
      cache.finishBinding(pod, 1_000);
      assert.deepEqual(cache.cleanupExpiredAssumedPods(30_999), []);
      assert.deepEqual(
        cache.cleanupExpiredAssumedPods(31_000).map((p) => p.key),
        ["default/a"],
      );
      assert.equal(cache.nodeInfo("n1")?.requested.cpuMilli, 0);
    });
  });

  describe("snapshot", () => {
    it("recopies only the nodes that changed since the last update", () => {
      const cache = new SchedulerCache();
      for (let i = 0; i < 5; i++) cache.addNode(makeNode(`n${i}`));
      const snapshot = new Snapshot();
      cache.updateSnapshot(snapshot);
      const before = new Map(snapshot.list().map((n) => [n.name, n.generation]));
      cache.addPod(bound(makePod("a", { cpu: "1" }), "n3"));
      cache.updateSnapshot(snapshot);
      const changed = snapshot.list().filter((n) => n.generation !== before.get(n.name));
      assert.deepEqual(
        changed.map((n) => n.name),
        ["n3"],
      );
      assert.equal(snapshot.get("n3")?.requested.cpuMilli, 1000);
    });

    it("is not changed by later cache updates until it is updated again", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1"));
      const snapshot = cache.snapshot();
      cache.addPod(bound(makePod("a", { cpu: "1" }), "n1"));
      assert.equal(snapshot.get("n1")?.requested.cpuMilli, 0);
      assert.equal(snapshot.get("n1")?.pods.size, 0);
      cache.updateSnapshot(snapshot);
      assert.equal(snapshot.get("n1")?.requested.cpuMilli, 1000);
    });

    it("keeps its node objects stable so its list stays valid across updates", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("n1"));
      cache.addNode(makeNode("n2"));
      const snapshot = cache.snapshot();
      const list = snapshot.list();
      cache.addPod(bound(makePod("a", { cpu: "1" }), "n2"));
      cache.updateSnapshot(snapshot);
      assert.equal(snapshot.list(), list);
      assert.equal(list[1]?.requested.cpuMilli, 1000);
    });

    it("lists nodes in the order they were added, and adds new ones at the end", () => {
      const cache = new SchedulerCache();
      cache.addNode(makeNode("b"));
      cache.addNode(makeNode("a"));
      const snapshot = cache.snapshot();
      cache.addNode(makeNode("c"));
      cache.updateNode(makeNode("b", { cpu: "8" }));
      cache.updateSnapshot(snapshot);
      assert.deepEqual(
        snapshot.list().map((n) => n.name),
        ["b", "a", "c"],
      );
      assert.equal(snapshot.get("b")?.allocatable.cpuMilli, 8000);
    });
  });
});
