import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError, statusResourceExpired, type ConfigMap, type KubeObject, type Pod } from "@coxswain/api";
import { SeededRandom } from "@coxswain/raft";
import { podsResource, type GroupVersionResource } from "../api.js";
import { EndpointsUnavailableError } from "../client.js";
import { FakeClock, flushPromises } from "../clock/fake-clock.js";
import { FakeApi } from "../testing/fake-api.js";
import { podNodeNameIndex, podNodeNameIndexFunc } from "./indexers.js";
import { metaNamespaceKey } from "./keys.js";
import { SharedInformer, type ResourceEventHandler } from "./shared-informer.js";
import { IndexerConflictError } from "./store.js";
import { SharedInformerFactory } from "./factory.js";

const configMaps: GroupVersionResource<ConfigMap> = { group: "", version: "v1", resource: "configmaps" };
const inDefault = { ...configMaps, namespace: "default" };

function configMap(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data };
}

function pod(name: string, namespace = "default"): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "busybox" }] } };
}

/** Handler events as readable lines: "add default/a (initial)", "update default/a", "delete default/b (final state unknown)". */
function recorder<T extends KubeObject>(): { events: string[]; handler: ResourceEventHandler<T> } {
  const events: string[] = [];
  return {
    events,
    handler: {
      onAdd: (obj, initial) => events.push(`add ${metaNamespaceKey(obj)}${initial ? " (initial)" : ""}`),
      onUpdate: (_old, obj) => events.push(`update ${metaNamespaceKey(obj)}`),
      onDelete: (obj, unknown) => events.push(`delete ${metaNamespaceKey(obj)}${unknown ? " (final state unknown)" : ""}`),
    },
  };
}

async function setup(names: string[], options: { listPageSize?: number; expiredWatch?: "event" | "throw" } = {}) {
  const clock = new FakeClock();
  const api = new FakeApi({ clock, ...(options.expiredWatch ? { expiredWatch: options.expiredWatch } : {}) });
  for (const name of names) await api.create(inDefault, configMap(name));
  const informer = new SharedInformer(api, configMaps, {
    clock,
    random: new SeededRandom(7),
    ...(options.listPageSize ? { listPageSize: options.listPageSize } : {}),
  });
  const rec = recorder<ConfigMap>();
  informer.addEventHandler(rec.handler);
  return { clock, api, informer, rec };
}

/** Synced, and the watch that follows the list is open. */
async function synced(informer: { waitForSync(): Promise<boolean> }): Promise<void> {
  assert.equal(await informer.waitForSync(), true);
  await flushPromises();
}

const listActions = (api: FakeApi) => api.actions.filter((a) => a.verb === "list");
const watchActions = (api: FakeApi) => api.actions.filter((a) => a.verb === "watch");

describe("SharedInformer", () => {
  it("lists in pages, then delivers every object as an initial add and reports synced", async () => {
    const { api, informer, rec } = await setup(["a", "b", "c", "d", "e"], { listPageSize: 2 });
    assert.equal(informer.hasSynced(), false);
    informer.start();
    assert.equal(await informer.waitForSync(), true);
    assert.deepEqual(
      listActions(api).map((a) => a.options),
      [{ limit: 2 }, { limit: 2, continue: "1:2" }, { limit: 2, continue: "1:4" }],
    );
    assert.deepEqual(rec.events, [
      "add default/a (initial)",
      "add default/b (initial)",
      "add default/c (initial)",
      "add default/d (initial)",
      "add default/e (initial)",
    ]);
    assert.deepEqual(informer.store.listKeys().sort(), ["default/a", "default/b", "default/c", "default/d", "default/e"]);
    await informer.stop();
  });

  it("watches from the list's resourceVersion and applies adds, updates and deletes", async () => {
    const { api, informer, rec } = await setup(["a", "b"]);
    informer.start();
    await synced(informer);
    const listedAt = api.resourceVersion;
    await api.create(inDefault, configMap("c"));
    await api.update({ ...inDefault, name: "a" }, configMap("a", { k: "v" }));
    await api.delete({ ...inDefault, name: "b" });
    await flushPromises();
    assert.equal(watchActions(api)[0]?.options?.["resourceVersion"], listedAt);
    assert.equal(watchActions(api)[0]?.options?.["allowBookmarks"], true);
    assert.deepEqual(rec.events.slice(2), ["add default/c", "update default/a", "delete default/b"]);
    assert.deepEqual(informer.store.get("default/a")?.data, { k: "v" });
    assert.equal(informer.store.has("default/b"), false);
    assert.equal(informer.lastSyncResourceVersion(), api.resourceVersion);
    await informer.stop();
  });

  it("reopens a watch the server closed from the last resourceVersion, without listing again", async () => {
    const { api, informer, rec } = await setup(["a"]);
    informer.start();
    await synced(informer);
    await api.create(inDefault, configMap("b"));
    await flushPromises();
    const seen = api.resourceVersion;
    api.closeWatches();
    await flushPromises();
    await api.create(inDefault, configMap("c"));
    await flushPromises();
    assert.equal(listActions(api).length, 1);
    assert.deepEqual(
      watchActions(api).map((a) => a.options?.["resourceVersion"]),
      ["1", seen],
    );
    assert.deepEqual(rec.events, ["add default/a (initial)", "add default/b", "add default/c"]);
    await informer.stop();
  });

  it("after a broken connection waits a backoff, then watches again and misses nothing", async () => {
    const { clock, api, informer, rec } = await setup(["a"]);
    informer.start();
    await synced(informer);
    api.closeWatches(new EndpointsUnavailableError("connection reset"));
    await api.create(inDefault, configMap("b"));
    await flushPromises();
    assert.equal(watchActions(api).length, 1, "no new watch before the backoff");
    // The first backoff is 800 ms plus up to 100% jitter.
    await clock.advance(1_600);
    assert.equal(watchActions(api).length, 2);
    assert.equal(listActions(api).length, 1);
    assert.deepEqual(rec.events, ["add default/a (initial)", "add default/b"]);
    await informer.stop();
  });

  for (const expiredWatch of ["event", "throw"] as const) {
    it(`relists on 410 (${expiredWatch === "event" ? "an ERROR event" : "a failed watch call"}) and delivers only the differences`, async () => {
      const { clock, api, informer, rec } = await setup(["a", "b", "c", "d"], { expiredWatch });
      informer.start();
      await synced(informer);
      // Disconnected while the cluster changes, and the history the informer needs is compacted away.
      api.closeWatches(new EndpointsUnavailableError("connection reset"));
      await flushPromises();
      await api.create(inDefault, configMap("e"));
      await api.update({ ...inDefault, name: "a" }, configMap("a", { changed: "yes" }));
      await api.delete({ ...inDefault, name: "b" });
      api.compact();
      await clock.advance(1_600);
      assert.equal(listActions(api).length, 2, "listed again after the 410");
      assert.equal(informer.relists, 1);
      assert.deepEqual(rec.events.slice(4), ["update default/a", "add default/e", "delete default/b (final state unknown)"]);
      assert.deepEqual(informer.store.listKeys().sort(), ["default/a", "default/c", "default/d", "default/e"]);
      // And it watches on from the new list.
      await api.create(inDefault, configMap("f"));
      await flushPromises();
      assert.deepEqual(rec.events.at(-1), "add default/f");
      await informer.stop();
    });
  }

  it("relists when the open watch receives a 410 ERROR event", async () => {
    const { api, informer, rec } = await setup(["a"]);
    informer.start();
    await synced(informer);
    api.expireWatches();
    await flushPromises();
    assert.equal(listActions(api).length, 2);
    assert.deepEqual(rec.events, ["add default/a (initial)"], "an unchanged object produces no event on relist");
    await informer.stop();
  });

  it("lists again in one request when the continue token expires between pages", async () => {
    const { api, informer } = await setup(["a", "b", "c"], { listPageSize: 2 });
    api.failOn({
      verb: "list",
      match: (a) => Boolean(a.options?.["continue"]),
      error: () => new ApiStatusError(statusResourceExpired("continue token expired")),
    });
    informer.start();
    await synced(informer);
    assert.deepEqual(
      listActions(api).map((a) => a.options),
      [{ limit: 2 }, { limit: 2, continue: "1:2" }, {}],
    );
    assert.equal(informer.store.size, 3);
    await informer.stop();
  });

  it("retries a failing list after a backoff that doubles, with jitter", async () => {
    const { clock, api, informer } = await setup(["a"]);
    api.failOn({ verb: "list", times: 2, error: () => new EndpointsUnavailableError("down") });
    informer.start();
    for (let i = 0; i < 100 && !informer.hasSynced(); i++) await clock.advance(100);
    const [first, second, third] = listActions(api).map((a) => a.atMs);
    assert.equal(listActions(api).length, 3);
    // client-go's reflector backoff: 800 ms, then 1.6 s, each stretched by up to 100% jitter.
    const waits = [second! - first!, third! - second!];
    assert.ok(waits[0]! >= 800 && waits[0]! < 1_600 + 100, `first wait ${waits[0]}`);
    assert.ok(waits[1]! >= 1_600 && waits[1]! < 3_200 + 100, `second wait ${waits[1]}`);
    await informer.stop();
  });

  it("moves its resourceVersion on with bookmarks and watches again from there", async () => {
    const { api, informer } = await setup(["a"]);
    informer.start();
    await synced(informer);
    // Changes elsewhere in the cluster move the resourceVersion; this informer sees them only as a bookmark.
    await api.create({ group: "coordination.k8s.io", version: "v1", resource: "leases", namespace: "default" }, {
      metadata: { name: "x", namespace: "default" },
      spec: {},
    } as KubeObject);
    api.sendBookmarks();
    await flushPromises();
    assert.equal(informer.lastSyncResourceVersion(), api.resourceVersion);
    api.closeWatches();
    await flushPromises();
    assert.equal(watchActions(api).at(-1)?.options?.["resourceVersion"], api.resourceVersion);
    await informer.stop();
  });

  it("tells a handler added after sync about every cached object, as initial adds", async () => {
    const { informer } = await setup(["a", "b"]);
    informer.start();
    await synced(informer);
    const late = recorder<ConfigMap>();
    const registration = informer.addEventHandler(late.handler);
    assert.deepEqual(late.events, ["add default/a (initial)", "add default/b (initial)"]);
    assert.equal(registration.hasSynced(), true);
    await informer.stop();
  });

  it("stops calling a removed handler", async () => {
    const { api, informer, rec } = await setup(["a"]);
    const other = recorder<ConfigMap>();
    const registration = informer.addEventHandler(other.handler);
    informer.start();
    await synced(informer);
    registration.remove();
    await api.create(inDefault, configMap("b"));
    await flushPromises();
    assert.deepEqual(other.events, ["add default/a (initial)"]);
    assert.deepEqual(rec.events, ["add default/a (initial)", "add default/b"]);
    await informer.stop();
  });

  it("has the object in its cache when handlers run, and its cached objects cannot be changed", async () => {
    const { api, informer } = await setup([]);
    const seenInCache: boolean[] = [];
    informer.addEventHandler({ onAdd: (obj) => seenInCache.push(informer.store.getByObject(obj) === obj) });
    informer.start();
    await synced(informer);
    await api.create(inDefault, configMap("a", { k: "v" }));
    await flushPromises();
    assert.deepEqual(seenInCache, [true]);
    const cached = informer.store.get("default/a")!;
    assert.throws(() => {
      cached.data!["k"] = "changed";
    }, TypeError);
    assert.throws(() => {
      cached.metadata.labels = {};
    }, TypeError);
    await informer.stop();
  });

  it("keeps a pods-by-node index current as pods are bound and deleted", async () => {
    const clock = new FakeClock();
    const api = new FakeApi({ clock });
    for (const name of ["p1", "p2", "p3"]) await api.create({ ...podsResource, namespace: "default" }, pod(name));
    await api.create({ ...podsResource, namespace: "other" }, pod("q1", "other"));
    const informer = new SharedInformer(api, podsResource, { clock, indexers: { [podNodeNameIndex]: podNodeNameIndexFunc } });
    informer.start();
    await synced(informer);
    const keysOn = (node: string) => informer.store.indexKeys(podNodeNameIndex, node).sort();
    assert.deepEqual(keysOn(""), ["default/p1", "default/p2", "default/p3", "other/q1"]);
    await api.bind("default", "p1", "", "n1");
    await api.bind("default", "p2", "", "n1");
    await api.bind("other", "q1", "", "n2");
    await flushPromises();
    assert.deepEqual(keysOn("n1"), ["default/p1", "default/p2"]);
    assert.deepEqual(keysOn("n2"), ["other/q1"]);
    assert.deepEqual(keysOn(""), ["default/p3"]);
    await api.delete({ ...podsResource, namespace: "default", name: "p1" }, { gracePeriodSeconds: 0 });
    await flushPromises();
    assert.deepEqual(keysOn("n1"), ["default/p2"]);
    assert.deepEqual(informer.store.indexValues(podNodeNameIndex).sort(), ["", "n1", "n2"]);
    assert.deepEqual(
      informer.store.listInNamespace("other").map((p) => p.metadata.name),
      ["q1"],
    );
    await informer.stop();
  });

  it("with a field selector, sees a pod arrive when it starts matching and leave when it stops", async () => {
    const clock = new FakeClock();
    const api = new FakeApi({ clock });
    await api.create({ ...podsResource, namespace: "default" }, pod("p1"));
    const informer = new SharedInformer(api, podsResource, { clock, fieldSelector: "spec.nodeName=n1" });
    const rec = recorder<Pod>();
    informer.addEventHandler(rec.handler);
    informer.start();
    await synced(informer);
    assert.equal(informer.store.size, 0);
    await api.bind("default", "p1", "", "n1");
    await flushPromises();
    await api.delete({ ...podsResource, namespace: "default", name: "p1" }, { gracePeriodSeconds: 0 });
    await flushPromises();
    assert.deepEqual(rec.events, ["add default/p1", "delete default/p1"]);
    assert.equal(listActions(api)[0]?.options?.["fieldSelector"], "spec.nodeName=n1");
    await informer.stop();
  });

  it("calls onUpdate(obj, obj) for every cached object each resync period", async () => {
    const clock = new FakeClock();
    const api = new FakeApi({ clock });
    await api.create(inDefault, configMap("a"));
    const informer = new SharedInformer(api, configMaps, { clock, resyncPeriodMs: 30_000 });
    const rec = recorder<ConfigMap>();
    informer.addEventHandler(rec.handler);
    informer.start();
    await synced(informer);
    await clock.advance(30_000);
    await clock.advance(30_000);
    assert.deepEqual(rec.events, ["add default/a (initial)", "update default/a", "update default/a"]);
    await informer.stop();
  });
});

describe("SharedInformerFactory", () => {
  it("shares one informer per resource and selectors, and syncs them all", async () => {
    const clock = new FakeClock();
    const api = new FakeApi({ clock });
    await api.create(inDefault, configMap("a"));
    const factory = new SharedInformerFactory(api, { clock });
    const first = factory.forResource(configMaps);
    assert.equal(factory.forResource(configMaps), first);
    const selected = factory.forResource(configMaps, { labelSelector: "app=web" });
    assert.notEqual(selected, first);
    assert.equal(factory.hasSynced(), false);
    factory.start();
    assert.equal(await factory.waitForCacheSync(), true);
    assert.equal(first.store.size, 1);
    assert.equal(selected.store.size, 0);
    // One list and one watch per informer, whatever the number of users.
    assert.equal(listActions(api).length, 2);
    const late = factory.forResource(podsResource);
    assert.equal(late.running, true, "an informer asked for after start starts at once");
    await factory.waitForCacheSync();
    await factory.shutdown();
    assert.equal(api.openWatches(), 0);
  });

  it("accepts the same index twice and refuses another function under a taken name", async () => {
    const api = new FakeApi();
    const factory = new SharedInformerFactory(api);
    factory.forResource(podsResource, { indexers: { [podNodeNameIndex]: podNodeNameIndexFunc } });
    factory.forResource(podsResource, { indexers: { [podNodeNameIndex]: podNodeNameIndexFunc } });
    assert.throws(() => factory.forResource(podsResource, { indexers: { [podNodeNameIndex]: () => [] } }), IndexerConflictError);
  });
});
