/**
 * How much a pod asks for and how much a node offers, in the units the scheduler compares:
 * cpu in millicores, memory in bytes, pods as a count. Requests are computed with Kubernetes'
 * rules (k8s.io/component-helpers/resource PodRequests):
 *
 * - regular containers run together, so their requests add up;
 * - ordinary init containers run one at a time before them, so the pod needs the largest of them
 *   (plus the sidecars started before it), not their sum;
 * - sidecars (init containers with `restartPolicy: Always`) keep running beside everything that
 *   starts after them, so they add to the total like regular containers.
 *
 *   request = max(sum(regular) + sum(sidecars), max over init containers i of (init_i + sidecars started before i))
 */
import { quantityToMilli, quantityToUnits, type Container, type Node, type PodSpec, type ResourceList } from "@coxswain/api";

export interface ResourceAmounts {
  cpuMilli: number;
  memoryBytes: number;
}

/** A node's aggregate: resources plus the pod count (Kubernetes' `pods` resource). */
export interface NodeResources extends ResourceAmounts {
  podCount: number;
}

/**
 * What the scheduler assumes a container uses when it requests nothing (schedutil.DefaultMilliCPURequest
 * and DefaultMemoryRequest). Only the spreading scores use these, so that many best-effort pods do
 * not all land on one node; the fit check uses the real (zero) requests.
 */
export const defaultCpuRequestMilli = 100;
export const defaultMemoryRequestBytes = 200 * 1024 * 1024;

export interface PodRequests {
  /** The pod's requests, for the fit check. */
  requested: ResourceAmounts;
  /** The same with the defaults above for each container that leaves cpu or memory unset, for scoring. */
  nonZeroRequested: ResourceAmounts;
}

export function zeroResources(): ResourceAmounts {
  return { cpuMilli: 0, memoryBytes: 0 };
}

function containerRequests(container: Container, nonZero: boolean): ResourceAmounts {
  const requests = container.resources?.requests;
  const cpu = requests?.["cpu"];
  const memory = requests?.["memory"];
  return {
    cpuMilli: cpu !== undefined ? quantityToMilli(cpu) : nonZero ? defaultCpuRequestMilli : 0,
    memoryBytes: memory !== undefined ? quantityToUnits(memory) : nonZero ? defaultMemoryRequestBytes : 0,
  };
}

function podRequestsOf(spec: PodSpec | undefined, nonZero: boolean): ResourceAmounts {
  const total = zeroResources();
  for (const container of spec?.containers ?? []) {
    const r = containerRequests(container, nonZero);
    total.cpuMilli += r.cpuMilli;
    total.memoryBytes += r.memoryBytes;
  }
  const sidecars = zeroResources();
  const initPeak = zeroResources();
  for (const container of spec?.initContainers ?? []) {
    const r = containerRequests(container, nonZero);
    let effective: ResourceAmounts;
    if (container.restartPolicy === "Always") {
      // A sidecar runs for the pod's whole life: it adds to the total, and every later init
      // container runs beside it (and beside the sidecars before it).
      total.cpuMilli += r.cpuMilli;
      total.memoryBytes += r.memoryBytes;
      sidecars.cpuMilli += r.cpuMilli;
      sidecars.memoryBytes += r.memoryBytes;
      effective = { ...sidecars };
    } else {
      effective = { cpuMilli: r.cpuMilli + sidecars.cpuMilli, memoryBytes: r.memoryBytes + sidecars.memoryBytes };
    }
    initPeak.cpuMilli = Math.max(initPeak.cpuMilli, effective.cpuMilli);
    initPeak.memoryBytes = Math.max(initPeak.memoryBytes, effective.memoryBytes);
  }
  // Each resource takes its own maximum: cpu may peak during init while memory peaks later.
  return { cpuMilli: Math.max(total.cpuMilli, initPeak.cpuMilli), memoryBytes: Math.max(total.memoryBytes, initPeak.memoryBytes) };
}

/** Throws QuantityParseError (from @coxswain/api) on a malformed quantity; the API server validates them first. */
export function computePodRequests(spec: PodSpec | undefined): PodRequests {
  return { requested: podRequestsOf(spec, false), nonZeroRequested: podRequestsOf(spec, true) };
}

function quantityOr0(list: ResourceList | undefined, name: string, toNumber: (q: string) => number): number {
  const value = list?.[name];
  if (value === undefined) return 0;
  try {
    return toNumber(value);
  } catch {
    // A node with a malformed allocatable offers nothing of that resource rather than breaking the cache.
    return 0;
  }
}

/** `status.allocatable` (what pods may use, capacity minus reservations), as the scheduler reads it. */
export function nodeAllocatable(node: Node): NodeResources {
  const allocatable = node.status?.allocatable;
  return {
    cpuMilli: quantityOr0(allocatable, "cpu", quantityToMilli),
    memoryBytes: quantityOr0(allocatable, "memory", quantityToUnits),
    podCount: quantityOr0(allocatable, "pods", quantityToUnits),
  };
}
