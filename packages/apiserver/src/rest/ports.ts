/**
 * What the REST front end needs from the layers behind it. The storage layer (../storage), the
 * authenticator and authorizer (../auth) and the admission chain (../admission) implement these;
 * tests can supply fakes. Keeping the front end on interfaces keeps it free of etcd and TLS details.
 */
import type { KubeObject, ResourceDescriptor, Selector, FieldSelector } from "@coxswain/api";

import type { UserInfo } from "../auth/user.js";

export type { UserInfo };

export interface ListOptions {
  /** "" for all namespaces (or a cluster-scoped resource). */
  namespace: string;
  labelSelector: Selector;
  fieldSelector: FieldSelector;
  limit: number;
  continueToken: string;
  /** "" or "0": any recent state; otherwise at least this revision (or exactly it, with resourceVersionMatch=Exact). */
  resourceVersion: string;
  /** The resourceVersionMatch parameter as sent ("", "NotOlderThan" or "Exact"; others are refused by the storage). */
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  namespace: string;
  labelSelector: Selector;
  fieldSelector: FieldSelector;
  resourceVersion: string;
  allowBookmarks: boolean;
  /** A single object watch (fieldSelector metadata.name=...). */
}

export interface WatchEventOut {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
  /** The event's JSON line (without newline), encoded once for every watcher, when available. */
  json?: string;
}

/** A live watch: events until closed by either side. */
export interface WatchStream extends AsyncIterable<WatchEventOut> {
  close(): void;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface ObjectStorage {
  create(r: ResourceDescriptor, obj: KubeObject): Promise<KubeObject>;
  get(r: ResourceDescriptor, namespace: string, name: string): Promise<KubeObject>;
  list(r: ResourceDescriptor, options: ListOptions): Promise<ListResult>;
  /**
   * Read-modify-write with optimistic concurrency: `tryUpdate` gets the current object and returns
   * the new one; a write that raced is retried unless the new object carries a resourceVersion
   * (then a stale one is a 409 Conflict).
   */
  update(r: ResourceDescriptor, namespace: string, name: string, tryUpdate: (current: KubeObject) => KubeObject | Promise<KubeObject>): Promise<KubeObject>;
  delete(r: ResourceDescriptor, namespace: string, name: string, preconditions: Preconditions): Promise<KubeObject>;
  watch(r: ResourceDescriptor, options: WatchOptions): Promise<WatchStream>;
}

export interface AuthenticationRequest {
  peerCertificateDer?: Buffer;
  authorizationHeader?: string;
}

export interface Authenticator {
  /** The user, or throws an ApiStatusError 401. */
  authenticate(request: AuthenticationRequest): Promise<UserInfo>;
}

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Promise<{ allowed: boolean; reason: string }>;
}

export interface AdmissionRequest {
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  resource: ResourceDescriptor;
  subresource: string;
  namespace: string;
  name: string;
  object: KubeObject | null;
  oldObject: KubeObject | null;
  user: UserInfo;
}

export interface Admission {
  /** Mutates request.object in place where a plugin mutates; throws ApiStatusError to refuse. */
  admit(request: AdmissionRequest): Promise<void>;
}
