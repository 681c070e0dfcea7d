import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ApiStatusError, objectModifiedMessage, parseFieldSelector, parseLabelSelector, type KubeObject } from "@coxswain/api";
import type { EtcdClient } from "./etcd-client.js";
import { inconsistentContinueMessage, Store } from "./store.js";
import { StoreCluster, missingPiece, storeTargets } from "./testing/store-cluster.js";
import { configMap, configMaps, dataOf, freshPrefix, namespace, namespaces, pod, pods } from "./testing/fixtures.js";

/** The Status an ApiStatusError carries, for assert.rejects. */
function status(code: number, reason: string, message?: string | RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof ApiStatusError, `expected an ApiStatusError, got ${String(err)}`);
    assert.equal(err.status.code, code, err.message);
    assert.equal(err.status.reason, reason, err.message);
    if (typeof message === "string") assert.equal(err.status.message, message);
    else if (message !== undefined) assert.match(err.status.message ?? "", message);
    return true;
  };
}

async function catchStatus(promise: Promise<unknown>): Promise<ApiStatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ApiStatusError, `expected an ApiStatusError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

const names = (items: KubeObject[]): string[] => items.map((o) => o.metadata.name ?? "");

for (const target of storeTargets()) {
  const missing = missingPiece(target);
  describe(`store on ${target}`, { skip: missing ?? false, timeout: 300_000 }, () => {
    let cluster: StoreCluster;
    let client: EtcdClient;
    const newStore = (): Store => new Store(client, { prefix: freshPrefix() });

    before(async () => {
      cluster = await StoreCluster.start(target);
      client = cluster.client();
    });
    after(async () => {
      client?.close();
      await cluster?.stop();
    });

    test("create stores the object and returns it with the store's revision as resourceVersion", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { k: "v" }));
      assert.match(created.metadata.resourceVersion ?? "", /^[1-9][0-9]*$/);
      const got = await store.get(configMaps, "default", "a");
      assert.deepEqual(got, created);
      assert.deepEqual(dataOf(got), { k: "v" });
    });

    test("a second create of the same name is 409 AlreadyExists", async () => {
      const store = newStore();
      await store.create(configMaps, configMap("default", "a"));
      await assert.rejects(store.create(configMaps, configMap("default", "a")), status(409, "AlreadyExists", 'configmaps "a" already exists'));
    });

    test("get of a missing object is 404 NotFound with Kubernetes' message", async () => {
      const store = newStore();
      await assert.rejects(store.get(configMaps, "default", "nope"), status(404, "NotFound", 'configmaps "nope" not found'));
    });

    test("cluster-scoped objects are stored without a namespace", async () => {
      const store = newStore();
      await store.create(namespaces, namespace("team-a"));
      const got = await store.get(namespaces, undefined, "team-a");
      assert.equal(got.metadata.name, "team-a");
      const range = await client.range({ key: store.keys.resourcePrefix(namespaces), prefix: true, keysOnly: true });
      assert.deepEqual(
        range.kvs.map((kv) => kv.key),
        [`${store.keys.prefix}core/namespaces/team-a`],
      );
    });

    test("list covers one namespace or all, and applies label and field selectors", async () => {
      const store = newStore();
      await store.create(pods, pod("a", "p1", "node-1", "Running", { app: "web", tier: "front" }));
      await store.create(pods, pod("a", "p2", "node-2", "Pending", { app: "web" }));
      await store.create(pods, pod("b", "p3", "node-1", "Running", { app: "db" }));
      await store.create(pods, pod("b", "p4", "node-1", "Succeeded", {}));

      assert.deepEqual(names((await store.list(pods)).items), ["p1", "p2", "p3", "p4"]);
      assert.deepEqual(names((await store.list(pods, { namespace: "b" })).items), ["p3", "p4"]);
      assert.deepEqual(names((await store.list(pods, { labelSelector: parseLabelSelector("app=web") })).items), ["p1", "p2"]);
      assert.deepEqual(names((await store.list(pods, { labelSelector: parseLabelSelector("app in (web,db),!tier") })).items), ["p2", "p3"]);
      assert.deepEqual(names((await store.list(pods, { fieldSelector: parseFieldSelector("spec.nodeName=node-1") })).items), ["p1", "p3", "p4"]);
      assert.deepEqual(
        names((await store.list(pods, { fieldSelector: parseFieldSelector("spec.nodeName=node-1,status.phase!=Running"), namespace: "b" })).items),
        ["p4"],
      );
      assert.deepEqual(names((await store.list(pods, { fieldSelector: parseFieldSelector("metadata.namespace=a") })).items), ["p1", "p2"]);
    });

    test("the list's resourceVersion is the store's revision and every item carries its own", async () => {
      const store = newStore();
      const first = await store.create(configMaps, configMap("default", "a"));
      const second = await store.create(configMaps, configMap("default", "b"));
      const list = await store.list(configMaps);
      assert.ok(Number(list.resourceVersion) >= Number(second.metadata.resourceVersion));
      assert.deepEqual(
        list.items.map((o) => o.metadata.resourceVersion),
        [first.metadata.resourceVersion, second.metadata.resourceVersion],
      );
    });

    test("limit and continue page through a list at one revision, with the remaining count", async () => {
      const store = newStore();
      for (const name of ["a", "b", "c", "d", "e"]) await store.create(configMaps, configMap("default", name));
      const page1 = await store.list(configMaps, { limit: 2 });
      assert.deepEqual(names(page1.items), ["a", "b"]);
      assert.equal(page1.remainingItemCount, 3);
      assert.ok(page1.continue);
      // A change after the first page does not show in the following ones: same revision.
      await store.create(configMaps, configMap("default", "bb"));
      const page2 = await store.list(configMaps, { limit: 2, continue: page1.continue });
      assert.deepEqual(names(page2.items), ["c", "d"]);
      assert.equal(page2.resourceVersion, page1.resourceVersion);
      const page3 = await store.list(configMaps, { limit: 2, continue: page2.continue! });
      assert.deepEqual(names(page3.items), ["e"]);
      assert.equal(page3.continue, undefined);
      assert.equal(page3.remainingItemCount, undefined);
    });

    test("a paged list with a selector fills its pages with matching items only", async () => {
      const store = newStore();
      for (let i = 0; i < 12; i++) await store.create(configMaps, configMap("default", `cm-${String(i).padStart(2, "0")}`, { even: String(i % 2 === 0) }));
      const seen: string[] = [];
      let token: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.list(configMaps, { limit: 2, labelSelector: parseLabelSelector("even=true"), ...(token ? { continue: token } : {}) });
        assert.ok(page.items.length <= 2);
        assert.equal(page.remainingItemCount, undefined, "no remaining count when a selector filters");
        seen.push(...names(page.items));
        token = page.continue;
        if (token === undefined) break;
      }
      assert.deepEqual(seen, ["cm-00", "cm-02", "cm-04", "cm-06", "cm-08", "cm-10"]);
    });

    test("a malformed continue token is 400", async () => {
      const store = newStore();
      await assert.rejects(
        store.list(configMaps, { limit: 1, continue: "not!base64" }),
        status(400, "BadRequest", /^invalid continue token: continue key is not valid/),
      );
      const wrongVersion = Buffer.from(JSON.stringify({ v: "v0", rv: 5, start: "a" })).toString("base64url");
      await assert.rejects(
        store.list(configMaps, { limit: 1, continue: wrongVersion }),
        status(400, "BadRequest", /server does not recognize this encoded version/),
      );
    });

    test("a continue token whose revision was compacted is 410 Expired, with a token that continues at the latest revision", async () => {
      const store = newStore();
      for (const name of ["a", "b", "c"]) await store.create(configMaps, configMap("default", name));
      const page1 = await store.list(configMaps, { limit: 1 });
      await store.create(configMaps, configMap("default", "d"));
      const revision = (await store.get(configMaps, "default", "d")).metadata.resourceVersion;
      await client.compact(Number(revision));
      const err = await catchStatus(store.list(configMaps, { limit: 1, continue: page1.continue! }));
      assert.equal(err.status.code, 410);
      assert.equal(err.status.reason, "Expired");
      assert.equal(err.status.message, inconsistentContinueMessage);
      const next = err.status.metadata.continue;
      assert.ok(next, "the 410 carries a token to continue inconsistently");
      const rest = await store.list(configMaps, { limit: 10, continue: next });
      assert.deepEqual(names(rest.items), ["b", "c", "d"]);
    });

    test("a list at an exact resourceVersion reads that revision, and 410 once it was compacted", async () => {
      const store = newStore();
      const a = await store.create(configMaps, configMap("default", "a"));
      await store.create(configMaps, configMap("default", "b"));
      const then = await store.list(configMaps, { resourceVersion: a.metadata.resourceVersion!, resourceVersionMatch: "Exact" });
      assert.deepEqual(names(then.items), ["a"]);
      assert.equal(then.resourceVersion, a.metadata.resourceVersion);
      await client.compact(await client.currentRevision());
      await assert.rejects(
        store.list(configMaps, { resourceVersion: a.metadata.resourceVersion!, resourceVersionMatch: "Exact" }),
        status(410, "Expired", "The resourceVersion for the provided list is too old."),
      );
    });

    test("a list not older than a revision the store has not reached is 504 with the ResourceVersionTooLarge cause", async () => {
      const store = newStore();
      const current = await client.currentRevision();
      const err = await catchStatus(store.list(configMaps, { resourceVersion: String(current + 1000) }));
      assert.equal(err.status.code, 504);
      assert.equal(err.status.details?.causes?.[0]?.reason, "ResourceVersionTooLarge");
    });

    test("guaranteedUpdate applies the change and returns the new resourceVersion", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { n: "0" }));
      const updated = await store.guaranteedUpdate(configMaps, "default", "a", (current) => ({ ...current, data: { n: "1" } }) as KubeObject);
      assert.deepEqual(dataOf(updated), { n: "1" });
      assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      assert.deepEqual(await store.get(configMaps, "default", "a"), updated);
    });

    test("concurrent updates without a resourceVersion are all applied, each on the latest state", async () => {
      const store = newStore();
      await store.create(configMaps, configMap("default", "counter", {}, { n: "0" }));
      const increment = (current: KubeObject): KubeObject => ({ ...current, data: { n: String(Number(dataOf(current)["n"]) + 1) } }) as KubeObject;
      await Promise.all(Array.from({ length: 8 }, () => store.guaranteedUpdate(configMaps, "default", "counter", increment)));
      assert.deepEqual(dataOf(await store.get(configMaps, "default", "counter")), { n: "8" });
    });

    test("an update with a stale resourceVersion is 409 Conflict with Kubernetes' message, and changes nothing", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { v: "1" }));
      const newer = await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { v: "2" } }) as KubeObject);
      await assert.rejects(
        store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { v: "stale" } }) as KubeObject, {
          preconditions: { resourceVersion: created.metadata.resourceVersion! },
        }),
        status(409, "Conflict", `Operation cannot be fulfilled on configmaps "a": ${objectModifiedMessage}`),
      );
      assert.deepEqual(await store.get(configMaps, "default", "a"), newer);
    });

    test("an update that races another writer under a resourceVersion precondition loses with 409", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { v: "1" }));
      let raced = false;
      await assert.rejects(
        store.guaranteedUpdate(
          configMaps,
          "default",
          "a",
          async (current) => {
            if (!raced) {
              raced = true;
              // Another writer gets in between our read and our write.
              await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { v: "other" } }) as KubeObject);
            }
            return { ...current, data: { v: "mine" } } as KubeObject;
          },
          { preconditions: { resourceVersion: created.metadata.resourceVersion! } },
        ),
        status(409, "Conflict", new RegExp(objectModifiedMessage.replace(/[.;]/g, "\\$&"))),
      );
      assert.deepEqual(dataOf(await store.get(configMaps, "default", "a")), { v: "other" });
    });

    test("an update that changes nothing writes nothing and keeps the resourceVersion", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { v: "1" }));
      const same = await store.guaranteedUpdate(configMaps, "default", "a", (c) => c);
      assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
    });

    test("an update with a mismatched uid precondition is 409 naming both uids", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a"));
      await assert.rejects(
        store.guaranteedUpdate(configMaps, "default", "a", (c) => c, { preconditions: { uid: "other-uid" } }),
        status(409, "Conflict", new RegExp(`Precondition failed: UID in precondition: other-uid, UID in object meta: ${created.metadata.uid}`)),
      );
    });

    test("an update can abandon itself by throwing a Status error", async () => {
      const store = newStore();
      await store.create(configMaps, configMap("default", "a"));
      const refusal = new ApiStatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 422, reason: "Invalid", message: "no" });
      await assert.rejects(
        store.guaranteedUpdate(configMaps, "default", "a", () => {
          throw refusal;
        }),
        (err) => err === refusal,
      );
    });

    test("update of a missing object is 404", async () => {
      const store = newStore();
      await assert.rejects(
        store.guaranteedUpdate(configMaps, "default", "ghost", (c) => c),
        status(404, "NotFound"),
      );
    });

    test("delete removes the object and returns its last state at the deletion's resourceVersion", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a", {}, { k: "v" }));
      const deleted = await store.delete(configMaps, "default", "a");
      assert.deepEqual(dataOf(deleted), { k: "v" });
      assert.equal(deleted.metadata.uid, created.metadata.uid);
      assert.ok(Number(deleted.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      await assert.rejects(store.get(configMaps, "default", "a"), status(404, "NotFound"));
      await assert.rejects(store.delete(configMaps, "default", "a"), status(404, "NotFound"));
    });

    test("delete with a uid or resourceVersion precondition that does not hold is 409 and deletes nothing", async () => {
      const store = newStore();
      const created = await store.create(configMaps, configMap("default", "a"));
      await assert.rejects(
        store.delete(configMaps, "default", "a", { preconditions: { uid: "someone-else" } }),
        status(
          409,
          "Conflict",
          new RegExp(
            `StorageError: invalid object, Code: 4, Key: ${store.keys.prefix}core/configmaps/default/a, .*Precondition failed: UID in precondition: someone-else, UID in object meta: ${created.metadata.uid}`,
          ),
        ),
      );
      await store.guaranteedUpdate(configMaps, "default", "a", (c) => ({ ...c, data: { changed: "yes" } }) as KubeObject);
      await assert.rejects(
        store.delete(configMaps, "default", "a", { preconditions: { resourceVersion: created.metadata.resourceVersion! } }),
        status(409, "Conflict", /Precondition failed: ResourceVersion in precondition: /),
      );
      await store.get(configMaps, "default", "a");
      const deleted = await store.delete(configMaps, "default", "a", { preconditions: { uid: created.metadata.uid! } });
      assert.equal(deleted.metadata.name, "a");
    });

    test("delete asks validateDeletion first and keeps the object when it refuses", async () => {
      const store = newStore();
      await store.create(configMaps, configMap("default", "a"));
      const refusal = new ApiStatusError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        code: 409,
        reason: "Conflict",
        message: "in use",
      });
      await assert.rejects(
        store.delete(configMaps, "default", "a", {
          validateDeletion: () => {
            throw refusal;
          },
        }),
        (err) => err === refusal,
      );
      await store.get(configMaps, "default", "a");
    });

    test("names that would escape the key layout are 400", async () => {
      const store = newStore();
      await assert.rejects(store.get(configMaps, "default", "a/b"), status(400, "BadRequest"));
      await assert.rejects(store.get(configMaps, "..", "a"), status(400, "BadRequest"));
    });
  });
}
