import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ApiStatusError, parseFieldSelector, parseLabelSelector, type KubeObject, type Status } from "@coxswain/api";
import { silentLogger } from "@coxswain/raft";
import type { EtcdClient } from "./etcd-client.js";
import { Cacher } from "./cacher.js";
import { Store } from "./store.js";
import { WatchCache, type CacheWatcher, type ServedWatchEvent, type WatchCacheOptions } from "./watch-cache.js";
import { StoreCluster, missingPiece, storeTargets } from "./testing/store-cluster.js";
import { configMap, configMaps, dataOf, freshPrefix, pod, pods } from "./testing/fixtures.js";

/** The next event of a watcher (fails the test if the watch ends first). */

/** The object of a non-ERROR event. */
function objectOf(event: ServedWatchEvent): KubeObject {
  const object = event.object;
  if (isStatus(object)) assert.fail(`an ERROR event: ${object.message}`);
  return object;
}

/** The Status of an ERROR event. */
function statusOf(event: ServedWatchEvent): Status {
  const object = event.object;
  if (!isStatus(object)) assert.fail(`not an ERROR event: ${event.type}`);
  return object;
}

function isStatus(object: KubeObject | Status): object is Status {
  return object.kind === "Status";
}

async function nextEvent(watcher: CacheWatcher): Promise<ServedWatchEvent> {
  const result = await watcher.next();
  assert.equal(result.done, false, `the watch ended (${watcher.closeReason})`);
  return result.value;
}

/** `count` events as "TYPE name" lines, skipping bookmarks. */
async function nextEvents(watcher: CacheWatcher, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const event = await nextEvent(watcher);
    if (event.type === "BOOKMARK") continue;
    out.push(`${event.type} ${objectOf(event).metadata.name}`);
  }
  return out;
}

const label = (key: string, value: string) => (current: KubeObject) => ({
  ...current,
  metadata: { ...current.metadata, labels: { ...current.metadata.labels, [key]: value } },
});

for (const target of storeTargets()) {
  const missing = missingPiece(target);
  describe(`watch cache on ${target}`, { skip: missing ?? false, timeout: 300_000 }, () => {
    let cluster: StoreCluster;
    let client: EtcdClient;
    const caches: WatchCache[] = [];

    /** A store and a started, ready cache over a key space of their own. */
    async function setUp(options: WatchCacheOptions = {}): Promise<{ store: Store; cache: WatchCache; cacher: Cacher }> {
      const prefix = freshPrefix();
      const store = new Store(client, { prefix });
      const cache = new WatchCache(client, { prefix, logger: silentLogger, ...options });
      caches.push(cache);
      cache.start();
      assert.ok(await cache.whenReady(30_000), "the cache got ready");
      return { store, cache, cacher: new Cacher(store, cache) };
    }

    before(async () => {
      cluster = await StoreCluster.start(target);
      client = cluster.client();
    });
    after(async () => {
      for (const cache of caches) cache.stop();
      client?.close();
      await cluster?.stop();
    });

    test("a watch from resourceVersion 0 starts with the current objects as ADDED, then goes live", async () => {
      const { store, cache } = await setUp();
      await store.create(configMaps, configMap("default", "a"));
      await store.create(configMaps, configMap("default", "b"));
      await store.create(configMaps, configMap("other", "c"));
      const created = await store.create(configMaps, configMap("default", "d"));
      await cache.waitForRevision(Number(created.metadata.resourceVersion));
      const watcher = await cache.watch(configMaps, { namespace: "default", resourceVersion: "0" });
      assert.deepEqual(await nextEvents(watcher, 3), ["ADDED a", "ADDED b", "ADDED d"]);
      await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { x: "1" } }) as KubeObject);
      await store.delete(configMaps, "default", "b");
      await store.create(configMaps, configMap("other", "ignored"));
      await store.create(configMaps, configMap("default", "e"));
      assert.deepEqual(await nextEvents(watcher, 3), ["MODIFIED a", "DELETED b", "ADDED e"]);
      watcher.stop();
    });

    test("a watch from a resourceVersion replays the events after it, then goes live", async () => {
      const { store, cache } = await setUp();
      const a = await store.create(configMaps, configMap("default", "a"));
      await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { v: "2" } }) as KubeObject);
      const deleted = await store.delete(configMaps, "default", "a");
      await cache.waitForRevision(Number(deleted.metadata.resourceVersion));
      const watcher = await cache.watch(configMaps, { resourceVersion: a.metadata.resourceVersion! });
      const modified = await nextEvent(watcher);
      assert.equal(modified.type, "MODIFIED");
      assert.deepEqual(dataOf(objectOf(modified)), { v: "2" });
      const gone = await nextEvent(watcher);
      assert.equal(gone.type, "DELETED");
      assert.equal(objectOf(gone).metadata.resourceVersion, deleted.metadata.resourceVersion, "DELETED carries the deletion's resourceVersion");
      await store.create(configMaps, configMap("default", "b"));
      assert.deepEqual(await nextEvents(watcher, 1), ["ADDED b"]);
      watcher.stop();
    });

    test("events are encoded once and shared by every watcher", async () => {
      const { store, cache } = await setUp();
      const watchers = await Promise.all(Array.from({ length: 5 }, () => cache.watch(configMaps, { resourceVersion: "0" })));
      await store.create(configMaps, configMap("default", "a"));
      const events = await Promise.all(watchers.map((w) => nextEvent(w)));
      for (const event of events) assert.equal(event, events[0], "the same event object");
      const line = JSON.parse(events[0]!.json) as { type: string; object: KubeObject };
      assert.equal(line.type, "ADDED");
      assert.equal(line.object.metadata.name, "a");
      assert.ok(Object.isFrozen(events[0]!.object), "shared objects are frozen");
      for (const w of watchers) w.stop();
    });

    test("a resourceVersion older than the event window gets an ERROR 410 Expired, then the watch ends", async () => {
      const { store, cache } = await setUp({ watchCacheEventsMax: 3 });
      const first = await store.create(configMaps, configMap("default", "a"));
      let last: KubeObject = first;
      for (let i = 0; i < 5; i++) last = await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { i: String(i) } }) as KubeObject);
      await cache.waitForRevision(Number(last.metadata.resourceVersion));
      const watcher = await cache.watch(configMaps, { resourceVersion: first.metadata.resourceVersion! });
      const error = await nextEvent(watcher);
      assert.equal(error.type, "ERROR");
      const status = statusOf(error);
      assert.equal(status.code, 410);
      assert.equal(status.reason, "Expired");
      assert.match(status.message ?? "", new RegExp(`^too old resource version: ${first.metadata.resourceVersion} \\(\\d+\\)$`));
      assert.equal((await watcher.next()).done, true);
      // The window still serves what it holds.
      const recent = await cache.watch(configMaps, { resourceVersion: String(Number(last.metadata.resourceVersion) - 1) });
      assert.equal((await nextEvent(recent)).type, "MODIFIED");
      recent.stop();
    });

    test("objects moving out of a selector are sent as DELETED, into it as ADDED", async () => {
      const { store, cache } = await setUp();
      const watcher = await cache.watch(configMaps, { resourceVersion: "0", labelSelector: parseLabelSelector("app=web") });
      await store.create(configMaps, configMap("default", "a", { app: "db" }));
      const moved = await store.guaranteedUpdate(configMaps, "default", "a", label("app", "web"));
      await store.guaranteedUpdate(configMaps, "default", "a", label("tier", "front"));
      const left = await store.guaranteedUpdate(configMaps, "default", "a", label("app", "db"));
      await store.create(configMaps, configMap("default", "b", { app: "web" }));
      const added = await nextEvent(watcher);
      assert.equal(added.type, "ADDED");
      assert.equal(objectOf(added).metadata.resourceVersion, moved.metadata.resourceVersion);
      assert.equal((await nextEvent(watcher)).type, "MODIFIED");
      const deleted = await nextEvent(watcher);
      assert.equal(deleted.type, "DELETED");
      const last = objectOf(deleted);
      assert.equal(last.metadata.labels?.["app"], "web", "DELETED shows the last state that matched");
      assert.equal(last.metadata.resourceVersion, left.metadata.resourceVersion, "at the resourceVersion of the change");
      assert.deepEqual(await nextEvents(watcher, 1), ["ADDED b"]);
      watcher.stop();
    });

    test("field selectors filter watches too", async () => {
      const { store, cache } = await setUp();
      const watcher = await cache.watch(pods, { resourceVersion: "0", fieldSelector: parseFieldSelector("spec.nodeName=node-1") });
      await store.create(pods, pod("default", "elsewhere", "node-2", "Running"));
      await store.create(pods, pod("default", "here", "node-1", "Running"));
      assert.deepEqual(await nextEvents(watcher, 1), ["ADDED here"]);
      watcher.stop();
    });

    test("watchers that allow bookmarks get BOOKMARK events with the current resourceVersion", async () => {
      const { store, cache } = await setUp({ bookmarkIntervalMs: 100 });
      const plain = await cache.watch(configMaps, { resourceVersion: "0" });
      const watcher = await cache.watch(configMaps, { resourceVersion: "0", allowWatchBookmarks: true });
      const created = await store.create(configMaps, configMap("default", "a"));
      // Bookmarks may come before the change; after it, one carries its resourceVersion or a later one.
      let event = await nextEvent(watcher);
      while (event.type === "BOOKMARK") event = await nextEvent(watcher);
      assert.equal(event.type, "ADDED");
      event = await nextEvent(watcher);
      assert.equal(event.type, "BOOKMARK");
      const object = objectOf(event);
      assert.equal(object.kind, "ConfigMap");
      assert.equal(object.apiVersion, "v1");
      assert.ok(Number(object.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
      // The watcher that did not ask gets none: its events are the changes only.
      assert.equal((await nextEvent(plain)).type, "ADDED");
      await store.create(configMaps, configMap("default", "b"));
      const next = await nextEvent(plain);
      assert.equal(next.type, "ADDED");
      assert.equal(objectOf(next).metadata.name, "b");
      plain.stop();
      watcher.stop();
    });

    test("a watcher that does not keep up is closed, and the others get every event", async () => {
      const { store, cache } = await setUp({ watcherEventsBufferedMax: 10 });
      const slow = await cache.watch(configMaps, { resourceVersion: "0" });
      const fast = await cache.watch(configMaps, { resourceVersion: "0" });
      const closed = new Promise<string>((resolve) => slow.onClosed(resolve));
      const received: string[] = [];
      const reading = (async () => {
        for await (const event of fast) {
          received.push(objectOf(event).metadata.name ?? "");
          if (received.length === 30) break;
        }
      })();
      for (let i = 0; i < 30; i++) await store.create(configMaps, configMap("default", `cm-${String(i).padStart(2, "0")}`));
      assert.equal(await closed, "tooSlow");
      await reading;
      assert.deepEqual(
        received,
        Array.from({ length: 30 }, (_, i) => `cm-${String(i).padStart(2, "0")}`),
      );
      assert.equal((await slow.next()).done, true, "the slow watcher ends; its client watches again");
      assert.ok(cache.stats().watchersClosedTooSlow >= 1);
    });

    test("lists from the cache apply namespace and selectors, and wait for a resourceVersion they have not reached", async () => {
      // A short wait for resourceVersions the cache has not reached: the 504 case below waits it out.
      const { store, cache, cacher } = await setUp({ freshnessTimeoutMs: 300 });
      await store.create(pods, pod("a", "p1", "node-1", "Running", { app: "web" }));
      await store.create(pods, pod("a", "p2", "node-2", "Running", { app: "db" }));
      const last = await store.create(pods, pod("b", "p3", "node-1", "Running", { app: "web" }));
      const atLeast = await cache.list(pods, { resourceVersion: last.metadata.resourceVersion! });
      assert.deepEqual(
        atLeast.items.map((o) => o.metadata.name),
        ["p1", "p2", "p3"],
      );
      assert.ok(Number(atLeast.resourceVersion) >= Number(last.metadata.resourceVersion));
      const filtered = await cache.list(pods, { namespace: "a", labelSelector: parseLabelSelector("app=web") });
      assert.deepEqual(
        filtered.items.map((o) => o.metadata.name),
        ["p1"],
      );
      // Unset resourceVersion through the Cacher: consistent, whichever serves it.
      const consistent = await cacher.list(pods, { fieldSelector: parseFieldSelector("spec.nodeName=node-1") });
      assert.deepEqual(
        consistent.items.map((o) => o.metadata.name),
        ["p1", "p3"],
      );
      await assert.rejects(
        cache.list(pods, { resourceVersion: String(Number(last.metadata.resourceVersion) + 1_000_000) }),
        (err) => err instanceof ApiStatusError && err.status.code === 504,
      );
    });

    test("the Cacher reads its own writes at resourceVersion unset, and from the cache at 0", async () => {
      const { cacher } = await setUp();
      const created = await cacher.create(configMaps, configMap("default", "a", {}, { v: "1" }));
      const listed = await cacher.list(configMaps);
      assert.deepEqual(
        listed.items.map((o) => o.metadata.resourceVersion),
        [created.metadata.resourceVersion],
      );
      const got = await cacher.get(configMaps, "default", "a", { resourceVersion: created.metadata.resourceVersion! });
      assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
      await assert.rejects(
        cacher.get(configMaps, "default", "missing", { resourceVersion: "0" }),
        (err) => err instanceof ApiStatusError && err.status.code === 404,
      );
    });
  });
}
