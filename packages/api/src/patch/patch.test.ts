import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { applyMergePatch } from "./merge.js";
import { applyJsonPatch } from "./json.js";
import { applyStrategicMergePatch } from "./strategic.js";
import { applyPatch, patchTypeOf } from "./apply.js";
import { PatchError } from "./errors.js";
import { patchSchemaFor } from "./schema.js";
import type { JsonObject } from "../util/json.js";

describe("JSON merge patch (RFC 7386)", () => {
  it("passes the RFC's examples", () => {
    const examples: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [
        ["a", "b"],
        ["c", "d"],
        ["c", "d"],
      ],
      [{ a: "b" }, ["c"], ["c"]],
      [{ a: "foo" }, null, null],
      [{ a: "foo" }, "bar", "bar"],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, expected] of examples) assert.deepEqual(applyMergePatch(target as never, patch as never), expected, JSON.stringify(patch));
  });

  it("does not modify its inputs", () => {
    const target = { a: { b: 1 } };
    applyMergePatch(target, { a: { b: 2 } });
    assert.deepEqual(target, { a: { b: 1 } });
  });
});

describe("JSON patch (RFC 6902)", () => {
  const doc = { metadata: { labels: { app: "web" } }, spec: { replicas: 1, containers: [{ name: "a" }] } };

  it("applies add, replace, remove, move, copy and test", () => {
    const result = applyJsonPatch(doc, [
      { op: "test", path: "/spec/replicas", value: 1 },
      { op: "replace", path: "/spec/replicas", value: 3 },
      { op: "add", path: "/metadata/labels/tier", value: "front" },
      { op: "add", path: "/spec/containers/-", value: { name: "b" } },
      { op: "copy", from: "/metadata/labels/app", path: "/metadata/labels/copy" },
      { op: "move", from: "/metadata/labels/copy", path: "/metadata/labels/moved" },
      { op: "remove", path: "/metadata/labels/app" },
    ]);
    assert.deepEqual(result, { metadata: { labels: { tier: "front", moved: "web" } }, spec: { replicas: 3, containers: [{ name: "a" }, { name: "b" }] } });
    assert.deepEqual(doc.spec.replicas, 1, "the original is untouched");
  });

  it("fails a test operation with 422 and applies nothing", () => {
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "test", path: "/spec/replicas", value: 2 }]),
      (e: unknown) => e instanceof PatchError && e.statusCode === 422 && /test failed/.test(e.message),
    );
  });

  it("rejects malformed operations with 400 and missing paths with 422", () => {
    assert.throws(
      () => applyJsonPatch(doc, { op: "add" }),
      (e: unknown) => e instanceof PatchError && e.statusCode === 400,
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "frobnicate", path: "/a" }]),
      (e: unknown) => e instanceof PatchError && e.statusCode === 400,
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "add", path: "/spec/missing/x", value: 1 }]),
      (e: unknown) => e instanceof PatchError && e.statusCode === 422,
    );
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "remove", path: "/spec/nothing" }]),
      (e: unknown) => e instanceof PatchError && e.statusCode === 422,
    );
  });
});

const deploymentSchema = patchSchemaFor("Deployment");
const podSchema = patchSchemaFor("Pod");
const smp = (original: unknown, patch: unknown, kind = "Deployment"): JsonObject =>
  applyStrategicMergePatch(original as JsonObject, patch as JsonObject, patchSchemaFor(kind));

/** A live Deployment as the server stores it after the first `kubectl apply` and a sidecar injector. */
function liveDeployment(): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "web",
      namespace: "default",
      labels: { app: "web" },
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", "deployment.kubernetes.io/revision": "1" },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "web", tier: "front" } },
        spec: {
          containers: [
            {
              name: "web",
              image: "nginx:1.25",
              env: [
                { name: "A", value: "1" },
                { name: "B", value: "2" },
              ],
              ports: [{ containerPort: 80, protocol: "TCP" }],
              imagePullPolicy: "IfNotPresent",
            },
            { name: "sidecar", image: "proxy:1" },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
          tolerations: [{ key: "a", operator: "Exists" }],
          restartPolicy: "Always",
        },
      },
    },
    status: { replicas: 2 },
  };
}

describe("strategic merge patch: what kubectl apply sends", () => {
  it("changes an image, deletes an env var and adds a port, keeping server-added containers", () => {
    // kubectl apply after editing the manifest: image 1.25 → 1.26, env B removed, port 443 added.
    const patch = {
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"new":true}\n' } },
      spec: {
        template: {
          spec: {
            "$setElementOrder/containers": [{ name: "web" }],
            containers: [
              {
                "$setElementOrder/env": [{ name: "A" }],
                "$setElementOrder/ports": [{ containerPort: 80 }, { containerPort: 443 }],
                env: [{ $patch: "delete", name: "B" }],
                image: "nginx:1.26",
                name: "web",
                ports: [{ containerPort: 443 }],
              },
            ],
          },
        },
      },
    };
    const result = smp(liveDeployment(), patch);
    const spec = (result.spec as JsonObject).template as JsonObject;
    assert.deepEqual((spec.spec as JsonObject).containers, [
      {
        name: "web",
        image: "nginx:1.26",
        env: [{ name: "A", value: "1" }],
        ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }],
        imagePullPolicy: "IfNotPresent",
      },
      { name: "sidecar", image: "proxy:1" },
    ]);
    assert.equal(
      (result.metadata as JsonObject & { annotations: JsonObject }).annotations["kubectl.kubernetes.io/last-applied-configuration"],
      '{"new":true}\n',
    );
    assert.equal(
      (result.metadata as JsonObject & { annotations: JsonObject }).annotations["deployment.kubernetes.io/revision"],
      "1",
      "annotations kubectl did not manage stay",
    );
    assert.deepEqual(result.status, { replicas: 2 });
  });

  it("removes a label with null and a container with a delete directive", () => {
    const patch = {
      spec: {
        template: {
          metadata: { labels: { tier: null } },
          spec: { "$setElementOrder/containers": [{ name: "web" }], containers: [{ $patch: "delete", name: "sidecar" }] },
        },
      },
    };
    const result = smp(liveDeployment(), patch) as { spec: { template: { metadata: JsonObject; spec: { containers: { name: string }[] } } } };
    assert.deepEqual(result.spec.template.metadata, { labels: { app: "web" } });
    assert.deepEqual(
      result.spec.template.spec.containers.map((c) => c.name),
      ["web"],
    );
  });

  it("switches a volume's source with $retainKeys", () => {
    const patch = {
      spec: {
        template: {
          spec: { "$setElementOrder/volumes": [{ name: "data" }], volumes: [{ $retainKeys: ["configMap", "name"], configMap: { name: "cfg" }, name: "data" }] },
        },
      },
    };
    const result = smp(liveDeployment(), patch) as { spec: { template: { spec: { volumes: unknown } } } };
    assert.deepEqual(result.spec.template.spec.volumes, [{ name: "data", configMap: { name: "cfg" } }]);
  });

  it("switches the deployment strategy to Recreate with $retainKeys", () => {
    const result = smp(liveDeployment(), { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: null, type: "Recreate" } } }) as {
      spec: { strategy: unknown };
    };
    assert.deepEqual(result.spec.strategy, { type: "Recreate" });
  });

  it("refuses a $retainKeys that leaves out a key the patch sets", () => {
    assert.throws(() => smp(liveDeployment(), { spec: { strategy: { $retainKeys: ["type"], rollingUpdate: { maxSurge: 1 } } } }), PatchError);
  });

  it("replaces a list of tolerations, which has no merge strategy", () => {
    const result = smp(liveDeployment(), { spec: { template: { spec: { tolerations: [{ key: "b", operator: "Exists" }] } } } }) as {
      spec: { template: { spec: { tolerations: unknown } } };
    };
    assert.deepEqual(result.spec.template.spec.tolerations, [{ key: "b", operator: "Exists" }]);
  });
});

describe("strategic merge patch: what kubectl edit and patch send", () => {
  it("reorders containers with $setElementOrder alone", () => {
    const result = smp(liveDeployment(), { spec: { template: { spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "web" }] } } } }) as {
      spec: { template: { spec: { containers: { name: string }[] } } };
    };
    assert.deepEqual(
      result.spec.template.spec.containers.map((c) => c.name),
      ["sidecar", "web"],
    );
  });

  it("merges a container by name and puts a new one first when no order is given, as Kubernetes does", () => {
    const result = smp(liveDeployment(), {
      spec: {
        template: {
          spec: {
            containers: [
              { name: "web", image: "nginx:1.27" },
              { name: "debug", image: "busybox" },
            ],
          },
        },
      },
    }) as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    };
    assert.deepEqual(
      result.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
      ["web=nginx:1.27", "debug=busybox", "sidecar=proxy:1"],
    );
  });

  it("replaces a whole map or list with $patch: replace and empties a map with $patch: delete", () => {
    const labels = smp(liveDeployment(), { metadata: { labels: { $patch: "replace", team: "a" } } }) as { metadata: { labels: unknown } };
    assert.deepEqual(labels.metadata.labels, { team: "a" });
    const list = smp(liveDeployment(), { spec: { template: { spec: { containers: [{ name: "only", image: "x" }, { $patch: "replace" }] } } } }) as {
      spec: { template: { spec: { containers: unknown } } };
    };
    assert.deepEqual(list.spec.template.spec.containers, [{ name: "only", image: "x" }]);
    const emptied = smp(liveDeployment(), { spec: { template: { metadata: { $patch: "delete" } } } }) as { spec: { template: { metadata: unknown } } };
    assert.deepEqual(emptied.spec.template.metadata, {});
  });

  it("adds and removes finalizers as a set", () => {
    const obj = { metadata: { name: "a", finalizers: ["example.com/a", "example.com/b"] } };
    assert.deepEqual((smp(obj, { metadata: { finalizers: ["example.com/c", "example.com/a"] } }, "ConfigMap").metadata as JsonObject).finalizers, [
      "example.com/c",
      "example.com/a",
      "example.com/b",
    ]);
    const removed = smp(
      obj,
      { metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/a"], "$setElementOrder/finalizers": ["example.com/b"] } },
      "ConfigMap",
    );
    assert.deepEqual((removed.metadata as JsonObject).finalizers, ["example.com/b"]);
  });

  it("merges status conditions by type, as the kubelet's status patches do", () => {
    const pod = {
      metadata: { name: "p" },
      status: {
        phase: "Pending",
        conditions: [
          { type: "PodScheduled", status: "True" },
          { type: "Ready", status: "False" },
        ],
      },
    };
    const result = smp(
      pod,
      {
        status: {
          phase: "Running",
          conditions: [
            { type: "Ready", status: "True" },
            { type: "Initialized", status: "True" },
          ],
        },
      },
      "Pod",
    ) as { status: { phase: string; conditions: { type: string; status: string }[] } };
    assert.equal(result.status.phase, "Running");
    assert.deepEqual(
      result.status.conditions.map((c) => `${c.type}=${c.status}`),
      ["PodScheduled=True", "Ready=True", "Initialized=True"],
    );
  });

  it("merges owner references by uid and service ports by port", () => {
    const owned = { metadata: { name: "p", ownerReferences: [{ uid: "1", name: "a", kind: "ReplicaSet", apiVersion: "apps/v1" }] } };
    const patched = smp(owned, { metadata: { ownerReferences: [{ uid: "1", controller: true }] } }, "Pod") as { metadata: { ownerReferences: JsonObject[] } };
    assert.deepEqual(patched.metadata.ownerReferences, [{ uid: "1", name: "a", kind: "ReplicaSet", apiVersion: "apps/v1", controller: true }]);
    const svc = { metadata: { name: "s" }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] } };
    const svcPatched = smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, "Service") as { spec: { ports: unknown } };
    assert.deepEqual(svcPatched.spec.ports, [{ name: "http", port: 80, targetPort: 9090 }]);
  });

  it("falls back to merge-patch semantics where the schema says nothing", () => {
    const cm = { metadata: { name: "c" }, data: { a: "1", b: "2" }, extra: [1, 2] };
    assert.deepEqual(smp(cm, { data: { a: null, c: "3" }, extra: [3] }, "ConfigMap"), { metadata: { name: "c" }, data: { b: "2", c: "3" }, extra: [3] });
  });

  it("processes directives inside values the original does not have", () => {
    const bare = { metadata: { name: "p" }, spec: {} };
    const result = smp(
      bare,
      {
        spec: {
          "$setElementOrder/containers": [{ name: "a" }],
          containers: [{ name: "a", image: "x", "$setElementOrder/env": [{ name: "E" }], env: [{ name: "E", value: "1" }] }],
        },
      },
      "Pod",
    );
    assert.deepEqual(result.spec, { containers: [{ name: "a", image: "x", env: [{ name: "E", value: "1" }] }] });
  });

  it("rejects a merging list element without its merge key, and a non-object patch", () => {
    assert.throws(
      () => smp(liveDeployment(), { spec: { template: { spec: { containers: [{ image: "x" }] } } } }),
      (e: unknown) => e instanceof PatchError && /does not contain declared merge key: name/.test(e.message),
    );
    assert.throws(() => applyStrategicMergePatch({}, [] as never, podSchema), PatchError);
    assert.throws(() => smp(liveDeployment(), { metadata: { $patch: "explode" } }), /Unknown patch type/);
  });

  it("does not modify its inputs", () => {
    const live = liveDeployment();
    const patch = { spec: { replicas: 5 } };
    applyStrategicMergePatch(live, patch, deploymentSchema);
    assert.equal((live.spec as JsonObject).replicas, 2);
    assert.deepEqual(patch, { spec: { replicas: 5 } });
  });
});

describe("patch dispatch", () => {
  it("picks the patch type from the Content-Type", () => {
    assert.equal(patchTypeOf("application/strategic-merge-patch+json; charset=utf-8"), "strategic");
    assert.equal(patchTypeOf("application/merge-patch+json"), "merge");
    assert.equal(patchTypeOf("application/json-patch+json"), "json");
    assert.equal(patchTypeOf("application/apply-patch+yaml"), "apply");
    assert.equal(patchTypeOf("application/json"), undefined);
  });

  it("applies each type and refuses server-side apply", () => {
    const original = { metadata: { name: "a" }, spec: { replicas: 1 } };
    assert.deepEqual(applyPatch("merge", original, { spec: { replicas: 2 } }, deploymentSchema), { metadata: { name: "a" }, spec: { replicas: 2 } });
    assert.deepEqual(applyPatch("json", original, [{ op: "replace", path: "/spec/replicas", value: 3 }], deploymentSchema), {
      metadata: { name: "a" },
      spec: { replicas: 3 },
    });
    assert.throws(() => applyPatch("apply", original, {}, deploymentSchema), PatchError);
    assert.throws(
      () => applyPatch("json", original, [{ op: "replace", path: "", value: 3 }], deploymentSchema),
      (e: unknown) => e instanceof PatchError && e.statusCode === 422,
    );
  });
});
