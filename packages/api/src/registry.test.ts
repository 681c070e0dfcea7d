import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  findResource,
  findResourceByKind,
  invalidObjectError,
  resolveResource,
  resources,
  resourcesInCategory,
  servedGroupVersions,
} from "./registry.js";
import { deployment, job, pod, service } from "./testing/fixtures.js";
import { deepClone } from "./util/json.js";
import type { KubeObject } from "./types/meta/v1.js";
import type { Deployment } from "./types/apps/v1.js";
import type { Pod } from "./types/core/pod.js";
import type { Secret } from "./types/core/config.js";
import type { Service } from "./types/core/service.js";
import type { Job } from "./types/batch/v1.js";
import { generateNameFromPrefix, podQosClass } from "./strategy.js";
import { applyScale, scaleOf } from "./scale.js";
import { hpaV1ToV2, hpaV2ToV1 } from "./conversion/hpa.js";

/** What the apiserver does on create, in its order: default, assign identity, prepare, validate. */
function create(plural: string, group: string, version: string, obj: KubeObject) {
  const r = findResource(group, version, plural)!;
  r.applyDefaults(obj);
  obj.metadata.uid ??= "00000000-0000-4000-8000-000000000001";
  r.prepareForCreate(obj);
  return { resource: r, errors: r.validate(obj) };
}

describe("the resource registry", () => {
  it("serves every kind the issue lists, each at one group/version/plural", () => {
    const served = resources.map((r) => `${r.apiVersion}/${r.kind}`);
    for (const kind of [
      "v1/Namespace",
      "v1/Node",
      "v1/Pod",
      "v1/Service",
      "v1/Endpoints",
      "v1/ConfigMap",
      "v1/Secret",
      "v1/Event",
      "v1/ServiceAccount",
      "v1/Binding",
      "apps/v1/Deployment",
      "apps/v1/ReplicaSet",
      "apps/v1/DaemonSet",
      "batch/v1/Job",
      "networking.k8s.io/v1/Ingress",
      "coordination.k8s.io/v1/Lease",
      "autoscaling/v2/HorizontalPodAutoscaler",
      "autoscaling/v1/HorizontalPodAutoscaler",
      "rbac.authorization.k8s.io/v1/Role",
      "rbac.authorization.k8s.io/v1/ClusterRole",
      "rbac.authorization.k8s.io/v1/RoleBinding",
      "rbac.authorization.k8s.io/v1/ClusterRoleBinding",
      "metrics.k8s.io/v1beta1/NodeMetrics",
      "metrics.k8s.io/v1beta1/PodMetrics",
    ]) {
      assert.ok(served.includes(kind), kind);
    }
    assert.equal(findResourceByKind("apps/v1", "Deployment")?.plural, "deployments");
    assert.equal(findResource("autoscaling", "v1", "horizontalpodautoscalers")?.storageVersion, "v2");
  });

  it("resolves short names, singulars, kinds and group-qualified names like kubectl", () => {
    const cases: [string, string][] = [
      ["po", "v1/pods"],
      ["pod", "v1/pods"],
      ["svc", "v1/services"],
      ["deploy", "apps/v1/deployments"],
      ["Deployment", "apps/v1/deployments"],
      ["deployments.apps", "apps/v1/deployments"],
      ["rs", "apps/v1/replicasets"],
      ["ds", "apps/v1/daemonsets"],
      ["cm", "v1/configmaps"],
      ["ns", "v1/namespaces"],
      ["no", "v1/nodes"],
      ["nodes", "v1/nodes"],
      ["ep", "v1/endpoints"],
      ["ev", "v1/events"],
      ["sa", "v1/serviceaccounts"],
      ["ing", "networking.k8s.io/v1/ingresses"],
      ["hpa", "autoscaling/v2/horizontalpodautoscalers"],
      ["hpa.v1.autoscaling", "autoscaling/v1/horizontalpodautoscalers"],
      ["pods.metrics.k8s.io", "metrics.k8s.io/v1beta1/pods"],
    ];
    for (const [text, expected] of cases) {
      const r = resolveResource(text);
      assert.equal(r ? `${r.apiVersion}/${r.plural}` : undefined, expected, text);
    }
    assert.equal(resolveResource("widgets"), undefined);
  });

  it("puts the workloads kubectl get all shows in the all category", () => {
    assert.deepEqual(
      resourcesInCategory("all")
        .map((r) => r.plural)
        .sort(),
      ["daemonsets", "deployments", "horizontalpodautoscalers", "jobs", "pods", "replicasets", "services"],
    );
  });

  it("describes discovery documents: /api, /apis and resource lists with subresources", () => {
    assert.deepEqual(apiVersions("10.0.0.1:6443").versions, ["v1"]);
    const groups = apiGroupList();
    assert.deepEqual(
      groups.groups.map((g) => g.name),
      ["apps", "batch", "networking.k8s.io", "coordination.k8s.io", "autoscaling", "rbac.authorization.k8s.io", "metrics.k8s.io"],
    );
    const autoscaling = apiGroupDocument("autoscaling")!;
    assert.deepEqual(autoscaling.preferredVersion, { groupVersion: "autoscaling/v2", version: "v2" });
    assert.deepEqual(
      autoscaling.versions.map((v) => v.version),
      ["v2", "v1"],
    );
    assert.equal(apiGroupDocument(""), undefined);
    const core = apiResourceList("", "v1")!;
    assert.equal(core.groupVersion, "v1");
    const pods = core.resources.find((r) => r.name === "pods")!;
    assert.deepEqual(pods, {
      name: "pods",
      singularName: "pod",
      namespaced: true,
      kind: "Pod",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      shortNames: ["po"],
      categories: ["all"],
    });
    assert.deepEqual(
      core.resources.filter((r) => r.name.startsWith("pods/")).map((r) => `${r.name}:${r.kind}:${r.verbs.join(",")}`),
      ["pods/status:Pod:get,patch,update", "pods/binding:Binding:create", "pods/log:Pod:get", "pods/exec:PodExecOptions:create,get"],
    );
    const scale = apiResourceList("apps", "v1")!.resources.find((r) => r.name === "deployments/scale")!;
    assert.deepEqual([scale.kind, scale.group, scale.version], ["Scale", "autoscaling", "v1"]);
    assert.equal(apiResourceList("apps", "v2"), undefined);
    assert.equal(servedGroupVersions()[0]?.group, "");
  });
});

describe("create and update through the registry hooks", () => {
  it("creates a deployment with defaults, an empty status and generation 1", () => {
    const d = deployment();
    (d as Deployment & { status: object }).status = { replicas: 99 };
    const { errors } = create("deployments", "apps", "v1", d);
    assert.deepEqual(errors, []);
    assert.equal(d.metadata.generation, 1);
    assert.deepEqual(d.status, {});
    assert.equal(d.spec!.revisionHistoryLimit, 10);
  });

  it("bumps generation on a spec change only, and keeps status on a main-resource update", () => {
    const old = deployment();
    const r = create("deployments", "apps", "v1", old).resource;
    old.status = { replicas: 2, readyReplicas: 2 };
    const relabelled = deepClone(old);
    relabelled.metadata.labels = { team: "a" };
    relabelled.status = {};
    r.prepareForUpdate(relabelled, old);
    assert.equal(relabelled.metadata.generation, 1);
    assert.deepEqual(relabelled.status, { replicas: 2, readyReplicas: 2 });
    const scaled = deepClone(old);
    scaled.spec!.replicas = 5;
    r.prepareForUpdate(scaled, old);
    assert.equal(scaled.metadata.generation, 2);
    assert.deepEqual(r.validateUpdate(scaled, old), []);
  });

  it("writes only status through the status subresource", () => {
    const old = deployment();
    const r = create("deployments", "apps", "v1", old).resource;
    const attempt = deepClone(old);
    attempt.spec!.replicas = 10;
    attempt.status = { replicas: 2, readyReplicas: 1 };
    const stored = r.prepareForStatusUpdate(attempt, old) as Deployment;
    assert.equal(stored.spec!.replicas, 2);
    assert.deepEqual(stored.status, { replicas: 2, readyReplicas: 1 });
  });

  it("starts a pod Pending with its QoS class", () => {
    const p = pod();
    const { errors } = create("pods", "", "v1", p);
    assert.deepEqual(errors, []);
    assert.deepEqual(p.status, { phase: "Pending", qosClass: "BestEffort" });
    const guaranteed: Pod["spec"] = { containers: [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }] };
    assert.equal(podQosClass(guaranteed), "Guaranteed");
    assert.equal(podQosClass({ containers: [{ name: "a", resources: { requests: { cpu: "100m" } } }] }), "Burstable");
  });

  it("keeps a node's reported status on create and gives namespaces their finalizer", () => {
    const node = { metadata: { name: "n1" }, status: { capacity: { cpu: "2" } } };
    assert.deepEqual(create("nodes", "", "v1", node).errors, []);
    assert.deepEqual(node.status, { capacity: { cpu: "2" }, allocatable: { cpu: "2" } });
    const ns = { metadata: { name: "team" } } as KubeObject & { spec?: object; status?: object };
    create("namespaces", "", "v1", ns);
    assert.deepEqual(ns.spec, { finalizers: ["kubernetes"] });
    assert.deepEqual(ns.status, { phase: "Active" });
  });

  it("encodes a secret's stringData into data", () => {
    const secret: Secret = { metadata: { name: "s", namespace: "default" }, data: { a: "YQ==" }, stringData: { b: "hello" } };
    const { errors } = create("secrets", "", "v1", secret);
    assert.deepEqual(errors, []);
    assert.deepEqual(secret, {
      metadata: { name: "s", namespace: "default", uid: "00000000-0000-4000-8000-000000000001" },
      data: { a: "YQ==", b: "aGVsbG8=" },
      type: "Opaque",
    });
  });

  it("keeps a service's allocated cluster IP and node ports when a replace leaves them out", () => {
    const old: Service = { ...service(), spec: { ...service().spec, type: "NodePort", clusterIP: "10.96.0.5", clusterIPs: ["10.96.0.5"] } };
    old.spec!.ports![0]!.nodePort = 30080;
    const r = create("services", "", "v1", old).resource;
    const replaced: Service = { ...service(), spec: { ...service().spec, type: "NodePort" } };
    r.applyDefaults(replaced);
    replaced.metadata.uid = old.metadata.uid!;
    r.prepareForUpdate(replaced, old);
    assert.equal(replaced.spec!.clusterIP, "10.96.0.5");
    assert.equal(replaced.spec!.ports![0]!.nodePort, 30080);
    assert.deepEqual(r.validateUpdate(replaced, old), []);
  });

  it("generates a job's selector from its uid", () => {
    const j: Job = job();
    const { errors } = create("jobs", "batch", "v1", j);
    assert.deepEqual(errors, []);
    assert.equal(j.spec!.template.metadata!.labels!["batch.kubernetes.io/job-name"], "pi");
    assert.deepEqual(j.spec!.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": j.metadata.uid } });
  });

  it("turns validation errors into the 422 ApiStatusError", () => {
    const d = deployment("x");
    d.spec!.replicas = -1;
    const { resource, errors } = create("deployments", "apps", "v1", d);
    const error = invalidObjectError(resource, "x", errors);
    assert.equal(error.code, 422);
    assert.equal(error.message, 'Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  });

  it("has a printer, field selectors and a patch schema for every resource", () => {
    for (const r of resources) {
      assert.ok(r.printer.columns.length >= 2, r.kind);
      assert.ok("metadata.name" in r.fieldSelectors, r.kind);
      assert.ok(r.patchSchema.fields?.metadata, r.kind);
    }
  });
});

describe("subresources and conversion", () => {
  it("reads and writes replicas through Scale", () => {
    const d = deployment();
    d.metadata.uid = "u";
    d.status = { replicas: 2 };
    const scale = scaleOf(d);
    assert.deepEqual(scale, {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "web", namespace: "default", uid: "u" },
      spec: { replicas: 2 },
      status: { replicas: 2, selector: "app=web" },
    });
    const scaled = applyScale(d, { ...scale, spec: { replicas: 7 } });
    assert.equal(scaled.spec!.replicas, 7);
    assert.equal(d.spec!.replicas, 2);
  });

  it("converts an HPA between v1 and v2, keeping v2-only metrics on a v1 write", () => {
    const v2 = {
      apiVersion: "autoscaling/v2" as const,
      kind: "HorizontalPodAutoscaler" as const,
      metadata: { name: "h", namespace: "default" },
      spec: {
        scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          { type: "Resource" as const, resource: { name: "cpu", target: { type: "Utilization" as const, averageUtilization: 70 } } },
          { type: "Resource" as const, resource: { name: "memory", target: { type: "AverageValue" as const, averageValue: "100Mi" } } },
        ],
      },
      status: {
        currentReplicas: 2,
        desiredReplicas: 3,
        currentMetrics: [{ type: "Resource" as const, resource: { name: "cpu", current: { averageUtilization: 55 } } }],
      },
    };
    const v1 = hpaV2ToV1(v2);
    const servedAsV1 = findResource("autoscaling", "v1", "horizontalpodautoscalers")!;
    assert.deepEqual(servedAsV1.fromStorageVersion(v2), v1);
    assert.deepEqual((servedAsV1.toStorageVersion(v1, v2) as typeof v2).spec, v2.spec);
    assert.deepEqual(v1.spec, {
      scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" },
      minReplicas: 1,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 70,
    });
    assert.equal(v1.status?.currentCPUUtilizationPercentage, 55);
    v1.spec.targetCPUUtilizationPercentage = 60;
    const back = hpaV1ToV2(v1, v2);
    assert.deepEqual(
      back.spec!.metrics!.map((m) => `${m.resource!.name}:${m.resource!.target.averageUtilization ?? m.resource!.target.averageValue}`),
      ["cpu:60", "memory:100Mi"],
    );
  });

  it("generates names from a prefix with a five-character suffix", () => {
    let i = 0;
    const name = generateNameFromPrefix("web-", () => i++ % 27);
    assert.equal(name, "web-bcdfg");
    assert.equal(generateNameFromPrefix("x".repeat(70), () => 0).length, 63);
  });
});
