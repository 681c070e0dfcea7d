import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "@coxswain/api";
import { podNodeNameIndex, podNodeNameIndexFunc } from "./indexers.js";
import { splitMetaNamespaceKey, InvalidKeyError } from "./keys.js";
import { Indexer, IndexerConflictError, UnknownIndexError, namespaceIndex } from "./store.js";

function pod(name: string, namespace: string, nodeName?: string, resourceVersion = "1"): Pod {
  return { metadata: { name, namespace, resourceVersion }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } };
}

describe("Indexer", () => {
  it("moves an object between index values when it changes, and drops empty values", () => {
    const indexer = new Indexer<Pod>({ [podNodeNameIndex]: podNodeNameIndexFunc });
    indexer.upsert(pod("a", "ns", "n1"));
    indexer.upsert(pod("b", "ns", "n1"));
    indexer.upsert(pod("a", "ns", "n2", "2"));
    assert.deepEqual(indexer.indexKeys(podNodeNameIndex, "n1"), ["ns/b"]);
    assert.deepEqual(indexer.indexKeys(podNodeNameIndex, "n2"), ["ns/a"]);
    indexer.delete("ns/b");
    assert.deepEqual(indexer.indexValues(podNodeNameIndex), ["n2"]);
    assert.deepEqual(indexer.indexValues(namespaceIndex), ["ns"]);
  });

  it("indexes what it already holds when an index is added later", () => {
    const indexer = new Indexer<Pod>();
    indexer.upsert(pod("a", "ns", "n1"));
    indexer.addIndexers({ [podNodeNameIndex]: podNodeNameIndexFunc });
    assert.deepEqual(
      indexer.byIndex(podNodeNameIndex, "n1").map((p) => p.metadata.name),
      ["a"],
    );
  });

  it("refuses another function under a taken index name, and unknown indexes", () => {
    const indexer = new Indexer<Pod>({ [podNodeNameIndex]: podNodeNameIndexFunc });
    assert.throws(() => indexer.addIndexers({ [podNodeNameIndex]: () => ["x"] }), IndexerConflictError);
    assert.throws(() => indexer.byIndex("nope", "x"), UnknownIndexError);
  });

  it("returns lists a caller may change without touching the cache", () => {
    const indexer = new Indexer<Pod>();
    indexer.upsert(pod("a", "ns"));
    const listed = indexer.list();
    listed.pop();
    assert.equal(indexer.size, 1);
  });
});

describe("object keys", () => {
  it("split namespace/name and cluster-scoped names, and reject others", () => {
    assert.deepEqual(splitMetaNamespaceKey("ns/a"), { namespace: "ns", name: "a" });
    assert.deepEqual(splitMetaNamespaceKey("node-1"), { namespace: "", name: "node-1" });
    assert.throws(() => splitMetaNamespaceKey("a/b/c"), InvalidKeyError);
    assert.throws(() => splitMetaNamespaceKey(""), InvalidKeyError);
  });
});
