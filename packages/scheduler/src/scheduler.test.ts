import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "@coxswain/api";
import { Status } from "./framework/status.js";
import type { PermitPlugin, ReservePlugin } from "./framework/interfaces.js";
import { defaultRegistry } from "./plugins/registry.js";
import { makeNode, makePod } from "./testing/builders.js";
import { boundCopy, makeHarness } from "./testing/harness.js";
import { numFeasibleNodesToFind, type ScheduleAttempt } from "./scheduler.js";

function expectAssumed(attempt: ScheduleAttempt | undefined): Extract<ScheduleAttempt, { kind: "assumed" }> {
  assert.ok(attempt !== undefined, "an attempt was made");
  if (attempt.kind !== "assumed") assert.fail(`expected assumed, got ${attempt.kind}: ${"failure" in attempt ? attempt.failure.message : ""}`);
  return attempt;
}

function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${String(i).padStart(3, "0")}`);
}

describe("scheduleOne", () => {
  it("explains an unschedulable pod the way kube-scheduler does, with per-node reasons", () => {
    const { scheduler, failures } = makeHarness({
      nodes: [makeNode("n1", { cpu: "1", labels: { disk: "ssd" } }), makeNode("n2", { cpu: "8" }), makeNode("n3", { cpu: "8" })],
    });
    const attempt = scheduler.scheduleOne(makePod("web", { cpu: "2", nodeSelector: { disk: "ssd" } }));
    assert.equal(attempt.kind, "unschedulable");
    const message = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.";
    assert.equal(failures.length, 1);
    const failure = failures[0]!;
    assert.equal(failure.message, message);
    assert.deepEqual(failure.condition, {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message,
      lastProbeTime: null,
      lastTransitionTime: "2023-11-14T22:13:20Z",
    });
    assert.deepEqual(failure.event, { type: "Warning", reason: "FailedScheduling", action: "Scheduling", message });
    assert.deepEqual(failure.nodeReasons, [
      { node: "n1", plugin: "NodeResourcesFit", reasons: ["Insufficient cpu"] },
      { node: "n2", plugin: "NodeAffinity", reasons: ["node(s) didn't match Pod's node affinity/selector"] },
      { node: "n3", plugin: "NodeAffinity", reasons: ["node(s) didn't match Pod's node affinity/selector"] },
    ]);
    assert.equal(failure.error.name, "FitError");
  });

  it("reports a cluster without nodes", () => {
    const { scheduler, failures } = makeHarness();
    assert.equal(scheduler.scheduleOne(makePod("p")).kind, "unschedulable");
    assert.equal(failures[0]?.message, "no nodes available to schedule pods");
  });

  it("excludes cordoned, not-ready and tainted nodes, each with its own reason", () => {
    const { scheduler, failures } = makeHarness({
      nodes: [
        makeNode("cordoned", { unschedulable: true }),
        makeNode("down", { ready: "False" }),
        makeNode("tainted", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }),
      ],
    });
    scheduler.scheduleOne(makePod("p"));
    assert.equal(
      failures[0]?.message,
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable.",
    );
  });

  it("spreads identical pods evenly across identical nodes", () => {
    const { scheduler } = makeHarness({ nodes: [makeNode("a"), makeNode("b"), makeNode("c")] });
    const perNode = new Map<string, number>();
    for (let i = 0; i < 9; i++) {
      const attempt = expectAssumed(scheduler.scheduleOne(makePod(`p${i}`, { cpu: "200m", memory: "256Mi" })));
      perNode.set(attempt.nodeName, (perNode.get(attempt.nodeName) ?? 0) + 1);
    }
    assert.deepEqual([...perNode.values()], [3, 3, 3]);
  });

  it("prefers the node matching preferred affinity and avoids PreferNoSchedule taints", () => {
    const { scheduler } = makeHarness({
      nodes: [
        makeNode("plain"),
        makeNode("preferred", { labels: { zone: "a" } }),
        makeNode("soft-tainted", { labels: { zone: "a" }, taints: [{ key: "spot", effect: "PreferNoSchedule" }] }),
      ],
    });
    const pod = makePod("p", {
      cpu: "100m",
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } }],
        },
      },
    });
    assert.equal(expectAssumed(scheduler.scheduleOne(pod)).nodeName, "preferred");
  });

  it("places the same pods on the same nodes given the same seed", () => {
    const run = (seed: number): string[] => {
      const { scheduler } = makeHarness({ seed, nodes: nodeNames(12).map((n) => makeNode(n)) });
      return Array.from({ length: 40 }, (_, i) => expectAssumed(scheduler.scheduleOne(makePod(`p${i}`))).nodeName);
    };
    assert.deepEqual(run(7), run(7));
    // Ties are broken by the random source, so other seeds choose differently among equals.
    assert.ok([8, 9, 10].some((seed) => run(seed).join() !== run(7).join()));
  });

  it("never overcommits a node while bindings are still in flight", async () => {
    const pending: (() => void)[] = [];
    const { scheduler, failures } = makeHarness({
      nodes: [makeNode("a", { cpu: "2" }), makeNode("b", { cpu: "2" })],
      bindPod: () => new Promise<void>((resolve) => pending.push(resolve)),
    });
    const attempts = Array.from({ length: 5 }, (_, i) => scheduler.scheduleOne(makePod(`p${i}`, { cpu: "1" })));
    assert.deepEqual(
      attempts.map((a) => a.kind),
      ["assumed", "assumed", "assumed", "assumed", "unschedulable"],
    );
    assert.equal(failures[0]?.message, "0/2 nodes are available: 2 Insufficient cpu.");
    assert.equal(scheduler.bindingsInFlight, 4);
    for (const resolve of pending) resolve();
    const outcomes = await Promise.all(attempts.flatMap((a) => (a.kind === "assumed" ? [a.binding] : [])));
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["bound", "bound", "bound", "bound"],
    );
    assert.equal(scheduler.bindingsInFlight, 0);
    assert.equal(scheduler.cache.assumedPodCount, 4);
  });

  it("forgets the assumed pod, frees the node and backs the pod off when binding fails", async () => {
    const { scheduler, failures } = makeHarness({
      nodes: [makeNode("a", { cpu: "1" })],
      bindPod: async () => Promise.reject(new Error("the pod was deleted")),
    });
    scheduler.onPodAdd(makePod("p", { cpu: "1" }));
    const attempt = expectAssumed(scheduler.scheduleNext());
    const outcome = await attempt.binding;
    assert.equal(outcome.kind, "failed");
    assert.equal(scheduler.cache.podCount, 0);
    assert.equal(scheduler.cache.nodeInfo("a")?.requested.cpuMilli, 0);
    assert.equal(scheduler.queue.whereIs("default/p"), "backoff");
    assert.equal(failures[0]?.reason, "SchedulerError");
    assert.match(failures[0]?.message ?? "", /binding default\/p to a: the pod was deleted/);
  });

  it("confirms an assumed pod when the informer reports it bound", async () => {
    const { scheduler } = makeHarness({ nodes: [makeNode("a")] });
    const pod = makePod("p", { cpu: "1" });
    scheduler.onPodAdd(pod);
    const attempt = expectAssumed(scheduler.scheduleNext());
    await attempt.binding;
    assert.ok(scheduler.cache.isAssumed(pod));
    scheduler.onPodUpdate(pod, boundCopy(pod, attempt.nodeName));
    assert.equal(scheduler.cache.isAssumed(pod), false);
    assert.equal(scheduler.cache.nodeInfo("a")?.requested.cpuMilli, 1000);
    assert.deepEqual(scheduler.queue.counts(), { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });

  it("retries an unschedulable pod when a node that can take it is added", () => {
    const { scheduler, clock } = makeHarness({ nodes: [makeNode("small", { cpu: "2" })] });
    scheduler.onPodAdd(makePod("big", { cpu: "6" }));
    assert.equal(scheduler.scheduleNext()?.kind, "unschedulable");
    assert.equal(scheduler.queue.whereIs("default/big"), "unschedulable");
    assert.equal(scheduler.scheduleNext(), undefined);
    scheduler.onNodeAdd(makeNode("large", { cpu: "8" }));
    clock.nowMs += 1_000; // the first backoff
    assert.equal(expectAssumed(scheduler.scheduleNext()).nodeName, "large");
  });

  it("does not requeue on a node heartbeat that changes nothing the filters read", () => {
    const { scheduler } = makeHarness({ nodes: [makeNode("small", { cpu: "2" })] });
    scheduler.onPodAdd(makePod("big", { cpu: "6" }));
    scheduler.scheduleNext();
    const before = makeNode("small", { cpu: "2" });
    const after: typeof before = {
      ...before,
      status: { ...before.status, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2024-01-01T00:00:00Z" }] },
    };
    scheduler.onNodeUpdate(before, after);
    assert.equal(scheduler.queue.whereIs("default/big"), "unschedulable");
  });

  it("skips pods for another scheduler, pods being deleted and pods already bound", () => {
    const { scheduler } = makeHarness({ nodes: [makeNode("a")] });
    assert.equal(scheduler.scheduleOne(makePod("other", { schedulerName: "gpu-scheduler" })).kind, "skipped");
    const deleting: Pod = { ...makePod("going"), metadata: { ...makePod("going").metadata, deletionTimestamp: "2024-01-01T00:00:00Z" } };
    assert.equal(scheduler.scheduleOne(deleting).kind, "skipped");
    assert.equal(scheduler.scheduleOne(makePod("bound", { nodeName: "a" })).kind, "skipped");
  });

  it("rejects at permit, undoing the reservation and the assumption", () => {
    const events: string[] = [];
    const gate: PermitPlugin & ReservePlugin = {
      name: "Gate",
      reserve: (_s, pod, node) => (events.push(`reserve ${pod.key} ${node}`), Status.success),
      unreserve: (_s, pod, node) => void events.push(`unreserve ${pod.key} ${node}`),
      permit: () => Status.unschedulable("gate closed"),
    };
    const registry = defaultRegistry().register("Gate", () => gate);
    const { scheduler, failures } = makeHarness({ registry, profile: { plugins: [...defaultRegistry().names(), "Gate"] }, nodes: [makeNode("a")] });
    assert.equal(scheduler.scheduleOne(makePod("p", { cpu: "1" })).kind, "unschedulable");
    assert.deepEqual(events, ["reserve default/p a", "unreserve default/p a"]);
    assert.equal(scheduler.cache.podCount, 0);
    assert.equal(failures[0]?.message, "0/1 nodes are available: gate closed.");
  });
});

describe("sampling nodes for scoring", () => {
  const cases: [number | undefined, number, number][] = [
    [undefined, 50, 50], // below 100 nodes: all of them
    [undefined, 99, 99],
    [undefined, 100, 100], // 50% of 100 is 50, but never fewer than 100
    [undefined, 1_000, 420], // 50 - 1000/125 = 42%
    [undefined, 5_000, 500], // 50 - 40 = 10%
    [undefined, 10_000, 500], // 50 - 80 < 5: 5%
    [10, 500, 100], // the floor again
    [30, 1_000, 300],
    [100, 5_000, 5_000],
  ];
  for (const [percentage, nodes, expected] of cases) {
    it(`finds ${expected} feasible nodes of ${nodes} at ${percentage ?? "the adaptive"} percent`, () => {
      assert.equal(numFeasibleNodesToFind(percentage, nodes), expected);
    });
  }

  it("stops filtering once enough feasible nodes are found, and starts the next search where the last stopped", () => {
    const names = nodeNames(300);
    const { scheduler } = makeHarness({ nodes: names.map((n) => makeNode(n)), profile: { percentageOfNodesToScore: 10 } });
    const first = expectAssumed(scheduler.scheduleOne(makePod("p1", { cpu: "100m" })));
    const second = expectAssumed(scheduler.scheduleOne(makePod("p2", { cpu: "100m" })));
    const third = expectAssumed(scheduler.scheduleOne(makePod("p3", { cpu: "100m" })));
    assert.deepEqual([first.evaluatedNodes, first.feasibleNodes], [100, 100]);
    // Each search looked at the next 100 nodes in the list.
    assert.ok(names.indexOf(first.nodeName) < 100, first.nodeName);
    assert.ok(names.indexOf(second.nodeName) >= 100 && names.indexOf(second.nodeName) < 200, second.nodeName);
    assert.ok(names.indexOf(third.nodeName) >= 200, third.nodeName);
  });
});
