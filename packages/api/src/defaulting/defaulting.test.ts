import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  defaultDaemonSet,
  defaultDeployment,
  defaultHorizontalPodAutoscaler,
  defaultJob,
  defaultNamespace,
  defaultPod,
  defaultSecret,
  defaultService,
  imageTag,
} from "./index.js";
import { deployment, job, pod, service } from "../testing/fixtures.js";
import type { DaemonSet } from "../types/apps/v1.js";

describe("defaulting", () => {
  it("fills a pod's policies, grace period and container fields as Kubernetes does", () => {
    const p = pod();
    p.spec!.containers.push({
      name: "side",
      image: "busybox",
      ports: [{ containerPort: 9000 }],
      resources: { limits: { cpu: "1" } },
      livenessProbe: { httpGet: { port: 80 } },
    });
    defaultPod(p);
    const spec = p.spec!;
    assert.equal(spec.restartPolicy, "Always");
    assert.equal(spec.dnsPolicy, "ClusterFirst");
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.schedulerName, "default-scheduler");
    assert.equal(spec.serviceAccountName, "default");
    const [web, side] = spec.containers;
    assert.equal(web!.imagePullPolicy, "IfNotPresent");
    assert.equal(side!.imagePullPolicy, "Always", "an untagged image means :latest, pulled always");
    assert.equal(web!.terminationMessagePath, "/dev/termination-log");
    assert.equal(web!.terminationMessagePolicy, "File");
    assert.equal(web!.ports![0]!.protocol, "TCP");
    assert.deepEqual(side!.resources!.requests, { cpu: "1" }, "a limit without a request requests the limit");
    assert.deepEqual(side!.livenessProbe, {
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it("adds the 300 s not-ready and unreachable tolerations once", () => {
    const p = pod();
    defaultPod(p);
    defaultPod(p);
    const keys = p.spec!.tolerations!.map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds}`);
    assert.deepEqual(keys, ["node.kubernetes.io/not-ready:NoExecute:300", "node.kubernetes.io/unreachable:NoExecute:300"]);
  });

  it("reads the image tag past a registry port and a digest", () => {
    assert.equal(imageTag("nginx"), "latest");
    assert.equal(imageTag("registry:5000/team/app"), "latest");
    assert.equal(imageTag("registry:5000/team/app:1.0"), "1.0");
    assert.equal(imageTag("app@sha256:abc"), "");
    assert.equal(imageTag("app:latest"), "latest");
  });

  it("gives a deployment one replica, a 25%/25% rolling update, history 10 and a 600 s deadline", () => {
    const d = deployment();
    delete d.spec!.replicas;
    defaultDeployment(d);
    assert.equal(d.spec!.replicas, 1);
    assert.deepEqual(d.spec!.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
    assert.equal(d.spec!.revisionHistoryLimit, 10);
    assert.equal(d.spec!.progressDeadlineSeconds, 600);
    assert.equal(d.spec!.template.spec!.restartPolicy, "Always");
  });

  it("leaves a Recreate deployment without rollingUpdate", () => {
    const d = deployment();
    d.spec!.strategy = { type: "Recreate" };
    defaultDeployment(d);
    assert.deepEqual(d.spec!.strategy, { type: "Recreate" });
  });

  it("makes a service ClusterIP, sessionAffinity None, TCP, with targetPort = port", () => {
    const s = service();
    s.spec!.ports!.push({ name: "admin", port: 8080, targetPort: "admin-http" });
    s.spec!.ports![0]!.name = "http";
    defaultService(s);
    assert.equal(s.spec!.type, "ClusterIP");
    assert.equal(s.spec!.sessionAffinity, "None");
    assert.deepEqual(
      s.spec!.ports!.map((p) => [p.protocol, p.targetPort]),
      [
        ["TCP", 80],
        ["TCP", "admin-http"],
      ],
    );
  });

  it("gives a job one completion, parallelism 1 and backoffLimit 6, and its template's labels", () => {
    const j = job();
    j.spec!.template.metadata = { labels: { app: "pi" } };
    defaultJob(j);
    assert.equal(j.spec!.completions, 1);
    assert.equal(j.spec!.parallelism, 1);
    assert.equal(j.spec!.backoffLimit, 6);
    assert.equal(j.spec!.completionMode, "NonIndexed");
    assert.deepEqual(j.metadata.labels, { app: "pi" });
  });

  it("keeps a parallel job's completions unset", () => {
    const j = job();
    j.spec!.parallelism = 3;
    defaultJob(j);
    assert.equal(j.spec!.completions, undefined);
    assert.equal(j.spec!.parallelism, 3);
  });

  it("gives a daemonset a rolling update of one unavailable and no surge", () => {
    const ds: DaemonSet = { metadata: { name: "d" }, spec: { selector: {}, template: { spec: { containers: [{ name: "a", image: "a:1" }] } } } };
    defaultDaemonSet(ds);
    assert.deepEqual(ds.spec!.updateStrategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });

  it("labels a namespace with its name, types a secret Opaque, scales an HPA on 80% CPU", () => {
    const ns = { metadata: { name: "team-a" } };
    defaultNamespace(ns);
    assert.deepEqual(ns.metadata, { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } });
    const secret = { metadata: { name: "s" } } as { metadata: { name: string }; type?: string };
    defaultSecret(secret);
    assert.equal(secret.type, "Opaque");
    const hpa = { metadata: { name: "h" }, spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 5 } };
    defaultHorizontalPodAutoscaler(hpa);
    assert.deepEqual(hpa.spec, {
      scaleTargetRef: { kind: "Deployment", name: "web" },
      maxReplicas: 5,
      minReplicas: 1,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
    });
  });
});
