/**
 * The Table columns kubectl shows for each kind, cell by cell as Kubernetes' server-side printers
 * (pkg/printers/internalversion/printers.go) compute them. Columns with priority 1 are the extra
 * ones of `-o wide`; the server always fills every column and kubectl hides the wide ones.
 */
import type { KubeObject, TableCell, TableColumnDefinition, TableRow } from "../types/meta/v1.js";
import type { Pod } from "../types/core/pod.js";
import type { Node } from "../types/core/node.js";
import type { Namespace } from "../types/core/namespace.js";
import type { Endpoints, Service } from "../types/core/service.js";
import type { ConfigMap, Secret, ServiceAccount } from "../types/core/config.js";
import type { Event } from "../types/core/event.js";
import type { DaemonSet, Deployment, ReplicaSet } from "../types/apps/v1.js";
import type { Job } from "../types/batch/v1.js";
import type { Ingress } from "../types/networking/v1.js";
import type { Lease } from "../types/coordination/v1.js";
import type { HorizontalPodAutoscaler } from "../types/autoscaling/hpa.js";
import type { ClusterRoleBinding, RoleBinding } from "../types/rbac/v1.js";
import type { NodeMetrics, PodMetrics } from "../types/metrics/v1beta1.js";
import type { Container, PodTemplateSpec } from "../types/core/pod.js";
import { formatLabelSelector } from "../selectors/labels.js";
import { formatBytes, formatMilli, isValidQuantity, quantityToMilli, quantityToUnits } from "../quantity.js";
import { humanDuration, translateTimestampSince } from "./duration.js";

export interface PrintContext {
  /** The clock the ages are measured against (ms since the epoch); injected so output is testable. */
  nowMs: number;
}

export interface ColumnSpec<T> {
  name: string;
  type: TableColumnDefinition["type"];
  format?: string;
  priority?: number;
  description: string;
  cell: (obj: T, ctx: PrintContext) => TableCell;
}

export interface TablePrinter<T extends KubeObject = KubeObject> {
  columns: readonly ColumnSpec<T>[];
  rowConditions?: (obj: T) => TableRow["conditions"];
}

const nameColumn = <T extends KubeObject>(): ColumnSpec<T> => ({
  name: "Name",
  type: "string",
  format: "name",
  description:
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.",
  cell: (o) => o.metadata.name ?? "",
});

const ageColumn = <T extends KubeObject>(): ColumnSpec<T> => ({
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (o, ctx) => translateTimestampSince(o.metadata.creationTimestamp, ctx.nowMs),
});

const createdAtColumn = <T extends KubeObject>(): ColumnSpec<T> => ({
  name: "Created At",
  type: "date",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (o) => o.metadata.creationTimestamp ?? "",
});

const wide = <T>(column: ColumnSpec<T>): ColumnSpec<T> => ({ ...column, priority: 1 });

/** labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? "<none>" : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

function templateColumns<T extends KubeObject>(template: (o: T) => PodTemplateSpec | undefined, selector: (o: T) => string): ColumnSpec<T>[] {
  const containers = (o: T): Container[] => template(o)?.spec?.containers ?? [];
  return [
    wide({
      name: "Containers",
      type: "string",
      description: "Names of each container in the template.",
      cell: (o) =>
        containers(o)
          .map((c) => c.name)
          .join(","),
    }),
    wide({
      name: "Images",
      type: "string",
      description: "Images referenced by each container in the template.",
      cell: (o) =>
        containers(o)
          .map((c) => c.image ?? "")
          .join(","),
    }),
    wide({ name: "Selector", type: "string", description: "Label selector for pods.", cell: selector }),
  ];
}

// ---- Pod ----

interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** kubectl's printPod: the READY, STATUS and RESTARTS cells, including Init:, Terminating and CrashLoopBackOff. */
export function summarizePod(pod: Pod, nowMs: number): PodSummary {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  const isSidecar = (name: string): boolean => spec.initContainers?.find((c) => c.name === name)?.restartPolicy === "Always";
  let totalContainers = (spec.containers ?? []).length + (spec.initContainers ?? []).filter((c) => c.restartPolicy === "Always").length;
  let readyContainers = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestartMs = 0;
  let lastSidecarRestartMs = 0;
  let reason: string = status.reason || status.phase || "";
  if ((status.conditions ?? []).some((c) => c.type === "PodScheduled" && c.reason === "SchedulingGated")) reason = "SchedulingGated";
  const finishedAt = (t: string | undefined): number => (t ? Date.parse(t) || 0 : 0);

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    if (c === undefined) continue;
    restarts += c.restartCount ?? 0;
    const lastFinished = finishedAt(c.lastState?.terminated?.finishedAt);
    lastRestartMs = Math.max(lastRestartMs, lastFinished);
    if (isSidecar(c.name)) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestartMs = Math.max(lastSidecarRestartMs, lastFinished);
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (isSidecar(c.name) && c.started === true) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
      else reason = `Init:${terminated.reason}`;
    } else if (waiting?.reason && waiting.reason !== "PodInitializing") {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = (status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    lastRestartMs = lastSidecarRestartMs;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      if (c === undefined) continue;
      restarts += c.restartCount ?? 0;
      lastRestartMs = Math.max(lastRestartMs, finishedAt(c.lastState?.terminated?.finishedAt));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") ? "Running" : "NotReady";
    }
  }

  const terminal = status.phase === "Succeeded" || status.phase === "Failed";
  if (pod.metadata.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp && !terminal) reason = "Terminating";

  totalContainers = Math.max(totalContainers, 0);
  const restartsText = restarts !== 0 && lastRestartMs > 0 ? `${restarts} (${humanDuration(nowMs - lastRestartMs)} ago)` : `${restarts}`;
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

const podPrinter: TablePrinter<Pod> = {
  columns: [
    nameColumn(),
    {
      name: "Ready",
      type: "string",
      description: "The aggregate readiness state of this pod for accepting traffic.",
      cell: (p, ctx) => summarizePod(p, ctx.nowMs).ready,
    },
    { name: "Status", type: "string", description: "The aggregate status of the containers in this pod.", cell: (p, ctx) => summarizePod(p, ctx.nowMs).status },
    {
      name: "Restarts",
      type: "string",
      description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      cell: (p, ctx) => summarizePod(p, ctx.nowMs).restarts,
    },
    ageColumn(),
    wide({
      name: "IP",
      type: "string",
      description: "IP address allocated to the pod.",
      cell: (p) => p.status?.podIPs?.[0]?.ip || p.status?.podIP || "<none>",
    }),
    wide({ name: "Node", type: "string", description: "NodeName is the node the pod is scheduled onto.", cell: (p) => p.spec?.nodeName || "<none>" }),
    wide({
      name: "Nominated Node",
      type: "string",
      description: "nominatedNodeName is set only when this pod preempts other pods on the node.",
      cell: (p) => p.status?.nominatedNodeName || "<none>",
    }),
    wide({
      name: "Readiness Gates",
      type: "string",
      description: "If specified, all readiness gates will be evaluated for pod readiness.",
      cell: (p) => {
        const gates = p.spec?.readinessGates ?? [];
        if (gates.length === 0) return "<none>";
        const trueCount = gates.filter((g) => (p.status?.conditions ?? []).find((c) => c.type === g.conditionType)?.status === "True").length;
        return `${trueCount}/${gates.length}`;
      },
    }),
  ],
  rowConditions: (p) => {
    if (p.status?.phase === "Succeeded") return [{ type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." }];
    if (p.status?.phase === "Failed") return [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }];
    return undefined;
  },
};

// ---- Node ----

/** Roles from `node-role.kubernetes.io/<role>` labels and the legacy `kubernetes.io/role`. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith("node-role.kubernetes.io/")) {
      const role = key.slice("node-role.kubernetes.io/".length);
      if (role !== "") roles.add(role);
    } else if (key === "kubernetes.io/role" && value !== "") {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

export function nodeStatusText(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
  const parts = [ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

const nodeAddress = (node: Node, type: string): string => (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? "<none>";

const nodePrinter: TablePrinter<Node> = {
  columns: [
    nameColumn(),
    { name: "Status", type: "string", description: "The status of the node", cell: nodeStatusText },
    { name: "Roles", type: "string", description: "The roles of the node", cell: (n) => nodeRoles(n).join(",") || "<none>" },
    ageColumn(),
    { name: "Version", type: "string", description: "Kubelet Version reported by the node.", cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? "" },
    wide({
      name: "Internal-IP",
      type: "string",
      description: "List of addresses reachable to the node. Queried from cloud provider, if available.",
      cell: (n) => nodeAddress(n, "InternalIP"),
    }),
    wide({
      name: "External-IP",
      type: "string",
      description: "List of addresses reachable to the node. Queried from cloud provider, if available.",
      cell: (n) => nodeAddress(n, "ExternalIP"),
    }),
    wide({
      name: "OS-Image",
      type: "string",
      description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      cell: (n) => n.status?.nodeInfo?.osImage || "<unknown>",
    }),
    wide({
      name: "Kernel-Version",
      type: "string",
      description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      cell: (n) => n.status?.nodeInfo?.kernelVersion || "<unknown>",
    }),
    wide({
      name: "Container-Runtime",
      type: "string",
      description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion || "<unknown>",
    }),
  ],
};

// ---- Service, Endpoints ----

export function servicePortsText(svc: Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return "<none>";
  return ports.map((p) => (p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? "TCP"}` : `${p.port}/${p.protocol ?? "TCP"}`)).join(",");
}

export function serviceExternalIpText(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? "ClusterIP") {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter((s) => s !== "");
      const all = [...lb, ...externalIPs];
      return all.length > 0 ? all.join(",") : "<pending>";
    }
    case "ExternalName":
      return svc.spec?.externalName ?? "";
    default:
      return "<unknown>";
  }
}

const servicePrinter: TablePrinter<Service> = {
  columns: [
    nameColumn(),
    { name: "Type", type: "string", description: "type determines how the Service is exposed.", cell: (s) => s.spec?.type ?? "" },
    {
      name: "Cluster-IP",
      type: "string",
      description: "clusterIP is the IP address of the service and is usually assigned randomly.",
      cell: (s) => s.spec?.clusterIPs?.[0] || s.spec?.clusterIP || "<none>",
    },
    {
      name: "External-IP",
      type: "string",
      description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
      cell: serviceExternalIpText,
    },
    { name: "Port(s)", type: "string", description: "The list of ports that are exposed by this service.", cell: servicePortsText },
    ageColumn(),
    wide({
      name: "Selector",
      type: "string",
      description: "Route service traffic to pods with label keys and values matching this selector.",
      cell: (s) => formatLabels(s.spec?.selector),
    }),
  ],
};

/** kubectl's formatEndpoints: up to three ip:port entries, then "+ N more...". */
export function endpointsText(ep: Endpoints): string {
  const shownMax = 3;
  const list: string[] = [];
  let count = 0;
  let more = false;
  for (const subset of ep.subsets ?? []) {
    const addresses = subset.addresses ?? [];
    const ports = subset.ports ?? [];
    const targets = ports.length === 0 ? [undefined] : ports.map((p) => p.port);
    for (const port of targets) {
      count += addresses.length;
      for (const address of addresses) {
        if (list.length === shownMax) {
          more = true;
          break;
        }
        list.push(port === undefined ? address.ip : address.ip.includes(":") ? `[${address.ip}]:${port}` : `${address.ip}:${port}`);
      }
    }
  }
  if (list.length === 0) return "<none>";
  return more ? `${list.join(",")} + ${count - shownMax} more...` : list.join(",");
}

const endpointsPrinter: TablePrinter<Endpoints> = {
  columns: [nameColumn(), { name: "Endpoints", type: "string", description: "Endpoints of this service", cell: endpointsText }, ageColumn()],
};

// ---- Namespace, ConfigMap, Secret, ServiceAccount, Event ----

const namespacePrinter: TablePrinter<Namespace> = {
  columns: [nameColumn(), { name: "Status", type: "string", description: "The status of the namespace", cell: (n) => n.status?.phase ?? "" }, ageColumn()],
};

const configMapPrinter: TablePrinter<ConfigMap> = {
  columns: [
    nameColumn(),
    {
      name: "Data",
      type: "string",
      description: "Data contains the configuration data.",
      cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
    },
    ageColumn(),
  ],
};

const secretPrinter: TablePrinter<Secret> = {
  columns: [
    nameColumn(),
    { name: "Type", type: "string", description: "Used to facilitate programmatic handling of secret data.", cell: (s) => s.type ?? "Opaque" },
    { name: "Data", type: "string", description: "Data contains the secret data.", cell: (s) => Object.keys(s.data ?? {}).length },
    ageColumn(),
  ],
};

const serviceAccountPrinter: TablePrinter<ServiceAccount> = {
  columns: [
    nameColumn(),
    {
      name: "Secrets",
      type: "string",
      description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
      cell: (s) => (s.secrets ?? []).length,
    },
    ageColumn(),
  ],
};

function eventSource(e: Event): string {
  const component = e.source?.component || e.reportingComponent || "";
  const host = e.source?.host || e.reportingInstance || "";
  return host ? `${component}, ${host}` : component;
}

function eventFirstSeen(e: Event, nowMs: number): string {
  return translateTimestampSince(e.firstTimestamp || e.eventTime, nowMs);
}

const eventPrinter: TablePrinter<Event> = {
  columns: [
    {
      name: "Last Seen",
      type: "string",
      description: "The time at which the most recent occurrence of this event was recorded.",
      cell: (e, ctx) =>
        e.series?.lastObservedTime
          ? translateTimestampSince(e.series.lastObservedTime, ctx.nowMs)
          : e.lastTimestamp
            ? translateTimestampSince(e.lastTimestamp, ctx.nowMs)
            : eventFirstSeen(e, ctx.nowMs),
    },
    { name: "Type", type: "string", description: "Type of this event (Normal, Warning), new types could be added in the future", cell: (e) => e.type ?? "" },
    {
      name: "Reason",
      type: "string",
      description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      cell: (e) => e.reason ?? "",
    },
    {
      name: "Object",
      type: "string",
      description: "The object that this event is about.",
      cell: (e) =>
        e.involvedObject?.name ? `${(e.involvedObject.kind ?? "").toLowerCase()}/${e.involvedObject.name}` : (e.involvedObject?.kind ?? "").toLowerCase(),
    },
    wide({
      name: "Subobject",
      type: "string",
      description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
      cell: (e) => e.involvedObject?.fieldPath ?? "",
    }),
    wide({
      name: "Source",
      type: "string",
      description: "The component reporting this event. Should be a short machine understandable string.",
      cell: eventSource,
    }),
    { name: "Message", type: "string", description: "A human-readable description of the status of this operation.", cell: (e) => (e.message ?? "").trim() },
    wide({
      name: "First Seen",
      type: "string",
      description: "The time at which the event was first recorded.",
      cell: (e, ctx) => eventFirstSeen(e, ctx.nowMs),
    }),
    wide({ name: "Count", type: "string", description: "The number of times this event has occurred.", cell: (e) => e.series?.count ?? (e.count || 1) }),
    wide({ ...nameColumn<Event>(), priority: 1 }),
  ],
};

// ---- apps, batch ----

const deploymentPrinter: TablePrinter<Deployment> = {
  columns: [
    nameColumn(),
    {
      name: "Ready",
      type: "string",
      description: "Number of the pod with ready state",
      cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
    },
    {
      name: "Up-to-date",
      type: "string",
      description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
      cell: (d) => d.status?.updatedReplicas ?? 0,
    },
    {
      name: "Available",
      type: "string",
      description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
      cell: (d) => d.status?.availableReplicas ?? 0,
    },
    ageColumn(),
    ...templateColumns<Deployment>(
      (d) => d.spec?.template,
      (d) => formatLabelSelector(d.spec?.selector),
    ),
  ],
};

const replicaSetPrinter: TablePrinter<ReplicaSet> = {
  columns: [
    nameColumn(),
    { name: "Desired", type: "integer", description: "Replicas is the number of desired replicas.", cell: (r) => r.spec?.replicas ?? 0 },
    { name: "Current", type: "integer", description: "Replicas is the most recently observed number of replicas.", cell: (r) => r.status?.replicas ?? 0 },
    { name: "Ready", type: "integer", description: "The number of ready replicas for this replica set.", cell: (r) => r.status?.readyReplicas ?? 0 },
    ageColumn(),
    ...templateColumns<ReplicaSet>(
      (r) => r.spec?.template,
      (r) => formatLabelSelector(r.spec?.selector),
    ),
  ],
};

const daemonSetPrinter: TablePrinter<DaemonSet> = {
  columns: [
    nameColumn(),
    {
      name: "Desired",
      type: "integer",
      description: "The total number of nodes that should be running the daemon pod.",
      cell: (d) => d.status?.desiredNumberScheduled ?? 0,
    },
    {
      name: "Current",
      type: "integer",
      description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
      cell: (d) => d.status?.currentNumberScheduled ?? 0,
    },
    {
      name: "Ready",
      type: "integer",
      description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
      cell: (d) => d.status?.numberReady ?? 0,
    },
    {
      name: "Up-to-date",
      type: "integer",
      description: "The total number of nodes that are running updated daemon pod",
      cell: (d) => d.status?.updatedNumberScheduled ?? 0,
    },
    {
      name: "Available",
      type: "integer",
      description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
      cell: (d) => d.status?.numberAvailable ?? 0,
    },
    {
      name: "Node Selector",
      type: "string",
      description: "NodeSelector is a selector which must be true for the pod to fit on a node.",
      cell: (d) => formatLabels(d.spec?.template?.spec?.nodeSelector),
    },
    ageColumn(),
    ...templateColumns<DaemonSet>(
      (d) => d.spec?.template,
      (d) => formatLabelSelector(d.spec?.selector),
    ),
  ],
};

const conditionTrue = (job: Job, type: string): boolean => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");

export function jobStatusText(job: Job): string {
  if (conditionTrue(job, "Complete")) return "Complete";
  if (conditionTrue(job, "Failed")) return "Failed";
  if (job.metadata.deletionTimestamp) return "Terminating";
  if (conditionTrue(job, "Suspended")) return "Suspended";
  if (conditionTrue(job, "FailureTarget")) return "FailureTarget";
  if (conditionTrue(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

export function jobCompletionsText(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDurationText(job: Job, nowMs: number): string {
  const start = job.status?.startTime;
  if (!start) return "";
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : nowMs;
  return humanDuration(end - Date.parse(start));
}

const jobPrinter: TablePrinter<Job> = {
  columns: [
    nameColumn(),
    { name: "Status", type: "string", description: "Status of the job.", cell: jobStatusText },
    {
      name: "Completions",
      type: "string",
      description: "The desired number of successfully finished pods the job should be run with.",
      cell: jobCompletionsText,
    },
    { name: "Duration", type: "string", description: "Time required to complete the job.", cell: (j, ctx) => jobDurationText(j, ctx.nowMs) },
    ageColumn(),
    ...templateColumns<Job>(
      (j) => j.spec?.template,
      (j) => formatLabelSelector(j.spec?.selector),
    ),
  ],
};

// ---- networking, coordination, autoscaling ----

function ingressHosts(ingress: Ingress): string {
  const rules = ingress.spec?.rules ?? [];
  const shownMax = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === shownMax) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${rules.length - shownMax} more...` : list.join(",");
}

const ingressPrinter: TablePrinter<Ingress> = {
  columns: [
    nameColumn(),
    { name: "Class", type: "string", description: "The name of the IngressClass resource.", cell: (i) => i.spec?.ingressClassName ?? "<none>" },
    { name: "Hosts", type: "string", description: "Hosts that incoming requests are matched against before the ingress rule", cell: ingressHosts },
    {
      name: "Address",
      type: "string",
      description: "Address is a list containing ingress points for the load-balancer",
      cell: (i) =>
        (i.status?.loadBalancer?.ingress ?? [])
          .map((x) => x.ip || x.hostname || "")
          .filter((s) => s !== "")
          .join(","),
    },
    { name: "Ports", type: "string", description: "Ports of TLS configurations that open", cell: (i) => ((i.spec?.tls ?? []).length > 0 ? "80, 443" : "80") },
    ageColumn(),
  ],
};

const leasePrinter: TablePrinter<Lease> = {
  columns: [
    nameColumn(),
    {
      name: "Holder",
      type: "string",
      description: "HolderIdentity contains the identity of the holder of a current lease.",
      cell: (l) => l.spec?.holderIdentity ?? "",
    },
    ageColumn(),
  ],
};

/** kubectl's formatHPAMetrics: "cpu: 42%/80%", "<unknown>" before the first measurement. */
export function hpaTargetsText(hpa: HorizontalPodAutoscaler): string {
  const specs = hpa.spec?.metrics ?? [];
  if (specs.length === 0) return "<none>";
  const current = hpa.status?.currentMetrics ?? [];
  const shownMax = 3;
  const list = specs.slice(0, shownMax).map((metric, i) => {
    const status = current[i];
    const quantity = (q: string | undefined): string => q ?? "<unknown>";
    switch (metric.type) {
      case "Resource":
      case "ContainerResource": {
        const source = metric.type === "Resource" ? metric.resource : metric.containerResource;
        const cur = metric.type === "Resource" ? status?.resource?.current : status?.containerResource?.current;
        const name = source?.name ?? "";
        const prefix = metric.type === "ContainerResource" ? `${name} on ${metric.containerResource?.container ?? ""}` : name;
        if (source?.target.type === "Utilization") {
          const now = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : "<unknown>";
          return `${prefix}: ${now}/${source.target.averageUtilization ?? 0}%`;
        }
        return `${prefix}: ${quantity(cur?.averageValue)}/${source?.target.averageValue ?? source?.target.value ?? ""}`;
      }
      case "Pods":
        return `${quantity(status?.pods?.current.averageValue)}/${metric.pods?.target.averageValue ?? ""}`;
      case "Object":
        return `${quantity(status?.object?.current.value ?? status?.object?.current.averageValue)}/${metric.object?.target.value ?? metric.object?.target.averageValue ?? ""}`;
      case "External":
        return `${quantity(status?.external?.current.value ?? status?.external?.current.averageValue)}/${metric.external?.target.value ?? metric.external?.target.averageValue ?? ""}`;
      default:
        return "<unknown>";
    }
  });
  const text = list.join(", ");
  return specs.length > shownMax ? `${text} + ${specs.length - shownMax} more...` : text;
}

const hpaPrinter: TablePrinter<HorizontalPodAutoscaler> = {
  columns: [
    nameColumn(),
    {
      name: "Reference",
      type: "string",
      description: "reference to scaled resource",
      cell: (h) => `${h.spec?.scaleTargetRef?.kind ?? ""}/${h.spec?.scaleTargetRef?.name ?? ""}`,
    },
    { name: "Targets", type: "string", description: "the current and target metrics", cell: hpaTargetsText },
    {
      name: "MinPods",
      type: "string",
      description: "lower limit for the number of pods that can be set by the autoscaler",
      cell: (h) => (h.spec?.minReplicas !== undefined ? `${h.spec.minReplicas}` : "<unset>"),
    },
    {
      name: "MaxPods",
      type: "integer",
      description: "upper limit for the number of pods that can be set by the autoscaler",
      cell: (h) => h.spec?.maxReplicas ?? 0,
    },
    {
      name: "Replicas",
      type: "integer",
      description: "current number of replicas of pods managed by this autoscaler",
      cell: (h) => h.status?.currentReplicas ?? 0,
    },
    ageColumn(),
  ],
};

// ---- RBAC ----

function subjectsOf(binding: RoleBinding | ClusterRoleBinding, kind: string): string {
  return (binding.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? binding.metadata.namespace ?? ""}/${s.name}` : s.name))
    .join(", ");
}

function bindingPrinter<T extends RoleBinding | ClusterRoleBinding>(): TablePrinter<T> {
  return {
    columns: [
      nameColumn(),
      {
        name: "Role",
        type: "string",
        description: "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
        cell: (b) => `${b.roleRef?.kind ?? ""}/${b.roleRef?.name ?? ""}`,
      },
      ageColumn(),
      wide({ name: "Users", type: "string", description: "Users in the roleBinding", cell: (b) => subjectsOf(b, "User") }),
      wide({ name: "Groups", type: "string", description: "Groups in the roleBinding", cell: (b) => subjectsOf(b, "Group") }),
      wide({ name: "ServiceAccounts", type: "string", description: "ServiceAccounts in the roleBinding", cell: (b) => subjectsOf(b, "ServiceAccount") }),
    ],
  };
}

// ---- metrics ----

function usageCells<T extends KubeObject>(usage: (o: T) => Record<string, string>[]): ColumnSpec<T>[] {
  const sum = (o: T, resource: string, toUnits: (q: string) => number): number =>
    usage(o).reduce((total, list) => {
      const q = list[resource];
      return total + (q !== undefined && isValidQuantity(q) ? toUnits(q) : 0);
    }, 0);
  return [
    { name: "CPU", type: "string", description: "CPU usage", cell: (o) => formatMilli(sum(o, "cpu", quantityToMilli)) },
    { name: "Memory", type: "string", description: "Memory usage", cell: (o) => formatBytes(sum(o, "memory", quantityToUnits)) },
  ];
}

const nodeMetricsPrinter: TablePrinter<NodeMetrics> = {
  columns: [
    nameColumn(),
    ...usageCells<NodeMetrics>((m) => [m.usage ?? {}]),
    { name: "Window", type: "string", description: "Window of the measurement", cell: (m) => m.window ?? "" },
  ],
};

const podMetricsPrinter: TablePrinter<PodMetrics> = {
  columns: [
    nameColumn(),
    ...usageCells<PodMetrics>((m) => (m.containers ?? []).map((c) => c.usage ?? {})),
    { name: "Window", type: "string", description: "Window of the measurement", cell: (m) => m.window ?? "" },
  ],
};

/** What the Kubernetes default table convertor shows for kinds without a printer. */
export const defaultPrinter: TablePrinter = { columns: [nameColumn(), createdAtColumn()] };

const roleLikePrinter: TablePrinter = { columns: [nameColumn(), createdAtColumn()] };

/** Printers by kind. Typed loosely here; each entry is only ever called with its own kind. */
export const printers: Readonly<Record<string, TablePrinter<never>>> = {
  Pod: podPrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  Service: servicePrinter,
  Endpoints: endpointsPrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  Event: eventPrinter,
  Deployment: deploymentPrinter,
  ReplicaSet: replicaSetPrinter,
  DaemonSet: daemonSetPrinter,
  Job: jobPrinter,
  Ingress: ingressPrinter,
  Lease: leasePrinter,
  HorizontalPodAutoscaler: hpaPrinter,
  Role: roleLikePrinter,
  ClusterRole: roleLikePrinter,
  RoleBinding: bindingPrinter<RoleBinding>(),
  ClusterRoleBinding: bindingPrinter<ClusterRoleBinding>(),
  NodeMetrics: nodeMetricsPrinter,
  PodMetrics: podMetricsPrinter,
};
