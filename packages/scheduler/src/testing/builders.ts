/** Small builders for nodes and pods in tests (kube-scheduler's st.MakePod/MakeNode, much reduced). */
import type { Affinity, Container, Node, NodeCondition, Pod, Taint, Toleration } from "@coxswain/api";
import { NodeInfo, PodInfo } from "../framework/types.js";

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** The Ready condition's status; "missing" leaves the condition out. Default "True". */
  ready?: NodeCondition["status"] | "missing";
}

export function makeNode(name: string, options: NodeOptions = {}): Node {
  const ready = options.ready ?? "True";
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-node-${name}`, labels: { "kubernetes.io/hostname": name, ...options.labels } },
    spec: { unschedulable: options.unschedulable, taints: options.taints },
    status: {
      allocatable: { cpu: options.cpu ?? "4", memory: options.memory ?? "8Gi", pods: options.pods ?? "110" },
      conditions: ready === "missing" ? [] : [{ type: "Ready", status: ready }],
    },
  };
}

export interface PodOptions {
  namespace?: string;
  uid?: string;
  /** Requests of the single container (ignored when `containers` is given). */
  cpu?: string;
  memory?: string;
  containers?: Container[];
  initContainers?: Container[];
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  hostPorts?: number[];
  priority?: number;
  nodeName?: string;
  schedulerName?: string;
}

export function container(name: string, requests: Record<string, string> = {}, extra: Partial<Container> = {}): Container {
  return { name, image: "busybox", resources: Object.keys(requests).length > 0 ? { requests } : {}, ...extra };
}

export function makePod(name: string, options: PodOptions = {}): Pod {
  const namespace = options.namespace ?? "default";
  const requests: Record<string, string> = {};
  if (options.cpu !== undefined) requests["cpu"] = options.cpu;
  if (options.memory !== undefined) requests["memory"] = options.memory;
  const main = container("main", requests, {
    ports: options.hostPorts?.map((port) => ({ containerPort: port, hostPort: port, protocol: "TCP" as const })),
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, uid: options.uid ?? `uid-${namespace}-${name}` },
    spec: {
      containers: options.containers ?? [main],
      initContainers: options.initContainers,
      nodeSelector: options.nodeSelector,
      affinity: options.affinity,
      tolerations: options.tolerations,
      priority: options.priority,
      nodeName: options.nodeName,
      schedulerName: options.schedulerName,
    },
    status: { phase: "Pending" },
  };
}

/** A NodeInfo for `node` holding `pods` (their nodeName is set to the node's). */
export function nodeInfoWith(node: Node, pods: Pod[] = []): NodeInfo {
  const info = new NodeInfo(node.metadata.name ?? "");
  info.setNode(node);
  for (const pod of pods) info.addPod(PodInfo.of(pod).withNodeName(info.name));
  return info;
}
