/**
 * meta.k8s.io/v1: the object envelope every Kubernetes resource shares (TypeMeta, ObjectMeta,
 * ListMeta), the Status error body, watch events, Tables and discovery documents. Field names are
 * Kubernetes' JSON names, so these objects travel over the wire unchanged.
 */

/** RFC 3339 time with second precision, as Kubernetes serialises metav1.Time ("2024-05-01T10:00:00Z"). */
export type Time = string;
/** RFC 3339 time with microseconds (metav1.MicroTime), used by Lease and Event series. */
export type MicroTime = string;
/** Go's time.Duration as JSON ("30s", "1m0s"); used by HPA behaviour and metrics windows. */
export type Duration = string;
/** A Kubernetes resource.Quantity ("100m", "128Mi", "1.5"); see quantity.ts. */
export type Quantity = string;
/** intstr.IntOrString: a port number or port name, a count or a percentage ("25%"). */
export type IntOrString = number | string;

export interface TypeMeta {
  apiVersion?: string;
  kind?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Server-side apply bookkeeping; Coxswain stores it unchanged and never interprets it. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update";
  apiVersion?: string;
  time?: Time;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  selfLink?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: Time | null;
  deletionTimestamp?: Time | null;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
}

export interface ListMeta {
  selfLink?: string;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Any API object: TypeMeta plus ObjectMeta. Every kind in this package extends it. */
export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta;
}

export interface KubeList<T extends KubeObject = KubeObject> extends TypeMeta {
  metadata: ListMeta;
  items: T[];
}

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** metav1.Condition, the newer condition shape (Lease-free kinds such as Job use their own). */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: Time;
  reason: string;
  message: string;
}

export interface StatusCause {
  /** The CauseType, e.g. "FieldValueInvalid"; JSON name is `reason`. */
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The error (and sometimes success) body of every failed request: kubectl prints `message`. */
export interface Status extends TypeMeta {
  kind: "Status";
  apiVersion: "v1";
  metadata: ListMeta;
  status?: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export type DeletionPropagation = "Orphan" | "Background" | "Foreground";

export interface DeleteOptions extends TypeMeta {
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  orphanDependents?: boolean;
  propagationPolicy?: DeletionPropagation;
  dryRun?: string[];
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent<T = KubeObject | Status> {
  type: WatchEventType;
  object: T;
}

export interface TableColumnDefinition {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format: string;
  description: string;
  priority: number;
}

/** Metadata-only view of an object, what a Table row carries when includeObject=Metadata. */
export interface PartialObjectMetadata extends TypeMeta {
  kind: "PartialObjectMetadata";
  apiVersion: "meta.k8s.io/v1";
  metadata: ObjectMeta;
}

export type TableCell = string | number | boolean | null;

export interface TableRow {
  cells: TableCell[];
  conditions?: { type: string; status: ConditionStatus; reason?: string; message?: string }[];
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table extends TypeMeta {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

export interface APIResourceList extends TypeMeta {
  kind: "APIResourceList";
  groupVersion: string;
  resources: APIResource[];
}

export interface APIGroup extends TypeMeta {
  kind?: "APIGroup";
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
}

export interface APIGroupList extends TypeMeta {
  kind: "APIGroupList";
  groups: APIGroup[];
}

export interface APIVersions extends TypeMeta {
  kind: "APIVersions";
  versions: string[];
  serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[];
}
