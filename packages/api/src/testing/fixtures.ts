/** Small valid objects for tests: each returns a fresh copy to be changed by the test. */
import type { Pod } from "../types/core/pod.js";
import type { Deployment } from "../types/apps/v1.js";
import type { Service } from "../types/core/service.js";
import type { Job } from "../types/batch/v1.js";

export function pod(name = "web"): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" } },
    spec: { containers: [{ name: "web", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] },
  };
}

export function deployment(name = "web"): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.25" }] } },
    },
  };
}

export function service(name = "web"): Service {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
}

export function job(name = "pi"): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default", uid: "1f0c9d3e-0000-4000-8000-000000000001" },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5.34", command: ["perl", "-e", "print 1"] }] } } },
  };
}
