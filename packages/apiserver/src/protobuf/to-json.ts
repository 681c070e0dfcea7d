/**
 * Decoded Kubernetes protobuf messages → the JSON Kubernetes itself would write for the same Go
 * object, so that the rest of the server (defaulting, validation, storage) sees exactly what a JSON
 * client would have sent.
 *
 * The rules follow from how Go's generated marshalers and encoding/json treat the same struct:
 * - Plain (non-pointer) fields are always on the wire, even when empty; JSON omits empty ones
 *   (`omitempty`). So a zero string, number or bool is left out...
 * - ...except for pointer fields, which are on the wire only when set: there zero is meaningful
 *   (`replicas: 0`, `automountServiceAccountToken: false`) and kept (POINTER_FIELDS); and for the
 *   few plain fields whose JSON tag lacks omitempty (WITHOUT_OMITEMPTY).
 * - A nested message that is on the wire becomes an object, `{}` when empty, as Go's JSON writes
 *   structs; repeated fields and maps are left out when empty.
 * - Time → RFC 3339 in seconds (`2026-01-02T03:04:05Z`), omitted when zero; Quantity → its string;
 *   IntOrString → a number or a string; bytes → base64.
 * Field names are the proto names, which Kubernetes generates from the JSON tags; the one inlined
 * struct (IngressRule's IngressRuleValue) is merged into its parent as JSON does.
 *
 * Fields the .proto files in proto/k8s do not list arrive as unknown fields. An empty one is what a
 * newer client writes for a plain field it left empty (JSON would omit it too), so it is ignored;
 * any other is refused, naming the message and field number, rather than silently dropped.
 */
import { k8spb, protobuf } from "@coxswain/proto";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** The body uses a field this decoder does not know: answered 415 (send JSON instead). */
export class ProtobufFieldUnsupportedError extends Error {
  override readonly name = "ProtobufFieldUnsupportedError";

  constructor(
    readonly messageType: string,
    readonly fieldNumber: number,
    readonly path: string,
  ) {
    super(`field number ${fieldNumber} of ${messageType} (at ${path === "" ? "the top level" : path}) is not understood by this server's protobuf decoder`);
  }
}

/** A value no Kubernetes client could have encoded (a time out of range, an IntOrString of a third type): answered 400. */
export class ProtobufValueInvalidError extends Error {
  override readonly name = "ProtobufValueInvalidError";
}

const { Time } = k8spb.apimachinery.pkg.apis.meta.v1;
const { Quantity } = k8spb.apimachinery.pkg.api.resource;
const { IntOrString } = k8spb.apimachinery.pkg.util.intstr;

/** Go's zero time.Time (0001-01-01T00:00:00Z) in Unix seconds, and the last second RFC 3339 can write. */
const GO_ZERO_TIME_UNIX_SECONDS = -62_135_596_800;
const RFC3339_LAST_UNIX_SECONDS = 253_402_300_799;

/**
 * Pointer fields of Kubernetes' Go types: on the wire only when set, so a zero value was asked for
 * (`replicas: 0`, `automountServiceAccountToken: false`) and is kept. Named
 * "<group>.<version>.<Message>.<field>".
 */
const POINTER_FIELDS: readonly string[] = [
  "meta.v1.ObjectMeta.deletionGracePeriodSeconds",
  "meta.v1.OwnerReference.controller",
  "meta.v1.OwnerReference.blockOwnerDeletion",
  "core.v1.ConfigMap.immutable",
  "core.v1.Secret.immutable",
  "core.v1.ServiceAccount.automountServiceAccountToken",
  "core.v1.TypedLocalObjectReference.apiGroup",
  "core.v1.ServiceSpec.ipFamilyPolicy",
  "core.v1.ServiceSpec.allocateLoadBalancerNodePorts",
  "core.v1.ServiceSpec.loadBalancerClass",
  "core.v1.ServiceSpec.internalTrafficPolicy",
  "core.v1.ServiceSpec.trafficDistribution",
  "core.v1.ServicePort.appProtocol",
  "core.v1.ClientIPConfig.timeoutSeconds",
  "core.v1.LoadBalancerIngress.ipMode",
  "core.v1.PortStatus.error",
  "core.v1.PodSpec.terminationGracePeriodSeconds",
  "core.v1.PodSpec.activeDeadlineSeconds",
  "core.v1.PodSpec.automountServiceAccountToken",
  "core.v1.PodSpec.priority",
  "core.v1.PodSpec.shareProcessNamespace",
  "core.v1.PodSpec.runtimeClassName",
  "core.v1.PodSpec.enableServiceLinks",
  "core.v1.PodSpec.preemptionPolicy",
  "core.v1.PodSpec.setHostnameAsFQDN",
  "core.v1.PodSpec.hostUsers",
  "core.v1.PodSpec.hostnameOverride",
  "core.v1.Container.restartPolicy",
  "core.v1.Toleration.tolerationSeconds",
  "apps.v1.DeploymentSpec.replicas",
  "apps.v1.DeploymentSpec.revisionHistoryLimit",
  "apps.v1.DeploymentSpec.progressDeadlineSeconds",
  "apps.v1.DeploymentSpec.podReplacementPolicy",
  "apps.v1.DeploymentStatus.collisionCount",
  "apps.v1.DeploymentStatus.terminatingReplicas",
  "apps.v1.RollingUpdateDeployment.maxUnavailable",
  "apps.v1.RollingUpdateDeployment.maxSurge",
  "batch.v1.JobSpec.parallelism",
  "batch.v1.JobSpec.completions",
  "batch.v1.JobSpec.activeDeadlineSeconds",
  "batch.v1.JobSpec.manualSelector",
  "batch.v1.JobSpec.backoffLimit",
  "batch.v1.JobSpec.ttlSecondsAfterFinished",
  "batch.v1.JobSpec.completionMode",
  "batch.v1.JobSpec.suspend",
  "batch.v1.JobSpec.backoffLimitPerIndex",
  "batch.v1.JobSpec.maxFailedIndexes",
  "batch.v1.JobSpec.podReplacementPolicy",
  "batch.v1.JobSpec.managedBy",
  "batch.v1.JobStatus.ready",
  "batch.v1.JobStatus.failedIndexes",
  "batch.v1.JobStatus.terminating",
  "autoscaling.v1.HorizontalPodAutoscalerSpec.minReplicas",
  "autoscaling.v1.HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage",
  "autoscaling.v1.HorizontalPodAutoscalerStatus.observedGeneration",
  "autoscaling.v1.HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage",
  "networking.v1.IngressSpec.ingressClassName",
  "networking.v1.HTTPIngressPath.pathType",
  "networking.v1.IngressPortStatus.error",
  "policy.v1.PodDisruptionBudgetSpec.minAvailable",
  "policy.v1.PodDisruptionBudgetSpec.maxUnavailable",
  "policy.v1.PodDisruptionBudgetSpec.unhealthyPodEvictionPolicy",
  "scheduling.v1.PriorityClass.preemptionPolicy",
];

/** Plain fields whose JSON tag has no omitempty: Kubernetes writes them even when zero. */
const WITHOUT_OMITEMPTY: readonly string[] = [
  "meta.v1.OwnerReference.apiVersion",
  "meta.v1.OwnerReference.kind",
  "meta.v1.OwnerReference.name",
  "meta.v1.OwnerReference.uid",
  "meta.v1.LabelSelectorRequirement.key",
  "meta.v1.LabelSelectorRequirement.operator",
  "meta.v1.Condition.type",
  "meta.v1.Condition.status",
  "meta.v1.Condition.reason",
  "meta.v1.Condition.message",
  "core.v1.TypedLocalObjectReference.kind",
  "core.v1.TypedLocalObjectReference.name",
  "core.v1.NamespaceCondition.type",
  "core.v1.NamespaceCondition.status",
  "core.v1.ServicePort.port",
  "core.v1.PortStatus.port",
  "core.v1.PortStatus.protocol",
  "core.v1.ScopedResourceSelectorRequirement.scopeName",
  "core.v1.ScopedResourceSelectorRequirement.operator",
  "core.v1.Container.name",
  "core.v1.ContainerPort.containerPort",
  "core.v1.EnvVar.name",
  "core.v1.ResourceClaim.name",
  "core.v1.ContainerResizePolicy.resourceName",
  "core.v1.ContainerResizePolicy.restartPolicy",
  "core.v1.PodReadinessGate.conditionType",
  "core.v1.PodSchedulingGate.name",
  "apps.v1.DeploymentCondition.type",
  "apps.v1.DeploymentCondition.status",
  "batch.v1.JobCondition.type",
  "batch.v1.JobCondition.status",
  "rbac.v1.RoleRef.apiGroup",
  "rbac.v1.RoleRef.kind",
  "rbac.v1.RoleRef.name",
  "rbac.v1.Subject.kind",
  "rbac.v1.Subject.name",
  "autoscaling.v1.HorizontalPodAutoscalerSpec.maxReplicas",
  "autoscaling.v1.CrossVersionObjectReference.kind",
  "autoscaling.v1.CrossVersionObjectReference.name",
  "autoscaling.v1.HorizontalPodAutoscalerStatus.currentReplicas",
  "autoscaling.v1.HorizontalPodAutoscalerStatus.desiredReplicas",
  "networking.v1.IngressServiceBackend.name",
  "networking.v1.IngressPortStatus.port",
  "networking.v1.IngressPortStatus.protocol",
  "policy.v1.PodDisruptionBudgetStatus.disruptionsAllowed",
  "policy.v1.PodDisruptionBudgetStatus.currentHealthy",
  "policy.v1.PodDisruptionBudgetStatus.desiredHealthy",
  "policy.v1.PodDisruptionBudgetStatus.expectedPods",
  "scheduling.v1.PriorityClass.value",
];

/** Fields whose zero value appears in the JSON. */
const KEEP_ZERO: ReadonlySet<string> = new Set([...POINTER_FIELDS, ...WITHOUT_OMITEMPTY]);

/** Embedded structs that JSON inlines (`json:",inline"`): their fields appear in the parent. */
const INLINE: ReadonlySet<string> = new Set(["networking.v1.IngressRule.ingressRuleValue"]);

interface GeneratedMessageClass {
  getTypeUrl(prefix?: string): string;
}

function isMessage(value: object): boolean {
  return typeof (value.constructor as unknown as Partial<GeneratedMessageClass> | undefined)?.getTypeUrl === "function";
}

/** "k8s.io.api.apps.v1.DeploymentSpec" → "apps.v1.DeploymentSpec"; meta types → "meta.v1.ObjectMeta". */
function typeNameOf(message: object): string {
  const url = (message.constructor as unknown as GeneratedMessageClass).getTypeUrl("");
  return url.replace(/^\/?k8s\.io\.(api\.|apimachinery\.pkg\.apis\.|apimachinery\.pkg\.)/, "");
}

/** Sets a key as an own property, also for "__proto__" (a legal ConfigMap key), as JSON.parse would. */
function setEntry(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function isZero(value: unknown): boolean {
  return value === "" || value === 0 || value === false;
}

/** Converts one decoded message; `path` (e.g. "spec.template.spec") is for error messages. */
export function messageToJson(message: object, path: string): JsonObject {
  const type = typeNameOf(message);
  rejectUnknownFields(message, type, path);
  const out: JsonObject = {};
  for (const [field, value] of Object.entries(message)) {
    const qualified = `${type}.${field}`;
    const json = fieldToJson(value, path === "" ? field : `${path}.${field}`, KEEP_ZERO.has(qualified));
    if (json === undefined) continue;
    if (INLINE.has(qualified) && json !== null && typeof json === "object" && !Array.isArray(json)) {
      for (const [k, v] of Object.entries(json)) setEntry(out, k, v);
      continue;
    }
    setEntry(out, field, json);
  }
  return out;
}

/** One field's JSON value, or undefined when JSON would omit it. */
function fieldToJson(value: unknown, path: string, keepZero: boolean): JsonValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    return value.map((item: unknown, i) => valueToJson(item, `${path}[${i}]`));
  }
  if (value instanceof Uint8Array) return value.length === 0 && !keepZero ? undefined : base64(value);
  if (typeof value === "object") {
    if (value instanceof Time) return timeToJson(value, path);
    if (value instanceof IntOrString) {
      const json = intOrStringToJson(value, path);
      return isZero(json) && !keepZero ? undefined : json;
    }
    if (isMessage(value)) return valueToJson(value, path);
    // A map field: every entry is kept, empty values included (`--from-literal=a=` is legal).
    const entries = Object.entries(value);
    if (entries.length === 0) return undefined;
    const out: JsonObject = {};
    for (const [key, entry] of entries) setEntry(out, key, mapValueToJson(entry, `${path}[${JSON.stringify(key)}]`));
    return out;
  }
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return isZero(value) && !keepZero ? undefined : value;
  }
  throw new ProtobufValueInvalidError(`${path}: unexpected decoded value of type ${typeof value}`);
}

/** An element of a repeated field: kept as it is, even when empty. */
function valueToJson(value: unknown, path: string): JsonValue {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return base64(value);
  if (value instanceof Time) return timeToJson(value, path) ?? null;
  if (value instanceof Quantity) return value.string;
  if (value instanceof IntOrString) return intOrStringToJson(value, path);
  if (value !== null && typeof value === "object" && isMessage(value)) return messageToJson(value, path);
  throw new ProtobufValueInvalidError(`${path}: unexpected decoded value`);
}

/** A map value; a bytes entry without its value decodes as [] (protobufjs' default), i.e. empty bytes. */
function mapValueToJson(value: unknown, path: string): JsonValue {
  if (Array.isArray(value)) return "";
  // A message-valued entry whose value is missing: Go decodes the zero value (Quantity "0", zero Time).
  if (value === null || value === undefined) return null;
  return valueToJson(value, path);
}

function timeToJson(time: InstanceType<typeof Time>, path: string): string | undefined {
  // Go writes the zero time as an empty message; an explicit 0001-01-01T00:00:00Z means the same.
  if (!Object.hasOwn(time, "seconds") && !Object.hasOwn(time, "nanos")) return undefined;
  if (time.seconds === GO_ZERO_TIME_UNIX_SECONDS && time.nanos === 0) return undefined;
  if (time.seconds < GO_ZERO_TIME_UNIX_SECONDS || time.seconds > RFC3339_LAST_UNIX_SECONDS) {
    throw new ProtobufValueInvalidError(`${path}: time ${time.seconds}s since 1970 is outside 0001-01-01..9999-12-31`);
  }
  if (time.nanos < 0 || time.nanos > 999_999_999) throw new ProtobufValueInvalidError(`${path}: nanos ${time.nanos} is outside 0..999999999`);
  // metav1.Time marshals to JSON at second precision.
  return new Date(time.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function intOrStringToJson(value: InstanceType<typeof IntOrString>, path: string): number | string {
  if (value.type === 0) return value.intVal;
  if (value.type === 1) return value.strVal;
  throw new ProtobufValueInvalidError(`${path}: IntOrString type ${value.type} is neither 0 (int) nor 1 (string)`);
}

/** Throws for any non-empty field that the generated decoder did not know (kept in `$unknowns`). */
function rejectUnknownFields(message: object, type: string, path: string): void {
  const unknowns = (message as { $unknowns?: Uint8Array[] }).$unknowns;
  if (unknowns === undefined) return;
  for (const raw of unknowns) {
    const reader = protobuf.Reader.create(raw);
    const tag = reader.uint32();
    const fieldNumber = tag >>> 3;
    const payload = raw.subarray(reader.pos);
    let empty: boolean;
    switch (tag & 7) {
      case 0: // varint: zero in any encoding length
        empty = payload.every((b) => (b & 0x7f) === 0);
        break;
      case 1: // fixed64
      case 5: // fixed32
        empty = payload.every((b) => b === 0);
        break;
      case 2: // length-delimited: empty string, bytes or message
        empty = reader.uint32() === 0;
        break;
      default:
        empty = false;
    }
    if (!empty) throw new ProtobufFieldUnsupportedError(type, fieldNumber, path);
  }
}
