/**
 * The storage layer through store member failures. Each test has a cluster of its own: killing a
 * member leaves two, and the next kill would take the quorum.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { KubeObject, Status } from "@coxswain/api";
import { silentLogger } from "@coxswain/raft";
import type { EtcdClient, EtcdClientOptions } from "./etcd-client.js";
import { Store } from "./store.js";
import { WatchCache, type CacheWatcher, type ServedWatchEvent } from "./watch-cache.js";
import { StoreCluster, missingPiece, storeTargets } from "./testing/store-cluster.js";
import { configMap, configMaps, freshPrefix } from "./testing/fixtures.js";

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

async function eventually(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 6_000; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`never happened: ${what}`);
}

for (const target of storeTargets()) {
  const missing = missingPiece(target);
  describe(`storage failover on ${target}`, { skip: missing ?? false, timeout: 300_000 }, () => {
    const cleanups: Array<() => void | Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    async function startCluster(): Promise<StoreCluster> {
      const cluster = await StoreCluster.start(target);
      cleanups.push(() => cluster.stop());
      return cluster;
    }
    function clientOf(cluster: StoreCluster, endpoints?: string[], options: Omit<EtcdClientOptions, "endpoints"> = {}): EtcdClient {
      const client = cluster.client(endpoints, options);
      cleanups.push(() => client.close());
      return client;
    }

    test("requests move to another member when the one the client uses is killed", async () => {
      const cluster = await startCluster();
      const client = clientOf(cluster);
      const store = new Store(client, { prefix: freshPrefix() });
      const before = await store.create(configMaps, configMap("default", "before"));
      const used = cluster.indexOfEndpoint(client.currentEndpoint);
      await cluster.kill(used);
      // Nothing acknowledged is lost, and new requests are served by the survivors.
      assert.deepEqual(await store.get(configMaps, "default", "before"), before);
      await store.create(configMaps, configMap("default", "after"));
      const updated = await store.guaranteedUpdate(configMaps, "default", "after", (c) => ({ ...c, data: { v: "2" } }) as KubeObject);
      assert.equal((await store.list(configMaps)).items.length, 2);
      assert.notEqual(client.currentEndpoint, cluster.endpoints()[used]);
      assert.ok(Number(updated.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
    });

    test("the watch cache keeps delivering when the member its store watch uses is killed", async () => {
      const cluster = await startCluster();
      const client = clientOf(cluster);
      const prefix = freshPrefix();
      const store = new Store(clientOf(cluster, [...cluster.endpoints()].reverse()), { prefix });
      const cache = new WatchCache(client, { prefix, logger: silentLogger });
      cleanups.push(() => cache.stop());
      cache.start();
      assert.ok(await cache.whenReady(30_000));
      const watcher = await cache.watch(configMaps, { resourceVersion: "0" });
      await store.create(configMaps, configMap("default", "a"));
      assert.equal((await nextEvent(watcher)).type, "ADDED");
      await cluster.kill(cluster.indexOfEndpoint(client.currentEndpoint));
      await store.create(configMaps, configMap("default", "b"));
      const deleted = await store.delete(configMaps, "default", "a");
      const b = await nextEvent(watcher);
      assert.equal(b.type, "ADDED");
      assert.equal(objectOf(b).metadata.name, "b");
      const gone = await nextEvent(watcher);
      assert.equal(gone.type, "DELETED");
      assert.equal(objectOf(gone).metadata.resourceVersion, deleted.metadata.resourceVersion);
      assert.equal(cache.stats().initializations, 1, "resumed from its revision, no re-list");
      watcher.stop();
    });

    test("the watch cache moves its store watch off a member that froze", async () => {
      const cluster = await startCluster();
      const endpoints = cluster.endpoints();
      // Keepalive would notice in 40 s; the stall check asks for progress and gives up far sooner.
      const cacheClient = clientOf(cluster, [endpoints[0]!, endpoints[1]!], { watchStallTimeoutMs: 1_000 });
      const prefix = freshPrefix();
      const store = new Store(clientOf(cluster, [endpoints[1]!, endpoints[2]!]), { prefix });
      const cache = new WatchCache(cacheClient, { prefix, logger: silentLogger });
      cleanups.push(() => cache.stop());
      cache.start();
      assert.ok(await cache.whenReady(30_000));
      const watcher = await cache.watch(configMaps, { resourceVersion: "0" });
      await cluster.pause(0);
      await store.create(configMaps, configMap("default", "while-frozen"));
      const event = await nextEvent(watcher);
      assert.equal(event.type, "ADDED");
      assert.equal(objectOf(event).metadata.name, "while-frozen");
      assert.equal(cacheClient.currentEndpoint, endpoints[1]);
      watcher.stop();
    });

    test("a cache whose store watch resumes after a compaction lists again, ends its watchers, and answers old versions with 410", async () => {
      const cluster = await startCluster();
      const endpoints = cluster.endpoints();
      // The cache watches through member 1; writes go through the other two.
      const cacheClient = clientOf(cluster, [endpoints[0]!, endpoints[1]!]);
      const writer = clientOf(cluster, [endpoints[1]!, endpoints[2]!]);
      const prefix = freshPrefix();
      const store = new Store(writer, { prefix });
      const cache = new WatchCache(cacheClient, { prefix, logger: silentLogger });
      cleanups.push(() => cache.stop());
      cache.start();
      assert.ok(await cache.whenReady(30_000));
      const first = await store.create(configMaps, configMap("default", "a"));
      await cache.waitForRevision(Number(first.metadata.resourceVersion));
      const watcher = await cache.watch(configMaps, { resourceVersion: first.metadata.resourceVersion! });
      const ended = new Promise<string>((resolve) => watcher.onClosed(resolve));

      // Member 1 freezes: the cache hears nothing while the others move on and compact.
      await cluster.pause(0);
      await store.create(configMaps, configMap("default", "b"));
      // Compacted past the first change the cache missed (a watch may start at the compaction revision itself).
      const last = await store.create(configMaps, configMap("default", "c"));
      await writer.compact(Number(last.metadata.resourceVersion));
      // Its death breaks the cache's stream; the resumed watch finds its history compacted.
      await cluster.kill(0);

      assert.equal(await ended, "reinitialized");
      await eventually(() => cache.ready && cache.stats().initializations === 2, "the cache listed again");
      const listed = await cache.list(configMaps);
      assert.deepEqual(
        listed.items.map((o) => o.metadata.name),
        ["a", "b", "c"],
      );
      const stale = await cache.watch(configMaps, { resourceVersion: first.metadata.resourceVersion! });
      const error = await nextEvent(stale);
      assert.equal(error.type, "ERROR");
      assert.equal(statusOf(error).code, 410);
    });

    test("a watch from a compacted revision ends with the compaction revision", async () => {
      const cluster = await startCluster();
      const client = clientOf(cluster);
      await client.put({ key: "/compacted/a", value: "1" });
      const revision = (await client.put({ key: "/compacted/a", value: "2" })).revision;
      await client.compact(revision);
      const compactedAt = await new Promise<number>((resolve) => {
        client.watch(
          { key: "/compacted/", prefix: true, startRevision: revision - 1 },
          { events: () => assert.fail("no events from compacted history"), compacted: resolve },
        );
      });
      assert.equal(compactedAt, revision);
    });
  });
}
