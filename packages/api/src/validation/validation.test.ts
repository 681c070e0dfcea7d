import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { errorString, type FieldError } from "./field.js";
import { validatePod, validatePodUpdate } from "./pod.js";
import { validateConfigMap, validateConfigMapUpdate, validateSecret, validateService, validateServiceUpdate, validateNamespace } from "./core.js";
import { validateDaemonSet, validateDeployment, validateDeploymentUpdate, validateJob, validateJobUpdate, validateReplicaSet } from "./workloads.js";
import { validateHorizontalPodAutoscaler, validateIngress, validateRole, validateRoleBindingUpdate } from "./other.js";
import { validateObjectMeta } from "./common.js";
import { nameIsDnsSubdomain } from "./names.js";
import { defaultDeployment, defaultJob, defaultPod, defaultService } from "../defaulting/index.js";
import { deployment, job, pod, service } from "../testing/fixtures.js";
import { generateJobSelector } from "../strategy.js";
import { deepClone } from "../util/json.js";

const messages = (errors: FieldError[]): string[] => errors.map(errorString);

function defaultedPod() {
  const p = pod();
  defaultPod(p);
  return p;
}

describe("object metadata validation", () => {
  it("requires a name or generateName and a namespace for namespaced kinds", () => {
    assert.deepEqual(messages(validateObjectMeta({}, { namespaced: true, validateName: nameIsDnsSubdomain })), [
      "metadata.name: Required value: name or generateName is required",
      "metadata.namespace: Required value",
    ]);
  });

  it("forbids a namespace on cluster-scoped kinds", () => {
    assert.deepEqual(messages(validateNamespace({ metadata: { name: "a", namespace: "b" } })), ["metadata.namespace: Forbidden: not allowed on this type"]);
  });

  it("reports bad names, label keys, label values and finalizers", () => {
    const errors = messages(
      validateObjectMeta(
        { name: "Web", namespace: "default", labels: { "bad key!": "ok", good: "bad value!" }, finalizers: ["nodomain"] },
        { namespaced: true, validateName: nameIsDnsSubdomain },
      ),
    );
    assert.equal(errors.length, 4);
    assert.match(errors[0]!, /^metadata\.name: Invalid value: "Web": a lowercase RFC 1123 subdomain/);
    assert.match(errors[1]!, /^metadata\.labels: Invalid value: "bad key!": name part must consist of/);
    assert.match(errors[2]!, /^metadata\.labels: Invalid value: "bad value!": a valid label must be/);
    assert.equal(errors[3], 'metadata.finalizers: Invalid value: "nodomain": name is neither a standard finalizer name nor is it fully qualified');
  });

  it("refuses two controller owner references", () => {
    const owner = { apiVersion: "apps/v1", kind: "ReplicaSet", uid: "u", controller: true };
    const errors = messages(
      validateObjectMeta(
        {
          name: "a",
          namespace: "d",
          ownerReferences: [
            { ...owner, name: "a" },
            { ...owner, name: "b", uid: "v" },
          ],
        },
        { namespaced: true, validateName: nameIsDnsSubdomain },
      ),
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /Only one reference can have Controller set to true/);
  });
});

describe("pod validation", () => {
  it("accepts a defaulted pod", () => {
    assert.deepEqual(validatePod(defaultedPod()), []);
  });

  it("requires containers, and a name and image in each", () => {
    const p = defaultedPod();
    p.spec!.containers = [];
    assert.ok(messages(validatePod(p)).includes("spec.containers: Required value"));
    const q = defaultedPod();
    q.spec!.containers = [{ name: "", imagePullPolicy: "Always", terminationMessagePolicy: "File" }];
    assert.deepEqual(messages(validatePod(q)), ["spec.containers[0].name: Required value", "spec.containers[0].image: Required value"]);
  });

  it("rejects duplicate container names, ports out of range and unknown volumes", () => {
    const p = defaultedPod();
    const c = p.spec!.containers[0]!;
    p.spec!.containers.push({ ...deepClone(c), ports: [{ containerPort: 70000, protocol: "TCP" }], volumeMounts: [{ name: "data", mountPath: "/data" }] });
    assert.deepEqual(messages(validatePod(p)), [
      "spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.containers[1].volumeMounts[0].name: Not found: "data"',
      'spec.containers[1].name: Duplicate value: "web"',
    ]);
  });

  it("checks env sources, resources and restart policy", () => {
    const p = defaultedPod();
    const c = p.spec!.containers[0]!;
    c.env = [
      { name: "A", value: "x", valueFrom: { configMapKeyRef: { name: "cm", key: "k" } } },
      { name: "B", valueFrom: { secretKeyRef: { name: "", key: "" } } },
    ];
    c.resources = { requests: { cpu: "2" }, limits: { cpu: "1" } };
    p.spec!.restartPolicy = "Sometimes" as "Always";
    assert.deepEqual(messages(validatePod(p)), [
      'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
      "spec.containers[0].env[1].valueFrom.secretKeyRef.name: Required value",
      "spec.containers[0].env[1].valueFrom.secretKeyRef.key: Required value",
      'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  it("requires exactly one volume source", () => {
    const p = defaultedPod();
    p.spec!.volumes = [{ name: "v" }, { name: "w", emptyDir: {}, hostPath: { path: "/x" } }];
    assert.deepEqual(messages(validatePod(p)), [
      "spec.volumes[0]: Required value: must specify a volume type",
      "spec.volumes[1].hostPath: Forbidden: may not specify more than 1 volume type",
    ]);
  });

  it("checks tolerations and node affinity", () => {
    const p = defaultedPod();
    p.spec!.tolerations = [
      { operator: "Equal", value: "x" },
      { key: "k", operator: "Exists", value: "v" },
      { key: "k", tolerationSeconds: 5, effect: "NoSchedule" },
    ];
    p.spec!.affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In" }] }] } },
    };
    assert.deepEqual(messages(validatePod(p)), [
      'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
      "spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    ]);
  });

  it("lets an update change images, lower the deadline and add tolerations only", () => {
    const old = defaultedPod();
    old.metadata.uid = "u";
    const allowed = deepClone(old);
    allowed.spec!.containers[0]!.image = "nginx:1.26";
    allowed.spec!.activeDeadlineSeconds = 100;
    allowed.spec!.tolerations!.push({ key: "dedicated", operator: "Exists", effect: "NoSchedule" });
    assert.deepEqual(validatePodUpdate(allowed, old), []);
    const forbidden = deepClone(old);
    forbidden.spec!.containers[0]!.ports = [{ containerPort: 81, protocol: "TCP" }];
    const errors = messages(validatePodUpdate(forbidden, old));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
    assert.match(errors[0]!, /changed: spec\.containers\[0\]\.ports\[0\]\.containerPort/);
  });

  it("keeps identity metadata immutable on update", () => {
    const old = defaultedPod();
    old.metadata.uid = "u";
    const changed = deepClone(old);
    changed.metadata.uid = "other";
    assert.deepEqual(messages(validatePodUpdate(changed, old)), ['metadata.uid: Invalid value: "other": field is immutable']);
  });
});

describe("workload validation", () => {
  function defaulted() {
    const d = deployment();
    defaultDeployment(d);
    return d;
  }

  it("accepts a defaulted deployment", () => {
    assert.deepEqual(validateDeployment(defaulted()), []);
  });

  it("rejects negative replicas with the message kubectl shows", () => {
    const d = defaulted();
    d.spec!.replicas = -1;
    assert.deepEqual(messages(validateDeployment(d)), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]);
  });

  it("requires the template labels to match the selector, and a non-empty selector", () => {
    const d = defaulted();
    d.spec!.template.metadata!.labels = { app: "other" };
    assert.deepEqual(messages(validateDeployment(d)), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
    ]);
    const e = defaulted();
    e.spec!.selector = {};
    assert.deepEqual(messages(validateDeployment(e)), [
      "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ]);
  });

  it("requires restartPolicy Always in long-running templates", () => {
    const d = defaulted();
    d.spec!.template.spec!.restartPolicy = "Never";
    assert.deepEqual(messages(validateDeployment(d)), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it("rejects a rolling update that can make no progress", () => {
    const d = defaulted();
    d.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "0%" } };
    assert.deepEqual(messages(validateDeployment(d)), ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]);
    d.spec!.strategy = { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "120%", maxSurge: 1 } };
    assert.deepEqual(messages(validateDeployment(d)), ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be greater than 100%']);
  });

  it("keeps the selector immutable on update", () => {
    const old = defaulted();
    const changed = deepClone(old);
    changed.spec!.selector = { matchLabels: { app: "web", tier: "x" } };
    changed.spec!.template.metadata!.labels = { app: "web", tier: "x" };
    assert.deepEqual(messages(validateDeploymentUpdate(changed, old)), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it("validates replica sets and daemon sets with the same selector rules", () => {
    assert.ok(
      messages(validateReplicaSet({ metadata: { name: "r", namespace: "d" }, spec: { selector: { matchLabels: { a: "b" } } } })).includes(
        "spec.template: Required value",
      ),
    );
    assert.ok(
      messages(
        validateDaemonSet({
          metadata: { name: "r", namespace: "d" },
          spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "c" } }, spec: { containers: [] } } },
        }),
      ).some((m) => m.startsWith("spec.template.metadata.labels: Invalid value")),
    );
  });

  it("requires a job template to restart OnFailure or Never", () => {
    const j = job();
    j.spec!.template.spec!.restartPolicy = undefined as unknown as "Never";
    defaultJob(j);
    generateJobSelector(j);
    assert.deepEqual(messages(validateJob(j)), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
  });

  it("accepts a job with its generated selector and keeps its template immutable", () => {
    const j = job();
    defaultJob(j);
    generateJobSelector(j);
    assert.deepEqual(j.spec!.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": j.metadata.uid } });
    assert.deepEqual(validateJob(j), []);
    const changed = deepClone(j);
    changed.spec!.template.spec!.containers[0]!.image = "perl:5.36";
    assert.deepEqual(messages(validateJobUpdate(changed, j)), ["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]);
  });
});

describe("service and config validation", () => {
  it("requires ports and names them when there are several", () => {
    const s = service();
    s.spec!.ports = [];
    defaultService(s);
    assert.deepEqual(messages(validateService(s)), ["spec.ports: Required value"]);
    const t = service();
    t.spec!.ports = [{ port: 80 }, { port: 443 }];
    defaultService(t);
    assert.deepEqual(messages(validateService(t)), ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]);
  });

  it("forbids node ports on ClusterIP services and rejects bad cluster IPs", () => {
    const s = service();
    s.spec!.ports![0]!.nodePort = 30080;
    s.spec!.clusterIP = "10.0.0";
    defaultService(s);
    assert.deepEqual(messages(validateService(s)), [
      'spec.clusterIPs[0]: Invalid value: "10.0.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
  });

  it("keeps the cluster IP once set", () => {
    const old = service();
    old.spec!.clusterIP = "10.96.0.10";
    defaultService(old);
    const changed = deepClone(old);
    changed.spec!.clusterIP = "10.96.0.11";
    changed.spec!.clusterIPs = ["10.96.0.11"];
    assert.deepEqual(messages(validateServiceUpdate(changed, old)), ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']);
  });

  it("checks config keys and immutable config maps", () => {
    assert.match(
      messages(validateConfigMap({ metadata: { name: "c", namespace: "d" }, data: { "bad key": "v" } }))[0]!,
      /^data\[bad key\]: Invalid value: "bad key": a valid config key must consist of/,
    );
    const old = { metadata: { name: "c", namespace: "d" }, data: { a: "1" }, immutable: true };
    assert.deepEqual(messages(validateConfigMapUpdate({ ...old, data: { a: "2" } }, old)), ["data: Forbidden: field is immutable when `immutable` is set"]);
  });

  it("requires base64 data and the keys a typed secret needs", () => {
    assert.deepEqual(messages(validateSecret({ metadata: { name: "s", namespace: "d" }, type: "kubernetes.io/tls", data: { "tls.crt": "not base64!" } })), [
      'data[tls.crt]: Invalid value: "<secret data>": illegal base64 data',
      "data[tls.key]: Required value",
    ]);
  });
});

describe("other kinds", () => {
  it("requires maxReplicas at least minReplicas in an HPA", () => {
    const errors = messages(
      validateHorizontalPodAutoscaler({
        metadata: { name: "h", namespace: "d" },
        spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, minReplicas: 3, maxReplicas: 2 },
      }),
    );
    assert.deepEqual(errors, ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]);
  });

  it("requires an ingress backend with a port name or number", () => {
    const errors = messages(
      validateIngress({
        metadata: { name: "i", namespace: "d" },
        spec: { rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web" } } }] } }] },
      }),
    );
    assert.deepEqual(errors, ['spec.rules[0].http.paths[0].backend.service.port: Invalid value: "": port name or number is required']);
  });

  it("refuses non-resource URLs in a namespaced role and a changed roleRef", () => {
    assert.deepEqual(messages(validateRole({ metadata: { name: "r", namespace: "d" }, rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] })), [
      'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
    ]);
    const old = { metadata: { name: "b", namespace: "d" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "a" } };
    assert.deepEqual(messages(validateRoleBindingUpdate({ ...old, roleRef: { ...old.roleRef, name: "b" } }, old)), [
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef',
    ]);
  });
});
