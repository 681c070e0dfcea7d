import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findResourceByKind, resources } from "../registry.js";
import { deployment, job, pod, service } from "../testing/fixtures.js";
import type { KubeObject } from "../types/meta/v1.js";
import { bodyDefinitionOf, definitionNameOf, referencedDefinitions, schemaDefinitions } from "./definitions.js";
import { fieldPatchExtensions } from "./patch-meta.js";
import { pruneUnknownFields, unknownFieldPaths } from "./walk.js";

/** The definition of an object's kind, as the registry serves it. */
function definitionOf(obj: KubeObject): string {
  const r = findResourceByKind(obj.apiVersion ?? "", obj.kind ?? "");
  assert.ok(r, `${obj.apiVersion} ${obj.kind} is not served`);
  const name = definitionNameOf(r);
  assert.ok(name);
  return name;
}

describe("schema description", () => {
  it("describes every served kind and its List", () => {
    for (const r of resources) {
      const name = definitionNameOf(r);
      assert.ok(name !== undefined && schemaDefinitions.get(name)?.properties, `${r.apiVersion} ${r.kind}`);
      assert.deepEqual(Object.keys(schemaDefinitions.get(`${name}List`)?.properties ?? {}), ["apiVersion", "kind", "metadata", "items"]);
      for (const field of ["apiVersion", "kind", "metadata"]) assert.ok(schemaDefinitions.get(name)?.properties?.[field], `${name} lacks ${field}`);
    }
  });

  it("names definitions as Kubernetes does", () => {
    assert.equal(definitionNameOf({ group: "", version: "v1", kind: "Pod" }), "io.k8s.api.core.v1.Pod");
    assert.equal(definitionNameOf({ group: "rbac.authorization.k8s.io", version: "v1", kind: "Role" }), "io.k8s.api.rbac.v1.Role");
    assert.equal(definitionNameOf({ group: "metrics.k8s.io", version: "v1beta1", kind: "PodMetrics" }), "io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics");
    assert.equal(definitionNameOf({ group: "example.com", version: "v1", kind: "Widget" }), undefined);
  });

  it("resolves every reference of every definition", () => {
    const all = referencedDefinitions(schemaDefinitions.keys());
    assert.equal(all.length, schemaDefinitions.size);
  });

  it("gives subresource bodies their own kinds", () => {
    const deployments = resources.find((r) => r.plural === "deployments");
    const pods = resources.find((r) => r.plural === "pods" && r.group === "");
    assert.ok(deployments && pods);
    assert.equal(bodyDefinitionOf(deployments, "scale"), "io.k8s.api.autoscaling.v1.Scale");
    assert.equal(bodyDefinitionOf(deployments, "status"), "io.k8s.api.apps.v1.Deployment");
    assert.equal(bodyDefinitionOf(pods, "binding"), "io.k8s.api.core.v1.Binding");
    assert.equal(bodyDefinitionOf(pods, "log"), undefined);
  });

  it("takes patch strategies and merge keys from the registry's patch schemas", () => {
    assert.deepEqual(fieldPatchExtensions("io.k8s.api.core.v1.PodSpec", "containers"), { strategy: "merge", mergeKey: "name" });
    assert.deepEqual(fieldPatchExtensions("io.k8s.api.core.v1.PodSpec", "volumes"), { strategy: "merge,retainKeys", mergeKey: "name" });
    assert.deepEqual(fieldPatchExtensions("io.k8s.api.core.v1.Container", "volumeMounts"), { strategy: "merge", mergeKey: "mountPath" });
    assert.deepEqual(fieldPatchExtensions("io.k8s.api.core.v1.ServiceSpec", "ports"), { strategy: "merge", mergeKey: "port" });
    assert.deepEqual(fieldPatchExtensions("io.k8s.api.apps.v1.DeploymentSpec", "strategy"), { strategy: "retainKeys" });
    assert.deepEqual(fieldPatchExtensions("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences"), { strategy: "merge", mergeKey: "uid" });
    assert.equal(fieldPatchExtensions("io.k8s.api.core.v1.PodSpec", "tolerations"), undefined);
  });
});

describe("unknown fields", () => {
  it("finds none in the test fixtures, before or after defaulting and create preparation", () => {
    for (const make of [pod, deployment, service, job]) {
      const obj = make() as unknown as KubeObject;
      const name = definitionOf(obj);
      assert.deepEqual(unknownFieldPaths(name, obj), [], `${obj.kind} as written`);
      const r = findResourceByKind(obj.apiVersion ?? "", obj.kind ?? "");
      r?.applyDefaults(obj);
      obj.metadata.uid = "00000000-0000-4000-8000-000000000000";
      r?.prepareForCreate(obj);
      assert.deepEqual(unknownFieldPaths(name, obj), [], `${obj.kind} defaulted`);
    }
  });

  it("finds none in a Deployment using the wider Kubernetes API (fields Coxswain stores without using)", () => {
    const obj = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", uid: "u", controller: true }] },
      spec: {
        selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: {
            os: { name: "linux" },
            dnsConfig: { options: [{ name: "ndots", value: "2" }] },
            securityContext: { seccompProfile: { type: "RuntimeDefault" }, fsGroupChangePolicy: "OnRootMismatch" },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", matchLabelKeys: ["pod-template-hash"] }],
            affinity: {
              podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } }] },
            },
            volumes: [
              { name: "tok", projected: { sources: [{ serviceAccountToken: { path: "token", expirationSeconds: 3600 } }] } },
              {
                name: "scratch",
                ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } },
              },
            ],
            initContainers: [{ name: "sidecar", image: "envoy", restartPolicy: "Always" }],
            containers: [
              {
                name: "web",
                image: "nginx",
                env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                resizePolicy: [{ resourceName: "cpu", restartPolicy: "NotRequired" }],
                startupProbe: { grpc: { port: 9000 }, failureThreshold: 30 },
                lifecycle: { preStop: { sleep: { seconds: 5 } } },
                securityContext: { capabilities: { drop: ["ALL"] }, appArmorProfile: { type: "RuntimeDefault" } },
                volumeMounts: [{ name: "tok", mountPath: "/var/run/tok", recursiveReadOnly: "IfPossible" }],
              },
            ],
          },
        },
      },
    };
    assert.deepEqual(unknownFieldPaths("io.k8s.api.apps.v1.Deployment", obj), []);
  });

  it("prunes unknown fields in place and says which", () => {
    const obj = { apiVersion: "v1", kind: "Service", metadata: { name: "s", foo: 1 }, spec: { ports: [{ port: 80, bar: 2 }] }, baz: 3 };
    assert.deepEqual(pruneUnknownFields("io.k8s.api.core.v1.Service", obj), ["metadata.foo", "spec.ports[0].bar", "baz"]);
    assert.deepEqual(obj, { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80 }] } });
  });
});
