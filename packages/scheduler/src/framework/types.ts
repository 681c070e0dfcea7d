/**
 * The two things every plugin looks at: a `PodInfo` (the pod plus what is derived from it once,
 * such as its requests and host ports) and a `NodeInfo` (a node plus the aggregate of the pods
 * on it, assumed ones included). Plugins treat both as read-only; only the cache mutates NodeInfo.
 */
import { QuantityParseError, type Node, type Pod } from "@coxswain/api";
import { assert } from "@coxswain/raft";
import { HostPortUsage, podHostPorts, type HostPort } from "./host-ports.js";
import { computePodRequests, nodeAllocatable, zeroResources, type NodeResources, type PodRequests, type ResourceAmounts } from "./resources.js";

/** The highest score a score plugin may give one node (framework.MaxNodeScore). */
export const maxNodeScore = 100;

/** `namespace/name`: the key the queue and events use. */
export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;
}

/** The key the cache uses: the UID, so that a pod recreated under the same name is a different pod. */
export function podCacheKey(pod: Pod): string {
  return pod.metadata.uid || podKey(pod);
}

export class PodInfo {
  readonly key: string;
  readonly cacheKey: string;
  readonly requests: PodRequests;
  /** Set when the pod's requests could not be parsed; NodeResourcesFit rejects such a pod. */
  readonly invalidRequests: string | undefined;
  readonly hostPorts: readonly HostPort[];
  /** spec.priority (filled from the PriorityClass by admission); higher is scheduled first. */
  readonly priority: number;

  private constructor(
    readonly pod: Pod,
    derived?: { requests: PodRequests; invalidRequests: string | undefined; hostPorts: readonly HostPort[] },
  ) {
    this.key = podKey(pod);
    this.cacheKey = podCacheKey(pod);
    this.priority = pod.spec?.priority ?? 0;
    if (derived !== undefined) {
      this.requests = derived.requests;
      this.invalidRequests = derived.invalidRequests;
      this.hostPorts = derived.hostPorts;
      return;
    }
    let requests: PodRequests = { requested: zeroResources(), nonZeroRequested: zeroResources() };
    let invalid: string | undefined;
    try {
      requests = computePodRequests(pod.spec);
    } catch (err) {
      if (!(err instanceof QuantityParseError)) throw err;
      invalid = `invalid resource request: ${err.message}`;
    }
    this.requests = requests;
    this.invalidRequests = invalid;
    this.hostPorts = podHostPorts(pod.spec);
  }

  static of(pod: Pod): PodInfo {
    return new PodInfo(pod);
  }

  /** The same pod as if bound to `nodeName`: a shallow copy, never a mutation of the informer's object. */
  withNodeName(nodeName: string): PodInfo {
    const pod: Pod = { ...this.pod, spec: { containers: [], ...this.pod.spec, nodeName } };
    return new PodInfo(pod, { requests: this.requests, invalidRequests: this.invalidRequests, hostPorts: this.hostPorts });
  }

  get nodeName(): string | undefined {
    return this.pod.spec?.nodeName || undefined;
  }
}

/**
 * One node and the aggregate of its pods. `node` is undefined when pods reference a node the cache
 * has not seen (yet) or that was deleted while pods still ran on it; such entries are kept for the
 * accounting but are never offered to plugins.
 */
export class NodeInfo {
  node: Node | undefined = undefined;
  allocatable: NodeResources = { cpuMilli: 0, memoryBytes: 0, podCount: 0 };
  /** Sum of the pods' requests (podCount is the number of pods). */
  requested: NodeResources = { cpuMilli: 0, memoryBytes: 0, podCount: 0 };
  /** Sum of the pods' requests with defaults for unset ones (see resources.ts), for the spreading scores. */
  nonZeroRequested: ResourceAmounts = zeroResources();
  usedPorts = new HostPortUsage();
  /** By cache key (UID). */
  pods = new Map<string, PodInfo>();
  /** Bumped by the cache on every change; the snapshot recopies only nodes newer than itself. */
  generation = 0;

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    assert(node.metadata.name === this.name, "a NodeInfo holds only the node of its own name");
    this.node = node;
    this.allocatable = nodeAllocatable(node);
  }

  clearNode(): void {
    this.node = undefined;
    this.allocatable = { cpuMilli: 0, memoryBytes: 0, podCount: 0 };
  }

  addPod(pod: PodInfo): void {
    assert(!this.pods.has(pod.cacheKey), "a pod is added to a node once");
    this.pods.set(pod.cacheKey, pod);
    this.account(pod, +1);
  }

  /** Returns false if the pod was not on this node. */
  removePod(cacheKey: string): boolean {
    const pod = this.pods.get(cacheKey);
    if (pod === undefined) return false;
    this.pods.delete(cacheKey);
    this.account(pod, -1);
    return true;
  }

  private account(pod: PodInfo, sign: 1 | -1): void {
    const { requested, nonZeroRequested } = pod.requests;
    this.requested.cpuMilli += sign * requested.cpuMilli;
    this.requested.memoryBytes += sign * requested.memoryBytes;
    this.requested.podCount += sign;
    this.nonZeroRequested.cpuMilli += sign * nonZeroRequested.cpuMilli;
    this.nonZeroRequested.memoryBytes += sign * nonZeroRequested.memoryBytes;
    for (const port of pod.hostPorts) {
      if (sign > 0) this.usedPorts.add(port);
      else this.usedPorts.remove(port);
    }
    assert(this.requested.podCount === this.pods.size, "the pod count follows the pods map");
  }

  /** Makes this a copy of `other` (the snapshot reuses its objects so its node list stays valid). */
  copyFrom(other: NodeInfo): void {
    assert(other.name === this.name, "copy only between infos of the same node");
    this.node = other.node;
    this.allocatable = { ...other.allocatable };
    this.requested = { ...other.requested };
    this.nonZeroRequested = { ...other.nonZeroRequested };
    this.usedPorts = other.usedPorts.clone();
    this.pods = new Map(other.pods);
    this.generation = other.generation;
  }

  clone(): NodeInfo {
    const copy = new NodeInfo(this.name);
    copy.copyFrom(this);
    return copy;
  }
}
