import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError, type ConfigMap, type KubeObject, type Pod, type ReplicaSet, type Status } from "@coxswain/api";
import type { ResourceRef, Watch, WatchEvent } from "../client.js";
import { FakeClock, flushPromises } from "../clock/fake-clock.js";
import { FakeApi } from "./fake-api.js";

const cms: ResourceRef = { group: "", version: "v1", resource: "configmaps", namespace: "default" };
const pods: ResourceRef = { group: "", version: "v1", resource: "pods", namespace: "default" };
const replicaSets: ResourceRef = { group: "apps", version: "v1", resource: "replicasets", namespace: "default" };

function configMap(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data };
}

function pod(name: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: { containers: [{ name: "app", image: "busybox" }] },
  };
}

async function rejection(promise: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiStatusError, `expected an ApiStatusError, got ${String(err)}`);
    return { code: err.code, reason: err.reason, message: err.message };
  }
  assert.fail("expected the call to fail");
}

/** One reader per watch, whose unanswered next() carries over from one drain to the next. */
const readers = new WeakMap<
  Watch<KubeObject>,
  { iterator: AsyncIterator<WatchEvent<KubeObject>>; pending: Promise<IteratorResult<WatchEvent<KubeObject>>> | null }
>();

/** Reads what a watch has delivered so far, as "TYPE name@rv" lines. */
async function drain(watch: Watch<KubeObject>): Promise<string[]> {
  const lines: string[] = [];
  let reader = readers.get(watch);
  if (reader === undefined) {
    reader = { iterator: watch[Symbol.asyncIterator](), pending: null };
    readers.set(watch, reader);
  }
  for (;;) {
    reader.pending ??= reader.iterator.next();
    const next = await Promise.race([reader.pending, flushPromises().then(() => "idle" as const)]);
    if (next === "idle") break;
    reader.pending = null;
    if (next.done === true) break;
    const e: WatchEvent<KubeObject> = next.value;
    lines.push(
      e.type === "ERROR"
        ? `ERROR ${(e.object as unknown as Status).code}`
        : `${e.type} ${e.object.metadata.name ?? ""}@${e.object.metadata.resourceVersion ?? ""}`,
    );
  }
  return lines;
}

describe("FakeApi", () => {
  it("gives every change the next resourceVersion and refuses a stale one with 409", async () => {
    const api = new FakeApi();
    const created = await api.create(cms, configMap("a"));
    assert.equal(created.metadata.resourceVersion, "1");
    assert.ok(created.metadata.uid);
    const updated = await api.update({ ...cms, name: "a" }, { ...created, data: { k: "v" } });
    assert.equal(updated.metadata.resourceVersion, "2");
    assert.deepEqual(await rejection(api.update({ ...cms, name: "a" }, { ...created, data: { k: "w" } })), {
      code: 409,
      reason: "Conflict",
      message: 'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    });
    assert.equal((await rejection(api.create(cms, configMap("a")))).reason, "AlreadyExists");
    assert.equal((await rejection(api.get({ ...cms, name: "zzz" }))).code, 404);
  });

  it("does not store a write that changes nothing", async () => {
    const api = new FakeApi();
    const created = await api.create(cms, configMap("a", { k: "v" }));
    const again = await api.update({ ...cms, name: "a" }, created);
    assert.equal(again.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(api.resourceVersion, "1");
  });

  it("applies the registry's strategy: status only through the status subresource, generation on spec changes", async () => {
    const api = new FakeApi();
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "busybox" }] } },
      },
    };
    const created = await api.create(replicaSets, rs);
    assert.equal(created.metadata.generation, 1);
    const scaled = await api.update({ ...replicaSets, name: "web" }, { ...created, spec: { ...created.spec!, replicas: 3 }, status: { replicas: 99 } });
    assert.equal(scaled.metadata.generation, 2);
    assert.notEqual(scaled.status?.replicas, 99, "a main-resource update keeps the status");
    const status = await api.update({ ...replicaSets, name: "web", subresource: "status" }, { ...scaled, status: { replicas: 3, observedGeneration: 2 } });
    assert.equal(status.status?.replicas, 3);
    assert.equal(status.spec?.replicas, 3);
    assert.equal((await rejection(api.update({ ...replicaSets, name: "web" }, { ...status, spec: { ...status.spec, replicas: -1 } }))).code, 422);
  });

  it("applies merge, JSON and strategic merge patches, with a resourceVersion in the patch as a precondition", async () => {
    const api = new FakeApi();
    await api.create(cms, configMap("a", { one: "1" }));
    await api.patch({ ...cms, name: "a" }, "merge", { data: { two: "2" } });
    await api.patch({ ...cms, name: "a" }, "json", [{ op: "remove", path: "/data/one" }]);
    const patched = await api.patch<ConfigMap>({ ...cms, name: "a" }, "strategic", { metadata: { labels: { x: "y" } } });
    assert.deepEqual(patched.data, { two: "2" });
    assert.deepEqual(patched.metadata.labels, { x: "y" });
    assert.equal((await rejection(api.patch({ ...cms, name: "a" }, "merge", { metadata: { resourceVersion: "1" }, data: { three: "3" } }))).code, 409);
  });

  it("deletes as the API server does: finalizers hold an object, bound pods wait for their agent", async () => {
    const clock = new FakeClock();
    const api = new FakeApi({ clock });
    const held = await api.create(cms, { ...configMap("held"), metadata: { name: "held", namespace: "default", finalizers: ["example.com/x"] } });
    const deleting = await api.delete({ ...cms, name: "held" });
    assert.ok(deleting.metadata.deletionTimestamp);
    assert.ok(api.object({ ...cms, name: "held" }), "still there while a finalizer remains");
    await api.update(
      { ...cms, name: "held" },
      { ...api.object({ ...cms, name: "held" })!, metadata: { ...held.metadata, finalizers: [], resourceVersion: deleting.metadata.resourceVersion! } },
    );
    assert.equal(api.object({ ...cms, name: "held" }), undefined, "gone with its last finalizer");

    await api.create(pods, pod("p"));
    await api.bind("default", "p", "", "n1");
    const terminating = await api.delete({ ...pods, name: "p" });
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
    assert.ok(api.object({ ...pods, name: "p" }), "the agent finishes a bound pod");
    await api.delete({ ...pods, name: "p" }, { gracePeriodSeconds: 0 });
    assert.equal(api.object({ ...pods, name: "p" }), undefined);
    assert.equal((await rejection(api.delete({ ...pods, name: "p" }))).code, 404);
  });

  it("binds a pod once, with a uid precondition", async () => {
    const api = new FakeApi();
    const p = await api.create(pods, pod("p"));
    assert.equal((await rejection(api.bind("default", "p", "wrong-uid", "n1"))).code, 409);
    await api.bind("default", "p", p.metadata.uid!, "n1");
    const bound = api.object<Pod>({ ...pods, name: "p" })!;
    assert.equal(bound.spec?.nodeName, "n1");
    assert.equal(bound.status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True");
    assert.match((await rejection(api.bind("default", "p", "", "n2"))).message, /already assigned to node "n1"/);
    assert.deepEqual(
      api.writes().map((w) => `${w.verb} ${w.resource}/${w.name}${w.subresource ? `/${w.subresource}` : ""}`),
      ["create pods/p", "bind pods/p/binding", "bind pods/p/binding", "bind pods/p/binding"],
    );
  });

  it("pages a list from one snapshot, unaffected by changes between pages", async () => {
    const api = new FakeApi();
    for (const name of ["a", "b", "c"]) await api.create(cms, configMap(name));
    const first = await api.list<ConfigMap>(cms, { limit: 2 });
    await api.delete({ ...cms, name: "c" });
    await api.create(cms, configMap("d"));
    const second = await api.list<ConfigMap>(cms, { limit: 2, continue: first.metadata.continue! });
    assert.deepEqual(
      [...first.items, ...second.items].map((c) => c.metadata.name),
      ["a", "b", "c"],
    );
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.equal(second.metadata.continue, undefined);
    api.compact();
    assert.equal((await rejection(api.list(cms, { limit: 2, continue: first.metadata.continue! }))).code, 410);
  });

  it("replays changes after a watch's resourceVersion, and answers 410 once they are out of its window", async () => {
    const api = new FakeApi({ watchHistoryEventsMax: 2 });
    await api.create(cms, configMap("a"));
    await api.create(cms, configMap("b"));
    const w = api.watch(cms, { resourceVersion: "1" });
    assert.deepEqual(await drain(w), ["ADDED b@2"]);
    await api.update({ ...cms, name: "a" }, configMap("a", { k: "v" }));
    assert.deepEqual(await drain(w), ["MODIFIED a@3"]);
    await api.delete({ ...cms, name: "b" });
    assert.deepEqual(await drain(w), ["DELETED b@4"]);
    w.close();
    assert.deepEqual(await drain(api.watch(cms, { resourceVersion: "0" })), ["ADDED a@3"]);
    assert.deepEqual(await drain(api.watch(cms, { resourceVersion: "1" })), ["ERROR 410"], "history holds only rv 3..4");
    assert.deepEqual(await drain(api.watch(cms, { resourceVersion: "2" })), ["MODIFIED a@3", "DELETED b@4"]);
  });

  it("filters watches by selector: an object leaving the selector is DELETED for that watch", async () => {
    const api = new FakeApi();
    const w = api.watch(pods, { resourceVersion: "0", fieldSelector: "spec.nodeName=n1" });
    await api.create(pods, pod("p"));
    await api.bind("default", "p", "", "n1");
    const other = api.watch(pods, { resourceVersion: "0", labelSelector: "app=db" });
    await api.delete({ ...pods, name: "p" }, { gracePeriodSeconds: 0 });
    assert.deepEqual(await drain(w), ["ADDED p@2", "DELETED p@3"]);
    assert.deepEqual(await drain(other), []);
  });

  it("fails, holds and records calls as a test asks", async () => {
    const api = new FakeApi();
    const remove = api.failOn({ verb: "create", resource: "configmaps", times: 2, error: () => new Error("injected") });
    await assert.rejects(api.create(cms, configMap("a")), /injected/);
    await assert.rejects(api.create(cms, configMap("a")), /injected/);
    await api.create(cms, configMap("a"));
    remove();
    const hold = api.pause({ verb: "get" });
    let answered = false;
    const pending = api.get({ ...cms, name: "a" }).then(() => (answered = true));
    await flushPromises();
    assert.equal([answered, hold.waiting].join(), "false,1");
    hold.release();
    await pending;
    assert.equal(answered, true);
    assert.deepEqual(
      api.actions.map((a) => a.verb),
      ["create", "create", "create", "get"],
    );
  });
});
