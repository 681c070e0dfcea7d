import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "@coxswain/raft";
import { EtcdClient, StoreCompactedError, StoreUnavailableError, prefixRangeEnd, type StoreWatchEvent } from "./etcd-client.js";
import { StoreCluster, missingPiece, storeTargets } from "./testing/store-cluster.js";
import { freshPrefix } from "./testing/fixtures.js";

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8");

test("a prefix's range end is the prefix with its last byte incremented", () => {
  assert.equal(Buffer.from(prefixRangeEnd("/registry/")).toString(), "/registry0");
  assert.deepEqual([...prefixRangeEnd("a\u00ff")], [0x61, 0xc3, 0xc0]);
});

test("a client with no reachable endpoint gives up with StoreUnavailableError", async () => {
  // Port 1 on loopback refuses connections.
  const client = new EtcdClient({ endpoints: ["127.0.0.1:1"], logger: silentLogger, callTimeoutMs: 500, backoffMsMax: 50 });
  try {
    await assert.rejects(client.range({ key: "a" }), (err) => err instanceof StoreUnavailableError && !err.outcomeUnknown);
  } finally {
    client.close();
  }
});

for (const target of storeTargets()) {
  const missing = missingPiece(target);
  describe(`etcd client on ${target}`, { skip: missing ?? false, timeout: 300_000 }, () => {
    let cluster: StoreCluster;
    let client: EtcdClient;
    before(async () => {
      cluster = await StoreCluster.start(target);
      client = cluster.client();
    });
    after(async () => {
      client?.close();
      await cluster?.stop();
    });

    test("put, range, delete and txn speak etcd's KV API", async () => {
      const p = freshPrefix();
      const put = await client.put({ key: `${p}a`, value: "1" });
      await client.put({ key: `${p}b`, value: "2" });
      const range = await client.range({ key: p, prefix: true });
      assert.deepEqual(
        range.kvs.map((kv) => [kv.key, text(kv.value)]),
        [
          [`${p}a`, "1"],
          [`${p}b`, "2"],
        ],
      );
      assert.equal(range.count, 2);
      assert.ok(range.revision >= put.revision);
      const txn = await client.txn({
        compare: [{ key: `${p}a`, target: "mod", result: "=", value: put.revision }],
        success: [{ put: { key: `${p}a`, value: "1b" } }, { range: { key: `${p}b` } }],
        failure: [],
      });
      assert.equal(txn.succeeded, true);
      const read = txn.responses[1];
      assert.ok(read !== undefined && "range" in read);
      assert.equal(text(read.range.kvs[0]!.value), "2");
      const lost = await client.txn({
        compare: [{ key: `${p}a`, target: "mod", result: "=", value: put.revision }],
        success: [],
        failure: [{ range: { key: `${p}a` } }],
      });
      assert.equal(lost.succeeded, false);
      const deleted = await client.delete({ key: p, prefix: true, prevKv: true });
      assert.equal(deleted.deleted, 2);
      assert.deepEqual(deleted.prevKvs.map((kv) => text(kv.value)).sort(), ["1b", "2"]);
    });

    test("a read at a compacted revision is StoreCompactedError", async () => {
      const p = freshPrefix();
      const first = await client.put({ key: `${p}a`, value: "1" });
      const second = await client.put({ key: `${p}a`, value: "2" });
      await client.compact(second.revision);
      await assert.rejects(client.range({ key: `${p}a`, revision: first.revision }), StoreCompactedError);
    });

    test("leases are granted with ids below 2^53, kept alive, and revoked with their keys", async () => {
      const p = freshPrefix();
      const lease = await client.leaseGrant(60);
      assert.ok(Number.isSafeInteger(lease.id) && lease.id > 0);
      assert.equal(lease.ttlSeconds, 60);
      await client.put({ key: `${p}leased`, value: "x", lease: lease.id });
      assert.equal((await client.range({ key: `${p}leased` })).kvs[0]?.lease, lease.id);
      assert.ok((await client.leaseKeepAliveOnce(lease.id)) > 0);
      await client.leaseRevoke(lease.id);
      assert.equal((await client.range({ key: `${p}leased` })).kvs.length, 0);
      assert.equal(await client.leaseKeepAliveOnce(lease.id), 0, "a revoked lease has no TTL left");
    });

    test("a watch delivers puts and deletes with previous values, from a past revision", async () => {
      const p = freshPrefix();
      const first = await client.put({ key: `${p}a`, value: "1" });
      await client.put({ key: `${p}a`, value: "2" });
      await client.delete({ key: `${p}a` });
      const seen: StoreWatchEvent[] = [];
      await new Promise<void>((resolve) => {
        const watch = client.watch(
          { key: p, prefix: true, startRevision: first.revision, prevKv: true },
          {
            events: (events) => {
              seen.push(...events);
              if (seen.length >= 3) {
                watch.close();
                resolve();
              }
            },
            compacted: () => assert.fail("not compacted"),
          },
        );
      });
      assert.deepEqual(
        seen.map((e) => [e.type, text(e.kv.value), e.prevKv === null ? null : text(e.prevKv.value)]),
        [
          ["PUT", "1", null],
          ["PUT", "2", "1"],
          ["DELETE", "", "2"],
        ],
      );
    });

    test("a client whose first endpoint refuses connections uses the next", async () => {
      const failing = cluster.client(["127.0.0.1:1", ...cluster.endpoints()]);
      try {
        const p = freshPrefix();
        await failing.put({ key: `${p}a`, value: "1" });
        assert.equal(text((await failing.range({ key: `${p}a` })).kvs[0]!.value), "1");
        assert.notEqual(failing.currentEndpoint, "127.0.0.1:1");
      } finally {
        failing.close();
      }
    });
  });
}
