/**
 * The generic object store: Kubernetes' etcd3 storage (k8s.io/apiserver/pkg/storage/etcd3,
 * storage.Interface) over EtcdClient. Every kind is stored the same way: JSON values under
 * KeyLayout's keys, metadata.resourceVersion = the key's mod_revision, writes as transactions that
 * compare a revision so that concurrent writers never lose each other's changes.
 *
 * Every method resolves or throws an ApiStatusError carrying Kubernetes' Status for the outcome
 * (404, 409 AlreadyExists / Conflict, 410 Expired, 400, 503/504 when the store is unreachable).
 */
import { Buffer } from "node:buffer";
import {
  ApiStatusError,
  statusAlreadyExists,
  statusBadRequest,
  statusConflict,
  statusNotFound,
  statusResourceExpired,
  type FieldSelector,
  type KubeObject,
  type Preconditions,
  type QualifiedResource,
  type Selector,
} from "@coxswain/api";
import { assert } from "@coxswain/raft";
import { prefixRangeEnd, StoreCompactedError, type EtcdClient, type RangeResult, type StoreKeyValue, type TxnResult } from "./etcd-client.js";
import { KeyLayout, type StorageResource } from "./keys.js";
import { decodeStored, encodeForStorage, parseResourceVersion, sameBytes, toApiStatusError, tooLargeResourceVersionError } from "./objects.js";

export interface StoreOptions {
  /** Default "/registry/". */
  prefix?: string;
  /** Re-reads after a lost compare before an unconditional update gives up with 409. */
  updateConflictRetriesMax?: number;
  /** Largest page asked of the store while a selector filters a paged list (Kubernetes: 10000). */
  listPageKeysMax?: number;
}

export const storeDefaults = {
  prefix: "/registry/",
  updateConflictRetriesMax: 32,
  listPageKeysMax: 10_000,
} as const;

export interface ListOptions {
  /** One namespace; "" or undefined: every namespace (and always for cluster-scoped resources). */
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  /** Items per page; 0, negative or undefined: everything. */
  limit?: number;
  /** The token from the previous page's `continue`. */
  continue?: string;
  /**
   * "" / undefined: the latest state (a linearizable read). A revision with `Exact`: the state at
   * that revision (410 once compacted). With `NotOlderThan` (or no match, or "0"): the latest
   * state, which is never older than a revision the store has reached.
   */
  resourceVersion?: string;
  resourceVersionMatch?: "" | "NotOlderThan" | "Exact";
}

export interface ListResult {
  items: KubeObject[];
  /** The revision the whole list (all its pages) was read at, as a decimal string. */
  resourceVersion: string;
  /** Present when more items remain. */
  continue?: string;
  /** Items after this page; only when no selector filtered (as Kubernetes). */
  remainingItemCount?: number;
}

export type TryUpdate = (current: KubeObject) => KubeObject | Promise<KubeObject>;

export interface UpdateOptions {
  /**
   * Checked against the current object on every attempt. A resourceVersion here makes the update
   * conditional: a stale one is 409 Conflict and the update is not retried.
   */
  preconditions?: Preconditions;
}

export interface DeleteOptions {
  preconditions?: Preconditions;
  /** Called with the current object before each delete attempt; throw to refuse (e.g. 409). */
  validateDeletion?: (current: KubeObject) => void | Promise<void>;
}

// ---- continue tokens (k8s.io/apiserver/pkg/storage/continue.go) ----

const CONTINUE_TOKEN_VERSION = "meta.k8s.io/v1";

interface ContinueToken {
  v: string;
  /** The list's revision; -1: continue at the latest revision (after a compacted token). */
  rv: number;
  /** The next key, relative to the list prefix (last key + "\0"). */
  start: string;
}

export function encodeContinue(nextKey: string, listPrefix: string, revision: number): string {
  assert(nextKey.startsWith(listPrefix), "a continue key lies under the list's prefix");
  const token: ContinueToken = { v: CONTINUE_TOKEN_VERSION, rv: revision, start: nextKey.slice(listPrefix.length) };
  return Buffer.from(JSON.stringify(token), "utf8").toString("base64url");
}

/** The absolute start key and revision of a token; 400 "invalid continue token: ..." otherwise. */
export function decodeContinue(token: string, listPrefix: string): { startKey: string; revision: number } {
  const invalid = (why: string): ApiStatusError => new ApiStatusError(statusBadRequest(`invalid continue token: continue key is not valid: ${why}`));
  let parsed: Partial<ContinueToken>;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(token)) throw new Error("illegal base64 data");
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<ContinueToken>;
  } catch (err) {
    throw invalid((err as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid("not a token");
  if (parsed.v !== CONTINUE_TOKEN_VERSION) throw invalid(`server does not recognize this encoded version ${JSON.stringify(parsed.v)}`);
  if (typeof parsed.rv !== "number" || !Number.isSafeInteger(parsed.rv) || parsed.rv === 0 || parsed.rv < -1) {
    throw invalid(`incorrect encoded start resourceVersion (version ${CONTINUE_TOKEN_VERSION})`);
  }
  if (typeof parsed.start !== "string" || parsed.start === "") throw invalid("encoded start key empty");
  // The start key stays inside the list's prefix: no climbing out with "..".
  if (parsed.start.split("/").some((segment) => segment === ".." || segment === ".")) throw invalid(`cleaned key was ${parsed.start}`);
  return { startKey: listPrefix + parsed.start, revision: parsed.rv };
}

// ---- messages Kubernetes uses here ----

/** 410 for a continue token whose revision was compacted (storage/etcd3/errors.go). */
export const inconsistentContinueMessage =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** 410 for a list at an exact resourceVersion that was compacted. */
export const expiredListMessage = "The resourceVersion for the provided list is too old.";

function qualified(resource: StorageResource): QualifiedResource {
  return { group: resource.group, resource: resource.plural };
}

/**
 * A failed precondition, worded as Kubernetes' storage.NewInvalidObjError wrapped in NewConflict:
 * `Operation cannot be fulfilled on pods "x": StorageError: invalid object, Code: 4, Key: ..., ...`.
 */
function preconditionFailed(resource: StorageResource, name: string, key: string, message: string): ApiStatusError {
  return new ApiStatusError(
    statusConflict(
      qualified(resource),
      name,
      `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${message}`,
    ),
  );
}

/** The state of one key as last read: the object and the bytes it was decoded from. */
interface KeyState {
  kv: StoreKeyValue;
  object: KubeObject;
}

export class Store {
  readonly keys: KeyLayout;
  private readonly updateConflictRetriesMax: number;
  private readonly listPageKeysMax: number;

  constructor(
    readonly client: EtcdClient,
    options: StoreOptions = {},
  ) {
    this.keys = new KeyLayout(options.prefix ?? storeDefaults.prefix);
    this.updateConflictRetriesMax = options.updateConflictRetriesMax ?? storeDefaults.updateConflictRetriesMax;
    this.listPageKeysMax = options.listPageKeysMax ?? storeDefaults.listPageKeysMax;
  }

  /**
   * Stores a new object (metadata.name and, when namespaced, metadata.namespace set; uid and
   * creationTimestamp assigned by the caller). 409 AlreadyExists when the key holds an object.
   * Resolves the stored object with its resourceVersion.
   */
  async create(resource: StorageResource, obj: KubeObject): Promise<KubeObject> {
    const name = obj.metadata.name ?? "";
    const key = this.keys.objectKey(resource, obj.metadata.namespace, name);
    const value = encodeForStorage(obj);
    try {
      // create_revision == 0 holds exactly when the key does not exist (clientv3's idiom).
      const result = await this.client.txn(
        { compare: [{ key, target: "create", result: "=", value: 0 }], success: [{ put: { key, value } }], failure: [{ range: { key } }] },
        { idempotent: true },
      );
      if (result.succeeded) return decodeStored({ key, value, modRevision: result.revision });
      const existing = firstKv(result);
      // A resent create whose first attempt was applied finds its own bytes (they include the uid).
      if (result.resent && existing !== null && sameBytes(existing.value, value)) return decodeStored(existing);
      throw new ApiStatusError(statusAlreadyExists(qualified(resource), name));
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  /** The current object (a linearizable read); 404 when there is none. */
  async get(resource: StorageResource, namespace: string | undefined, name: string): Promise<KubeObject> {
    const key = this.keys.objectKey(resource, namespace, name);
    try {
      const state = await this.read(key);
      if (state === null) throw new ApiStatusError(statusNotFound(qualified(resource), name));
      return state.object;
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  /** Lists from the store, filtered by selectors, paged with limit/continue (etcd3 store GetList). */
  async list(resource: StorageResource, options: ListOptions = {}): Promise<ListResult> {
    try {
      return await this.listUnmapped(resource, options);
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  /**
   * Read, apply `tryUpdate`, write if the object is still at the revision read (Kubernetes'
   * GuaranteedUpdate). When another writer got there first, the update is re-applied to the new
   * state — unless the preconditions name a resourceVersion, which then no longer matches: 409
   * "the object has been modified". `tryUpdate` receives a fresh copy it may mutate, and may throw
   * (an ApiStatusError) to abandon the update. An update that changes nothing writes nothing and
   * resolves the current object with its unchanged resourceVersion.
   */
  async guaranteedUpdate(
    resource: StorageResource,
    namespace: string | undefined,
    name: string,
    tryUpdate: TryUpdate,
    options: UpdateOptions = {},
  ): Promise<KubeObject> {
    const key = this.keys.objectKey(resource, namespace, name);
    const preconditions = options.preconditions ?? {};
    try {
      let state = await this.read(key);
      for (let attempt = 0; ; attempt++) {
        if (state === null) throw new ApiStatusError(statusNotFound(qualified(resource), name));
        if (preconditions.uid !== undefined && preconditions.uid !== "" && preconditions.uid !== state.object.metadata.uid) {
          throw preconditionFailed(resource, name, key, `UID in precondition: ${preconditions.uid}, UID in object meta: ${state.object.metadata.uid ?? ""}`);
        }
        if (
          preconditions.resourceVersion !== undefined &&
          preconditions.resourceVersion !== "" &&
          preconditions.resourceVersion !== state.object.metadata.resourceVersion
        ) {
          throw new ApiStatusError(statusConflict(qualified(resource), name));
        }
        if (attempt > this.updateConflictRetriesMax) {
          throw new ApiStatusError(statusConflict(qualified(resource), name, `too many concurrent updates (${attempt}); please try again`));
        }
        const updated = await tryUpdate(decodeStored(state.kv));
        const value = encodeForStorage(updated);
        // Kubernetes skips a write that would store the same bytes: no new revision, no watch event.
        if (sameBytes(value, state.kv.value)) return state.object;
        const result = await this.client.txn(
          {
            compare: [{ key, target: "mod", result: "=", value: state.kv.modRevision }],
            success: [{ put: { key, value } }],
            failure: [{ range: { key } }],
          },
          { idempotent: true },
        );
        if (result.succeeded) return decodeStored({ key, value, modRevision: result.revision });
        const current = firstKv(result);
        // Our own earlier attempt, applied before its outcome got lost: the key holds our bytes.
        if (result.resent && current !== null && current.modRevision > state.kv.modRevision && sameBytes(current.value, value)) {
          return decodeStored(current);
        }
        state = current === null ? null : { kv: current, object: decodeStored(current) };
      }
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  /**
   * Deletes the object if the preconditions hold (409 otherwise) and `validateDeletion` accepts
   * it, retrying when it changed in between. Resolves the deleted object in its last state, with
   * resourceVersion = the revision of the deletion (what watchers see in the DELETED event).
   */
  async delete(resource: StorageResource, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    const key = this.keys.objectKey(resource, namespace, name);
    const preconditions = options.preconditions ?? {};
    try {
      let state = await this.read(key);
      for (let attempt = 0; ; attempt++) {
        if (state === null) throw new ApiStatusError(statusNotFound(qualified(resource), name));
        const meta = state.object.metadata;
        if (preconditions.uid !== undefined && preconditions.uid !== "" && preconditions.uid !== meta.uid) {
          throw preconditionFailed(resource, name, key, `UID in precondition: ${preconditions.uid}, UID in object meta: ${meta.uid ?? ""}`);
        }
        if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== "" && preconditions.resourceVersion !== meta.resourceVersion) {
          throw preconditionFailed(
            resource,
            name,
            key,
            `ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion ?? ""}`,
          );
        }
        if (attempt > this.updateConflictRetriesMax) {
          throw new ApiStatusError(statusConflict(qualified(resource), name, `too many concurrent updates (${attempt}); please try again`));
        }
        await options.validateDeletion?.(decodeStored(state.kv));
        const result = await this.client.txn(
          {
            compare: [{ key, target: "mod", result: "=", value: state.kv.modRevision }],
            success: [{ delete: { key } }],
            failure: [{ range: { key } }],
          },
          { idempotent: true },
        );
        if (result.succeeded) return decodeStored(state.kv, result.revision);
        const current = firstKv(result);
        // Gone after a resend: our first attempt deleted it (nobody else could have passed our compare).
        if (result.resent && current === null) return decodeStored(state.kv, result.revision);
        state = current === null ? null : { kv: current, object: decodeStored(current) };
      }
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  /** The store's current revision (for the consistency checks of the watch cache and health checks). */
  async currentRevision(): Promise<number> {
    try {
      return await this.client.currentRevision();
    } catch (err) {
      throw toApiStatusError(err);
    }
  }

  private async read(key: string): Promise<KeyState | null> {
    const response = await this.client.range({ key });
    const kv = response.kvs[0];
    return kv === undefined ? null : { kv, object: decodeStored(kv) };
  }

  private async listUnmapped(resource: StorageResource, options: ListOptions): Promise<ListResult> {
    const listPrefix = this.keys.listPrefix(resource, options.namespace);
    const rangeEnd = Buffer.from(prefixRangeEnd(listPrefix)).toString("utf8");
    const labels = options.labelSelector;
    const fields = options.fieldSelector;
    const filtered = (labels !== undefined && !labels.isEmpty()) || (fields !== undefined && !fields.isEmpty());
    // Kubernetes pages only for a positive limit; anything else lists everything.
    const limit = Math.max(0, options.limit ?? 0);
    if (!Number.isSafeInteger(limit)) throw new ApiStatusError(statusBadRequest(`invalid limit: ${String(options.limit)}`));
    const match = options.resourceVersionMatch ?? "";
    const rvText = options.resourceVersion ?? "";
    const requestedRevision = parseResourceVersion(rvText);

    let startKey = listPrefix;
    /** 0: the latest revision; pinned to the first page's revision for the following pages. */
    let revision = 0;
    let continuing = false;
    if (options.continue !== undefined && options.continue !== "") {
      // Kubernetes refuses a resourceVersion other than "0" alongside a token.
      if (rvText !== "" && rvText !== "0") throw new ApiStatusError(statusBadRequest("specifying resource version is not allowed when using continue"));
      const token = decodeContinue(options.continue, listPrefix);
      startKey = token.startKey;
      revision = token.revision === -1 ? 0 : token.revision;
      continuing = true;
    } else if (match === "Exact") {
      if (requestedRevision === 0) throw new ApiStatusError(statusBadRequest(`resourceVersionMatch "Exact" is forbidden for resourceVersion "${rvText}"`));
      revision = requestedRevision;
    } else if (match !== "" && match !== "NotOlderThan") {
      throw new ApiStatusError(statusBadRequest(`unsupported resourceVersionMatch ${JSON.stringify(match)}`));
    }

    const items: KubeObject[] = [];
    let pageKeys = limit;
    let returnedRevision = 0;
    let lastKey: string | null = null;
    let hasMore = false;
    let lastCount = 0;
    for (;;) {
      let page: RangeResult;
      try {
        page = await this.client.range({ key: startKey, rangeEnd, limit: pageKeys, revision });
      } catch (err) {
        if (err instanceof StoreCompactedError) throw this.compactedListError(continuing, startKey, listPrefix);
        throw err;
      }
      if (returnedRevision === 0) {
        returnedRevision = revision === 0 ? page.revision : revision;
        // NotOlderThan: the latest state must have reached the revision the client saw.
        if (!continuing && match !== "Exact" && requestedRevision > page.revision) throw tooLargeResourceVersionError(requestedRevision, page.revision);
      }
      hasMore = page.more;
      lastCount = page.count;
      assert(page.kvs.length > 0 || !page.more, "a store that says more keys remain returns some");
      let stoppedEarly = false;
      for (const kv of page.kvs) {
        if (limit > 0 && items.length >= limit) {
          stoppedEarly = true;
          break;
        }
        lastKey = kv.key;
        const obj = decodeStored(kv);
        if (labels !== undefined && !labels.matches(obj.metadata.labels)) continue;
        if (fields !== undefined && !fields.matches(obj, resource.fieldSelectors)) continue;
        items.push(obj);
      }
      if (stoppedEarly) hasMore = true;
      if (!hasMore || limit === 0 || items.length >= limit) break;
      // A selector dropped objects: fetch more, in growing pages, at the same revision.
      pageKeys = Math.min(this.listPageKeysMax, pageKeys * 2);
      assert(lastKey !== null, "a page that leaves more keys returned some");
      startKey = `${lastKey}\u0000`;
      revision = returnedRevision;
    }
    const result: ListResult = { items, resourceVersion: String(returnedRevision) };
    if (hasMore && limit > 0) {
      assert(lastKey !== null, "more keys remain after a returned one");
      result.continue = encodeContinue(`${lastKey}\u0000`, listPrefix, returnedRevision);
      if (!filtered) result.remainingItemCount = Math.max(0, lastCount - limit);
    }
    return result;
  }

  private compactedListError(continuing: boolean, startKey: string, listPrefix: string): ApiStatusError {
    if (!continuing) return new ApiStatusError(statusResourceExpired(expiredListMessage));
    // Kubernetes hands back a token that continues at the latest revision (rv -1).
    const status = statusResourceExpired(inconsistentContinueMessage);
    status.metadata = { continue: encodeContinue(startKey, listPrefix, -1) };
    return new ApiStatusError(status);
  }
}

/** The key a transaction's failure branch read, or null when the key does not exist. */
function firstKv(result: TxnResult): StoreKeyValue | null {
  const op = result.responses[0];
  if (op === undefined || !("range" in op)) return null;
  return op.range.kvs[0] ?? null;
}
