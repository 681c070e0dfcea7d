import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { humanDuration, translateTimestampSince } from "./duration.js";
import { printTable } from "./table.js";
import { endpointsText, hpaTargetsText, summarizePod } from "./columns.js";
import { findResource, type ResourceDescriptor } from "../registry.js";
import type { KubeObject } from "../types/meta/v1.js";
import type { Pod } from "../types/core/pod.js";

const nowMs = Date.parse("2024-05-10T12:00:00Z");
const ago = (ms: number): string => new Date(nowMs - ms).toISOString().replace(/\.\d+Z$/, "Z");
const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

function table(plural: string, objects: unknown[], group = "", version = "v1") {
  const resource = findResource(group, version, plural) as ResourceDescriptor;
  return printTable(resource.printer, objects as KubeObject[], { nowMs, includeObject: "None" });
}

describe("ages", () => {
  it("read like kubectl's", () => {
    const cases: [number, string][] = [
      [-5 * s, "<invalid>"],
      [-1 * s, "0s"],
      [45 * s, "45s"],
      [119 * s, "119s"],
      [3 * m + 20 * s, "3m20s"],
      [5 * m, "5m"],
      [15 * m, "15m"],
      [179 * m, "179m"],
      [3 * h + 2 * m, "3h2m"],
      [10 * h, "10h"],
      [47 * h, "47h"],
      [2 * d + 3 * h, "2d3h"],
      [2 * d, "2d"],
      [30 * d, "30d"],
      [800 * d, "2y70d"],
      [3000 * d, "8y"],
    ];
    for (const [duration, expected] of cases) assert.equal(humanDuration(duration), expected, `${duration} ms`);
    assert.equal(translateTimestampSince(undefined, nowMs), "<unknown>");
    assert.equal(translateTimestampSince(ago(5 * m), nowMs), "5m");
  });
});

describe("tables", () => {
  it("list pod columns with the wide ones at priority 1", () => {
    const t = table("pods", []);
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(
      t.columnDefinitions.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Ready", 0],
        ["Status", 0],
        ["Restarts", 0],
        ["Age", 0],
        ["IP", 1],
        ["Node", 1],
        ["Nominated Node", 1],
        ["Readiness Gates", 1],
      ],
    );
    assert.equal(t.columnDefinitions[0]!.format, "name");
  });

  it("print a running pod with a restart", () => {
    const pod: Pod = {
      metadata: { name: "web-1", namespace: "default", creationTimestamp: ago(2 * d) },
      spec: { nodeName: "node-a", containers: [{ name: "a" }, { name: "b" }] },
      status: {
        phase: "Running",
        podIP: "10.244.1.5",
        podIPs: [{ ip: "10.244.1.5" }],
        containerStatuses: [
          { name: "a", ready: true, restartCount: 0, image: "", imageID: "", state: { running: {} } },
          {
            name: "b",
            ready: true,
            restartCount: 2,
            image: "",
            imageID: "",
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, finishedAt: ago(5 * m) } },
          },
        ],
      },
    };
    assert.deepEqual(table("pods", [pod]).rows[0]!.cells, ["web-1", "2/2", "Running", "2 (5m ago)", "2d", "10.244.1.5", "node-a", "<none>", "<none>"]);
  });

  it("show waiting reasons, init progress, completion and termination in STATUS", () => {
    const base = (status: Pod["status"], extra: Partial<Pod> = {}): Pod => ({
      metadata: { name: "p", ...(extra.metadata ?? {}) },
      spec: extra.spec ?? { containers: [{ name: "a" }] },
      status,
    });
    const cs = (state: object, ready = false) => ({ name: "a", ready, restartCount: 0, image: "", imageID: "", state });
    assert.equal(summarizePod(base({ phase: "Pending" }), nowMs).status, "Pending");
    assert.equal(
      summarizePod(base({ phase: "Pending", containerStatuses: [cs({ waiting: { reason: "ContainerCreating" } })] }), nowMs).status,
      "ContainerCreating",
    );
    assert.equal(
      summarizePod(base({ phase: "Running", containerStatuses: [cs({ waiting: { reason: "CrashLoopBackOff" } })] }), nowMs).status,
      "CrashLoopBackOff",
    );
    assert.equal(
      summarizePod(base({ phase: "Succeeded", containerStatuses: [cs({ terminated: { exitCode: 0, reason: "Completed" } })] }), nowMs).status,
      "Completed",
    );
    assert.equal(summarizePod(base({ phase: "Failed", containerStatuses: [cs({ terminated: { exitCode: 137 } })] }), nowMs).status, "ExitCode:137");
    const withInit = { spec: { initContainers: [{ name: "i" }], containers: [{ name: "a" }] } };
    assert.equal(summarizePod(base({ phase: "Pending", initContainerStatuses: [{ ...cs({ running: {} }), name: "i" }] }, withInit), nowMs).status, "Init:0/1");
    assert.equal(
      summarizePod(
        base({ phase: "Running", containerStatuses: [cs({ running: {} }, true)] }, { metadata: { name: "p", deletionTimestamp: ago(1 * s) } }),
        nowMs,
      ).status,
      "Terminating",
    );
  });

  it("print deployments with ready/desired and their selector", () => {
    const deployment = {
      metadata: { name: "web", creationTimestamp: ago(3 * h + 2 * m) },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "nginx", image: "nginx:1.25" }] } } },
      status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    const t = table("deployments", [deployment], "apps");
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"],
    );
    assert.deepEqual(t.rows[0]!.cells, ["web", "2/3", 3, 2, "3h2m", "nginx", "nginx:1.25", "app=web"]);
  });

  it("print services with ports, node ports and external addresses", () => {
    const svc = (spec: object, status: object = {}) => ({ metadata: { name: "s", creationTimestamp: ago(10 * s) }, spec, status });
    const rows = table("services", [
      svc({
        type: "ClusterIP",
        clusterIP: "10.96.0.10",
        clusterIPs: ["10.96.0.10"],
        ports: [
          { port: 80, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
        ],
        selector: { app: "web" },
      }),
      svc({ type: "NodePort", clusterIPs: ["10.96.0.11"], ports: [{ port: 80, nodePort: 30080, protocol: "TCP" }] }),
      svc({ type: "LoadBalancer", clusterIPs: ["10.96.0.12"], ports: [] }),
      svc({ type: "ExternalName", externalName: "db.example.com" }),
    ]).rows.map((r) => r.cells);
    assert.deepEqual(rows, [
      ["s", "ClusterIP", "10.96.0.10", "<none>", "80/TCP,53/UDP", "10s", "app=web"],
      ["s", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP", "10s", "<none>"],
      ["s", "LoadBalancer", "10.96.0.12", "<pending>", "<none>", "10s", "<none>"],
      ["s", "ExternalName", "<none>", "db.example.com", "<none>", "10s", "<none>"],
    ]);
  });

  it("print nodes with status, roles and version", () => {
    const node = {
      metadata: { name: "node-a", creationTimestamp: ago(20 * d), labels: { "node-role.kubernetes.io/control-plane": "" } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: "Ready", status: "True" }],
        nodeInfo: { kubeletVersion: "v1.32.0" },
        addresses: [{ type: "InternalIP", address: "192.0.2.10" }],
      },
    };
    assert.deepEqual(table("nodes", [node]).rows[0]!.cells, [
      "node-a",
      "Ready,SchedulingDisabled",
      "control-plane",
      "20d",
      "v1.32.0",
      "192.0.2.10",
      "<none>",
      "<unknown>",
      "<unknown>",
      "<unknown>",
    ]);
  });

  it("print jobs, events, endpoints and HPA targets as kubectl does", () => {
    const job = {
      metadata: { name: "pi", creationTimestamp: ago(2 * m) },
      spec: { completions: 1, template: { spec: { containers: [] } } },
      status: { succeeded: 1, startTime: ago(2 * m), completionTime: ago(1 * m), conditions: [{ type: "Complete", status: "True" }] },
    };
    assert.deepEqual(table("jobs", [job], "batch").rows[0]!.cells.slice(0, 5), ["pi", "Complete", "1/1", "60s", "2m"]);
    const event = {
      metadata: { name: "web.1" },
      involvedObject: { kind: "Pod", name: "web" },
      type: "Normal",
      reason: "Pulled",
      message: "pulled ",
      lastTimestamp: ago(30 * s),
      firstTimestamp: ago(5 * m),
      count: 3,
      source: { component: "kubelet", host: "node-a" },
    };
    assert.deepEqual(table("events", [event]).rows[0]!.cells, ["30s", "Normal", "Pulled", "pod/web", "", "kubelet, node-a", "pulled", "5m", 3, "web.1"]);
    const ep = {
      metadata: { name: "e" },
      subsets: [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }], ports: [{ port: 80 }] }],
    };
    assert.equal(endpointsText(ep), "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...");
    assert.equal(endpointsText({ metadata: {} }), "<none>");
    const hpa = {
      metadata: { name: "h" },
      spec: {
        scaleTargetRef: { kind: "Deployment", name: "web" },
        maxReplicas: 5,
        metrics: [{ type: "Resource" as const, resource: { name: "cpu", target: { type: "Utilization" as const, averageUtilization: 80 } } }],
      },
    };
    assert.equal(hpaTargetsText(hpa), "cpu: <unknown>/80%");
    assert.equal(
      hpaTargetsText({
        ...hpa,
        status: { desiredReplicas: 1, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 42 } } }] },
      }),
      "cpu: 42%/80%",
    );
  });

  it("carry the object or its metadata in each row when asked", () => {
    const resource = findResource("", "v1", "configmaps")!;
    const cm = { metadata: { name: "c", namespace: "default" }, data: { a: "1", b: "2" } };
    const metadataOnly = printTable(resource.printer, [cm], { nowMs, includeObject: "Metadata" });
    assert.deepEqual(metadataOnly.rows[0]!.object, { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: cm.metadata });
    assert.deepEqual(metadataOnly.rows[0]!.cells, ["c", 2, "<unknown>"]);
    const full = printTable(resource.printer, [cm], { nowMs, includeObject: "Object", listMeta: { resourceVersion: "42" } });
    assert.equal(full.rows[0]!.object, cm);
    assert.deepEqual(full.metadata, { resourceVersion: "42" });
  });
});
