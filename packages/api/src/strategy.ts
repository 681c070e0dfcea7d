/**
 * What the apiserver does to an object beyond defaulting and validation, per kind (Kubernetes'
 * registry "strategies"): reset status on create, keep status on a main-resource update and the
 * spec on a status update, bump metadata.generation when the spec changes, and a few kind rules
 * (Pod QoS class, Secret stringData, Job selectors, Service cluster IPs kept across updates).
 */
import type { KubeObject } from "./types/meta/v1.js";
import type { Pod, PodSpec } from "./types/core/pod.js";
import type { Secret } from "./types/core/config.js";
import type { Service } from "./types/core/service.js";
import type { Namespace } from "./types/core/namespace.js";
import type { Job } from "./types/batch/v1.js";
import { deepClone, deepEqual } from "./util/json.js";
import { isValidQuantity, parseQuantity } from "./quantity.js";

/** A record view of an object, for the generic parts of a strategy. */
type Fields = Record<string, unknown>;
const fields = (obj: KubeObject): Fields => obj as unknown as Fields;

export interface StrategyRules {
  /** The object has a status that only the status subresource writes. */
  hasStatus: boolean;
  /** metadata.generation starts at 1 and goes up by one whenever a spec field changes. */
  tracksGeneration: boolean;
  /** Top-level fields that make up the "spec" for generation tracking. */
  specFields: readonly string[];
  /** What status an object starts with (Pods start Pending; Nodes keep what the agent sent). */
  initialStatus?: (obj: KubeObject) => unknown;
  prepareForCreate?: (obj: KubeObject) => void;
  prepareForUpdate?: (obj: KubeObject, old: KubeObject) => void;
}

export function prepareForCreate(obj: KubeObject, rules: StrategyRules): void {
  if (rules.hasStatus) {
    const status = rules.initialStatus ? rules.initialStatus(obj) : {};
    if (status === undefined) delete fields(obj).status;
    else fields(obj).status = status;
  }
  if (rules.tracksGeneration) obj.metadata.generation = 1;
  else delete obj.metadata.generation;
  rules.prepareForCreate?.(obj);
}

export function prepareForUpdate(obj: KubeObject, old: KubeObject, rules: StrategyRules): void {
  if (rules.hasStatus) {
    const oldStatus = fields(old).status;
    if (oldStatus === undefined) delete fields(obj).status;
    else fields(obj).status = deepClone(oldStatus);
  }
  if (rules.tracksGeneration) {
    const previous = old.metadata.generation ?? 1;
    const specChanged = rules.specFields.some((f) => !deepEqual(fields(obj)[f] ?? null, fields(old)[f] ?? null));
    obj.metadata.generation = specChanged ? previous + 1 : previous;
  } else if (old.metadata.generation !== undefined) {
    obj.metadata.generation = old.metadata.generation;
  }
  rules.prepareForUpdate?.(obj, old);
}

/** A status update changes status and nothing else: the result is the stored object with the new status. */
export function prepareForStatusUpdate(obj: KubeObject, old: KubeObject): KubeObject {
  const result = deepClone(old);
  const status = fields(obj).status;
  if (status === undefined) delete fields(result).status;
  else fields(result).status = deepClone(status);
  return result;
}

// ---- kind rules ----

/** The pod's QoS class, as the kubelet and the apiserver compute it (qos.GetPodQOS). */
export function podQosClass(spec: PodSpec | undefined): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    const positive = (list: Record<string, string>, name: string): boolean => {
      const q = list[name];
      return q !== undefined && isValidQuantity(q) && parseQuantity(q) > 0;
    };
    for (const name of ["cpu", "memory"]) {
      if (positive(requests, name) || positive(limits, name)) any = true;
      const request = requests[name] ?? limits[name];
      const limit = limits[name];
      if (
        !positive(limits, name) ||
        request === undefined ||
        !isValidQuantity(request) ||
        limit === undefined ||
        parseQuantity(request) !== parseQuantity(limit)
      )
        guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

export function podInitialStatus(obj: KubeObject): unknown {
  const pod = obj as Pod;
  return { phase: "Pending", qosClass: podQosClass(pod.spec) };
}

/** Namespaces start Active with the "kubernetes" finalizer that the namespace controller removes. */
export function prepareNamespaceForCreate(obj: KubeObject): void {
  const ns = obj as Namespace;
  ns.spec ??= {};
  ns.spec.finalizers ??= ["kubernetes"];
}

export function prepareNamespaceForUpdate(obj: KubeObject, old: KubeObject): void {
  const ns = obj as Namespace;
  const previous = (old as Namespace).spec?.finalizers;
  // Finalizers of a namespace change only through its finalize subresource.
  if (previous !== undefined) ns.spec = { ...(ns.spec ?? {}), finalizers: [...previous] };
}

/** Secret.stringData is write-only: its values are base64-encoded into data and it is dropped. */
export function mergeSecretStringData(obj: KubeObject): void {
  const secret = obj as Secret;
  if (secret.stringData === undefined) return;
  secret.data ??= {};
  for (const [key, value] of Object.entries(secret.stringData)) secret.data[key] = Buffer.from(value, "utf8").toString("base64");
  delete secret.stringData;
}

/** Fields the apiserver allocated on create that a full replace may leave out (`kubectl replace`). */
export function preserveServiceAllocations(obj: KubeObject, old: KubeObject): void {
  const spec = (obj as Service).spec;
  const oldSpec = (old as Service).spec;
  if (spec === undefined || oldSpec === undefined) return;
  const keepsIp = spec.type !== "ExternalName" && oldSpec.type !== "ExternalName";
  if (keepsIp && !spec.clusterIP && oldSpec.clusterIP) {
    spec.clusterIP = oldSpec.clusterIP;
    if (oldSpec.clusterIPs) spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  if (spec.type === oldSpec.type && (spec.type === "NodePort" || spec.type === "LoadBalancer")) {
    for (const port of spec.ports ?? []) {
      if (port.nodePort) continue;
      const previous = (oldSpec.ports ?? []).find((p) => p.port === port.port && (p.protocol ?? "TCP") === (port.protocol ?? "TCP"));
      if (previous?.nodePort) port.nodePort = previous.nodePort;
    }
  }
}

export const jobControllerUidLabel = "batch.kubernetes.io/controller-uid";
export const jobNameLabel = "batch.kubernetes.io/job-name";
/** The labels Kubernetes also sets for older clients. */
export const legacyJobControllerUidLabel = "controller-uid";
export const legacyJobNameLabel = "job-name";

/**
 * Unless `manualSelector` is true, a Job selects its pods by its own uid and its pod template
 * carries that label (Kubernetes' generateSelector; needs metadata.uid, so it runs after the
 * apiserver assigned it).
 */
export function generateJobSelector(obj: KubeObject): void {
  const job = obj as Job;
  const uid = job.metadata.uid;
  if (job.spec === undefined || job.spec.manualSelector === true || !uid) return;
  const template = (job.spec.template ??= {});
  const metadata = (template.metadata ??= {});
  const labels = (metadata.labels ??= {});
  labels[jobControllerUidLabel] ??= uid;
  labels[legacyJobControllerUidLabel] ??= uid;
  if (job.metadata.name) {
    labels[jobNameLabel] ??= job.metadata.name;
    labels[legacyJobNameLabel] ??= job.metadata.name;
  }
  job.spec.selector ??= { matchLabels: { [jobControllerUidLabel]: uid } };
}

const nameSuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";
/** Kubernetes keeps generated names within 63 characters: 58 of prefix plus 5 random. */
export const generatedNamePrefixMax = 58;
export const generatedNameSuffixLength = 5;

/** names.SimpleNameGenerator: `web-` → `web-x7k2p`. `randomInt(n)` is injected so tests can pin it. */
export function generateNameFromPrefix(prefix: string, randomInt: (exclusiveMax: number) => number): string {
  let suffix = "";
  for (let i = 0; i < generatedNameSuffixLength; i++) suffix += nameSuffixAlphabet[randomInt(nameSuffixAlphabet.length)] ?? "x";
  return `${prefix.slice(0, generatedNamePrefixMax)}${suffix}`;
}
