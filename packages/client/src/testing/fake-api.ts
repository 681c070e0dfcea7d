/**
 * An in-memory stand-in for ApiClient, for tests of the machinery and of controllers (CONVENTIONS
 * rule 5: call `sync` against a fake API and compare the recorded writes). It behaves as the API
 * server does where controllers can tell the difference:
 *
 * - One resourceVersion counter for all objects; every change gets the next value.
 * - Kinds known to @coxswain/api's registry get its defaulting, strategy (status only through the
 *   status subresource, generation) and validation; other resources are stored as given.
 * - Updates with a stale metadata.resourceVersion fail with 409 Conflict; writes that change
 *   nothing are not stored and produce no event (the API server skips identical writes).
 * - Deletion as the API server does it: finalizers, propagation policies, graceful deletion of
 *   pods bound to a node, namespaces going Terminating.
 * - Watches fan out every change, filtered by namespace and label/field selectors (an object
 *   leaving a selector is DELETED for that watch). Each resource keeps its last
 *   `watchHistoryEventsMax` changes: a watch or a list continuation from before them gets 410.
 * - Paged lists come from a snapshot taken on the first page, so pages are consistent.
 *
 * Test controls: every call is recorded (`actions`, `writes()`); `failOn` makes matching calls
 * fail, `pause` holds them until released; `compact`, `expireWatches`, `closeWatches`,
 * `sendBookmarks` act on watches. Everything settles through promises, never timers, so tests
 * drive it with a FakeClock.
 */
import {
  ApiStatusError,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  deepClone,
  deepEqual,
  findResource,
  invalidObjectError,
  parseFieldSelector,
  parseLabelSelector,
  statusAlreadyExists,
  statusBadRequest,
  statusConflict,
  statusNotFound,
  statusResourceExpired,
  type FieldSelector,
  type FieldSet,
  type JsonObject,
  type JsonValue,
  type KubeList,
  type KubeObject,
  type ResourceDescriptor,
  type Selector,
} from "@coxswain/api";
import { assert } from "@coxswain/raft";
import type { ApiClientInterface } from "../api.js";
import type { ListOptions, ResourceRef, Watch, WatchEvent, WatchOptions } from "../client.js";
import { realClock, type Clock } from "../clock/clock.js";

export type FakeVerb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "bind";

const writeVerbs: ReadonlySet<FakeVerb> = new Set(["create", "update", "patch", "delete", "bind"]);

/** One call as the fake received it. */
export interface FakeAction {
  verb: FakeVerb;
  /** When the call arrived, on the fake's clock. */
  atMs: number;
  group: string;
  version: string;
  resource: string;
  namespace: string;
  name: string;
  subresource: string;
  /** The object a create, update or bind sent, as sent. */
  object?: KubeObject;
  /** What a successful write stored (or, for a delete, the object's final state). */
  result?: KubeObject;
  patchType?: string;
  patch?: unknown;
  /** List, watch or delete options. */
  options?: Readonly<Record<string, unknown>>;
}

export interface CallMatcher {
  verb?: FakeVerb | readonly FakeVerb[];
  /** The plural, e.g. "pods". */
  resource?: string;
  name?: string;
  match?: (action: FakeAction) => boolean;
}

export interface FailureRule extends CallMatcher {
  error: Error | (() => Error);
  /** How many matching calls fail; 1 when absent, Infinity for all. */
  times?: number;
}

export interface FakeApiOptions {
  /** Timestamps (creationTimestamp, deletionTimestamp) come from here. */
  clock?: Clock;
  /** Changes each resource keeps for watches and list continuations; older ones get 410. */
  watchHistoryEventsMax?: number;
  /** Events a watch buffers unread before it is closed, as the API server drops slow watchers. */
  watchEventsBufferedMax?: number;
  /** Run the registry's validation on writes. */
  validate?: boolean;
  /** How a watch from an expired resourceVersion fails: an ERROR event (the API server's way) or a thrown 410. */
  expiredWatch?: "event" | "throw";
}

export const fakeApiDefaults = {
  watchHistoryEventsMax: 1_000,
  watchEventsBufferedMax: 10_000,
  listSnapshotsMax: 64,
  actionsRecordedMax: 100_000,
} as const;

interface StoredEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  resourceVersion: number;
  object: KubeObject;
  previous: KubeObject | null;
}

interface ResourceState {
  objects: Map<string, KubeObject>;
  history: StoredEvent[];
  /** Changes at or below this resourceVersion are forgotten. */
  compactedResourceVersion: number;
}

interface ListSnapshot {
  resourceKey: string;
  resourceVersion: number;
  items: KubeObject[];
}

interface Watcher {
  resourceKey: string;
  namespace: string;
  labels: Selector;
  fields: FieldSelector;
  fieldSet: FieldSet<KubeObject>;
  allowBookmarks: boolean;
  stream: FakeWatch;
}

interface Pause extends CallMatcher {
  waiting: (() => void)[];
}

const expiredContinueMessage =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

const defaultFieldSet: FieldSet<KubeObject> = {
  "metadata.name": (o) => o.metadata.name ?? "",
  "metadata.namespace": (o) => o.metadata.namespace ?? "",
};

/** A watch stream: events are buffered until read; ending delivers what is buffered first. */
class FakeWatch implements Watch<KubeObject> {
  private readonly buffer: WatchEvent[] = [];
  private ended = false;
  private endError: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly bufferedMax: number,
    private readonly onEnd: (stream: FakeWatch) => void,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  push(event: WatchEvent): void {
    if (this.ended) return;
    if (this.buffer.length >= this.bufferedMax) {
      this.end();
      return;
    }
    this.buffer.push(event);
    this.notify();
  }

  /** The server ends the stream: normally, or with `error` thrown after the buffered events. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = error ?? null;
    this.onEnd(this);
    this.notify();
  }

  /** The client cancels: the iteration ends at once, as ApiClient's does on CANCELLED. */
  close(): void {
    this.buffer.length = 0;
    this.endError = null;
    this.end();
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (;;) {
      const event = this.buffer.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (this.ended) {
        if (this.endError !== null) throw this.endError;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function matches(matcher: CallMatcher, action: FakeAction): boolean {
  if (matcher.verb !== undefined) {
    const verbs: readonly FakeVerb[] = typeof matcher.verb === "string" ? [matcher.verb] : matcher.verb;
    if (!verbs.includes(action.verb)) return false;
  }
  if (matcher.resource !== undefined && matcher.resource !== action.resource) return false;
  if (matcher.name !== undefined && matcher.name !== action.name) return false;
  return matcher.match === undefined || matcher.match(action);
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function objectKey(namespace: string, name: string): string {
  return namespace === "" ? name : `${namespace}/${name}`;
}

type PodLike = KubeObject & {
  spec?: { nodeName?: string; terminationGracePeriodSeconds?: number };
  status?: { conditions?: { type: string; status: string; lastTransitionTime?: string | null }[] };
};

export class FakeApi implements ApiClientInterface {
  private readonly clock: Clock;
  private readonly o: Required<Omit<FakeApiOptions, "clock">>;
  private readonly resources = new Map<string, ResourceState>();
  private readonly watchers = new Set<Watcher>();
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly failures: FailureRule[] = [];
  private readonly pauses: Pause[] = [];
  private readonly recorded: FakeAction[] = [];
  private revision = 0;
  private uidCounter = 0;
  private snapshotCounter = 0;

  constructor(options: FakeApiOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.o = {
      watchHistoryEventsMax: options.watchHistoryEventsMax ?? fakeApiDefaults.watchHistoryEventsMax,
      watchEventsBufferedMax: options.watchEventsBufferedMax ?? fakeApiDefaults.watchEventsBufferedMax,
      validate: options.validate ?? true,
      expiredWatch: options.expiredWatch ?? "event",
    };
    assert(this.o.watchHistoryEventsMax > 0, "watchHistoryEventsMax must be positive");
  }

  // ---- test controls ----

  /** Every call so far, in order. */
  get actions(): readonly FakeAction[] {
    return this.recorded;
  }

  /** The writes so far (create, update, patch, delete, bind), in order. */
  writes(): FakeAction[] {
    return this.recorded.filter((a) => writeVerbs.has(a.verb));
  }

  clearActions(): void {
    this.recorded.length = 0;
  }

  /** The current resourceVersion (of the last change to anything). */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Makes matching calls fail; returns a function that removes the rule. */
  failOn(rule: FailureRule): () => void {
    const entry = { ...rule, times: rule.times ?? 1 };
    this.failures.push(entry);
    return () => {
      const i = this.failures.indexOf(entry);
      if (i >= 0) this.failures.splice(i, 1);
    };
  }

  /** Holds matching calls (after recording them; not watches) until `release()`; `waiting` counts held calls. */
  pause(matcher: CallMatcher): { release(): void; readonly waiting: number } {
    const pause: Pause = { ...matcher, waiting: [] };
    this.pauses.push(pause);
    return {
      release: () => {
        const i = this.pauses.indexOf(pause);
        if (i >= 0) this.pauses.splice(i, 1);
        for (const wake of pause.waiting.splice(0)) wake();
      },
      get waiting() {
        return pause.waiting.length;
      },
    };
  }

  /** Stores objects as they are (no defaulting or validation, not recorded); watchers see ADDED. */
  seed(resource: Pick<ResourceRef, "group" | "version" | "resource">, ...objects: KubeObject[]): void {
    for (const obj of objects) {
      const o = deepClone(obj);
      const state = this.state(resource);
      const key = objectKey(o.metadata.namespace ?? "", o.metadata.name ?? "");
      assert(!state.objects.has(key), `seed: ${key} already exists`);
      o.metadata.uid ??= this.nextUid();
      o.metadata.creationTimestamp ??= isoSeconds(this.clock.now());
      o.metadata.resourceVersion = String(++this.revision);
      state.objects.set(key, o);
      this.emit(this.resourceKey(resource), state, "ADDED", o, null);
    }
  }

  /** The stored object, read directly (not recorded); undefined when absent. */
  object<T extends KubeObject = KubeObject>(ref: ResourceRef): T | undefined {
    const obj = this.state(ref).objects.get(objectKey(ref.namespace ?? "", ref.name ?? ""));
    return obj === undefined ? undefined : (deepClone(obj) as T);
  }

  /** Every stored object of a resource (in one namespace when given), sorted by key. */
  objects<T extends KubeObject = KubeObject>(ref: Pick<ResourceRef, "group" | "version" | "resource" | "namespace">): T[] {
    const state = this.state(ref);
    return [...state.objects.entries()]
      .filter(([, o]) => !ref.namespace || o.metadata.namespace === ref.namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => deepClone(o) as T);
  }

  /** Forgets every resource's change history: watches and continuations from before now get 410. */
  compact(): void {
    for (const state of this.resources.values()) {
      state.history.length = 0;
      state.compactedResourceVersion = this.revision;
    }
  }

  /** Compacts, then sends every open watch an ERROR event with a 410 Status and ends it. */
  expireWatches(): void {
    this.compact();
    for (const w of [...this.watchers]) {
      w.stream.push({ type: "ERROR", object: statusResourceExpired(`too old resource version: ${this.revision}`) });
      w.stream.end();
    }
  }

  /** Ends every open watch: normally (the server closed it) or with `error` (the connection broke). */
  closeWatches(error?: Error): void {
    for (const w of [...this.watchers]) w.stream.end(error);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for them. */
  sendBookmarks(): void {
    for (const w of this.watchers) {
      if (w.allowBookmarks) w.stream.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: String(this.revision) } } });
    }
  }

  /** Open watches (of one resource plural when given). */
  openWatches(resource?: string): number {
    return [...this.watchers].filter((w) => resource === undefined || w.resourceKey.endsWith(`/${resource}`)).length;
  }

  // ---- ApiClient's surface ----

  async get<T extends KubeObject>(r: ResourceRef): Promise<T> {
    await this.gate(this.record("get", r));
    const current = this.state(r).objects.get(objectKey(r.namespace ?? "", r.name ?? ""));
    if (current === undefined) throw this.notFound(r);
    return deepClone(current) as T;
  }

  async list<T extends KubeObject>(r: ResourceRef, options: ListOptions = {}): Promise<KubeList<T>> {
    await this.gate(this.record("list", r, { options: { ...options } }));
    const resourceKey = this.resourceKey(r);
    const state = this.state(r);
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    let items: KubeObject[];
    let offset = 0;
    let snapshotId: string;
    let resourceVersion: number;
    if (options.continue) {
      const [id = "", offsetText = ""] = options.continue.split(":");
      const snapshot = this.snapshots.get(id);
      if (snapshot === undefined || snapshot.resourceKey !== resourceKey || snapshot.resourceVersion < state.compactedResourceVersion)
        throw new ApiStatusError(statusResourceExpired(expiredContinueMessage));
      items = snapshot.items;
      offset = Number(offsetText);
      snapshotId = id;
      resourceVersion = snapshot.resourceVersion;
    } else {
      const filter = this.filterFor(r, options.labelSelector, options.fieldSelector);
      items = [...state.objects.entries()]
        .filter(([, o]) => filter(o))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o);
      resourceVersion = this.revision;
      snapshotId = "";
    }
    const end = limit === undefined ? items.length : Math.min(items.length, offset + limit);
    const page = items.slice(offset, end).map((o) => deepClone(o) as T);
    const metadata: KubeList<T>["metadata"] = { resourceVersion: String(resourceVersion) };
    if (end < items.length) {
      if (snapshotId === "") {
        snapshotId = String(++this.snapshotCounter);
        this.snapshots.set(snapshotId, { resourceKey, resourceVersion, items });
        // Oldest first: Map keeps insertion order.
        if (this.snapshots.size > fakeApiDefaults.listSnapshotsMax) this.snapshots.delete(this.snapshots.keys().next().value!);
      }
      metadata.continue = `${snapshotId}:${end}`;
    }
    const kind = findResource(r.group, r.version, r.resource)?.listKind ?? "List";
    return { apiVersion: r.group === "" ? r.version : `${r.group}/${r.version}`, kind, metadata, items: page };
  }

  watch<T extends KubeObject>(r: ResourceRef, options: WatchOptions = {}): Watch<T> {
    const action = this.record("watch", r, { options: { ...options } });
    const resourceKey = this.resourceKey(r);
    const state = this.state(r);
    const stream = new FakeWatch(this.o.watchEventsBufferedMax, (s) => {
      for (const w of this.watchers) if (w.stream === s) this.watchers.delete(w);
    });
    const failure = this.takeFailure(action);
    if (failure !== null) {
      stream.end(failure);
      return stream as unknown as Watch<T>;
    }
    let labels: Selector;
    let fields: FieldSelector;
    try {
      labels = parseLabelSelector(options.labelSelector ?? "");
      fields = parseFieldSelector(options.fieldSelector ?? "");
    } catch (err) {
      stream.end(new ApiStatusError(statusBadRequest(err instanceof Error ? err.message : String(err))));
      return stream as unknown as Watch<T>;
    }
    const watcher: Watcher = {
      resourceKey,
      namespace: r.namespace ?? "",
      labels,
      fields,
      fieldSet: findResource(r.group, r.version, r.resource)?.fieldSelectors ?? defaultFieldSet,
      allowBookmarks: options.allowBookmarks === true,
      stream,
    };
    const from = options.resourceVersion ?? "";
    if (from === "" || from === "0") {
      // "Start at most recent": the current state as ADDED events, then changes.
      for (const obj of state.objects.values()) if (this.watcherMatches(watcher, obj)) stream.push({ type: "ADDED", object: deepClone(obj) });
    } else {
      const fromRevision = Number(from);
      if (fromRevision < state.compactedResourceVersion) {
        const status = statusResourceExpired(`too old resource version: ${from} (${state.compactedResourceVersion + 1})`);
        if (this.o.expiredWatch === "throw") stream.end(new ApiStatusError(status));
        else {
          stream.push({ type: "ERROR", object: status });
          stream.end();
        }
        return stream as unknown as Watch<T>;
      }
      for (const event of state.history) if (event.resourceVersion > fromRevision) this.deliver(watcher, event);
    }
    this.watchers.add(watcher);
    return stream as unknown as Watch<T>;
  }

  async create<T extends KubeObject>(r: ResourceRef, obj: T): Promise<T> {
    const action = this.record("create", r, { object: deepClone(obj) });
    await this.gate(action);
    const descriptor = this.descriptor(r);
    const o = deepClone(obj) as KubeObject;
    o.metadata ??= {};
    const namespaced = descriptor?.namespaced ?? Boolean(r.namespace || o.metadata.namespace);
    if (namespaced) {
      if (r.namespace && o.metadata.namespace && r.namespace !== o.metadata.namespace)
        throw new ApiStatusError(statusBadRequest("the namespace of the provided object does not match the namespace sent on the request"));
      o.metadata.namespace = r.namespace || o.metadata.namespace || "";
    } else {
      delete o.metadata.namespace;
    }
    if (o.metadata.resourceVersion) throw new ApiStatusError(statusBadRequest("resourceVersion should not be set on objects to be created"));
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${(++this.uidCounter).toString(36).padStart(5, "0")}`;
    const name = o.metadata.name ?? "";
    action.name = name;
    if (name === "") throw new ApiStatusError(statusBadRequest("metadata.name: Required value: name or generateName is required"));
    const state = this.state(r);
    const key = objectKey(o.metadata.namespace ?? "", name);
    if (state.objects.has(key)) throw new ApiStatusError(statusAlreadyExists({ group: r.group, resource: r.resource }, name));
    o.metadata.uid = this.nextUid();
    o.metadata.creationTimestamp = isoSeconds(this.clock.now());
    delete o.metadata.deletionTimestamp;
    if (descriptor !== undefined) {
      descriptor.applyDefaults(o);
      descriptor.prepareForCreate(o);
      if (this.o.validate) {
        const errors = descriptor.validate(o);
        if (errors.length > 0) throw invalidObjectError(descriptor, name, errors);
      }
    }
    o.metadata.resourceVersion = String(++this.revision);
    state.objects.set(key, o);
    this.emit(this.resourceKey(r), state, "ADDED", o, null);
    action.result = deepClone(o);
    return deepClone(o) as T;
  }

  /** PUT; `obj.metadata.resourceVersion`, when set, is the precondition. */
  async update<T extends KubeObject>(r: ResourceRef, obj: T): Promise<T> {
    const action = this.record("update", r, { object: deepClone(obj) });
    await this.gate(action);
    const current = this.current(r);
    if (obj.metadata.name !== undefined && obj.metadata.name !== r.name)
      throw new ApiStatusError(statusBadRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${r.name ?? ""})`));
    const stored = this.applyUpdate(r, deepClone(obj), current);
    action.result = deepClone(stored);
    return deepClone(stored) as T;
  }

  async patch<T extends KubeObject>(r: ResourceRef, type: "json" | "merge" | "strategic", patch: unknown): Promise<T> {
    const action = this.record("patch", r, { patchType: type, patch: deepClone(patch) });
    await this.gate(action);
    const current = this.current(r);
    const descriptor = this.descriptor(r);
    let patched: JsonValue;
    try {
      const base = deepClone(current) as unknown as JsonObject;
      if (type === "json") patched = applyJsonPatch(base, patch);
      else if (type === "strategic" && descriptor !== undefined) patched = applyStrategicMergePatch(base, patch as JsonValue, descriptor.patchSchema);
      else patched = applyMergePatch(base, patch as JsonValue);
    } catch (err) {
      throw new ApiStatusError(statusBadRequest(err instanceof Error ? err.message : String(err)));
    }
    const stored = this.applyUpdate(r, patched as unknown as KubeObject, current);
    action.result = deepClone(stored);
    return deepClone(stored) as T;
  }

  async delete(r: ResourceRef, options: Record<string, unknown> = {}): Promise<KubeObject> {
    const action = this.record("delete", r, { options: { ...options } });
    await this.gate(action);
    const current = this.current(r);
    const name = r.name ?? "";
    const qr = { group: r.group, resource: r.resource };
    const preconditions = (options["preconditions"] ?? {}) as { uid?: string; resourceVersion?: string };
    if (preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid)
      throw new ApiStatusError(
        statusConflict(qr, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid ?? ""}`),
      );
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion)
      throw new ApiStatusError(
        statusConflict(
          qr,
          name,
          `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ""}`,
        ),
      );
    const propagation = options["propagationPolicy"];
    const extraFinalizer = propagation === "Foreground" ? "foregroundDeletion" : propagation === "Orphan" ? "orphan" : null;
    const isPods = r.group === "" && r.resource === "pods";
    const isNamespaces = r.group === "" && r.resource === "namespaces";
    // Pods on a node get their grace period: the agent stops the containers, then deletes with 0.
    const pod = current as PodLike;
    const requestedGrace = typeof options["gracePeriodSeconds"] === "number" ? options["gracePeriodSeconds"] : undefined;
    const grace = isPods && pod.spec?.nodeName ? Math.max(0, requestedGrace ?? pod.spec.terminationGracePeriodSeconds ?? 30) : 0;
    const state = this.state(r);
    const key = objectKey(r.namespace ?? "", name);
    if ((current.metadata.finalizers ?? []).length > 0 || extraFinalizer !== null || grace > 0 || isNamespaces) {
      const next = deepClone(current);
      if (next.metadata.deletionTimestamp == null || grace < (next.metadata.deletionGracePeriodSeconds ?? 0)) {
        next.metadata.deletionTimestamp = isoSeconds(this.clock.now() + grace * 1000);
        next.metadata.deletionGracePeriodSeconds = grace;
      }
      if (extraFinalizer !== null && !(next.metadata.finalizers ?? []).includes(extraFinalizer))
        next.metadata.finalizers = [...(next.metadata.finalizers ?? []), extraFinalizer];
      if (isNamespaces)
        (next as KubeObject & { status?: Record<string, unknown> }).status = { ...((next as { status?: object }).status ?? {}), phase: "Terminating" };
      const pending = (next.metadata.finalizers ?? []).length > 0 || grace > 0 || isNamespaces;
      if (pending) {
        const stored = this.store(r, state, key, next, current, false);
        action.result = deepClone(stored);
        return deepClone(stored);
      }
    }
    const final = deepClone(current);
    final.metadata.resourceVersion = String(++this.revision);
    state.objects.delete(key);
    this.emit(this.resourceKey(r), state, "DELETED", final, current);
    action.result = deepClone(final);
    return deepClone(final);
  }

  /** The binding subresource: sets spec.nodeName once (409 if bound, being deleted, or the uid differs). */
  async bind(namespace: string, pod: string, podUid: string, node: string): Promise<void> {
    const r: ResourceRef = { group: "", version: "v1", resource: "pods", namespace, name: pod, subresource: "binding" };
    const binding = {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: pod, namespace, ...(podUid ? { uid: podUid } : {}) },
      target: { apiVersion: "v1", kind: "Node", name: node },
    };
    const action = this.record("bind", r, { object: binding as unknown as KubeObject });
    await this.gate(action);
    const current = this.current(r) as PodLike;
    const qr = { group: "", resource: "pods" };
    if (podUid && podUid !== current.metadata.uid)
      throw new ApiStatusError(
        statusConflict(qr, pod, `Precondition failed: UID in precondition: ${podUid}, UID in object meta: ${current.metadata.uid ?? ""}`),
      );
    if (current.metadata.deletionTimestamp != null) throw new ApiStatusError(statusConflict(qr, pod, "pod is being deleted, cannot be assigned to a host"));
    if (current.spec?.nodeName) throw new ApiStatusError(statusConflict(qr, pod, `pod ${pod} is already assigned to node "${current.spec.nodeName}"`));
    const next = deepClone(current);
    next.spec = { ...next.spec, nodeName: node };
    // As Kubernetes' binding does: the pod is marked scheduled.
    const conditions = (next.status?.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastTransitionTime: isoSeconds(this.clock.now()) });
    next.status = { ...next.status, conditions };
    this.store(r, this.state(r), objectKey(namespace, pod), next, current);
  }

  // ---- internals ----

  private applyUpdate(r: ResourceRef, obj: KubeObject, current: KubeObject): KubeObject {
    const descriptor = this.descriptor(r);
    const name = r.name ?? "";
    const sentVersion = obj.metadata?.resourceVersion;
    if (sentVersion && sentVersion !== current.metadata.resourceVersion)
      throw new ApiStatusError(statusConflict({ group: r.group, resource: r.resource }, name));
    let next: KubeObject;
    if (r.subresource === "status") {
      next =
        descriptor !== undefined
          ? descriptor.prepareForStatusUpdate(obj, current)
          : ({ ...deepClone(current), status: deepClone((obj as { status?: unknown }).status) } as KubeObject);
    } else {
      next = obj;
      next.metadata ??= {};
      descriptor?.applyDefaults(next);
      descriptor?.prepareForUpdate(next, current);
    }
    // What a client may not change through an update.
    next.metadata.name = current.metadata.name!;
    if (current.metadata.namespace !== undefined) next.metadata.namespace = current.metadata.namespace;
    next.metadata.uid = current.metadata.uid!;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp ?? null;
    if (current.metadata.deletionTimestamp != null) {
      next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      next.metadata.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds!;
    } else {
      delete next.metadata.deletionTimestamp;
      delete next.metadata.deletionGracePeriodSeconds;
    }
    if (descriptor !== undefined && this.o.validate) {
      const errors = descriptor.validateUpdate(next, current);
      if (errors.length > 0) throw invalidObjectError(descriptor, name, errors);
    }
    return this.store(r, this.state(r), objectKey(r.namespace ?? "", name), next, current);
  }

  /**
   * Stores a changed object, skipping no-op writes. On the update path (`finalize`), an object
   * being deleted whose last finalizer went away is deleted now, as the API server does.
   */
  private store(r: ResourceRef, state: ResourceState, key: string, next: KubeObject, current: KubeObject, finalize = true): KubeObject {
    next.metadata.resourceVersion = current.metadata.resourceVersion!;
    if (deepEqual(next, current)) return current;
    const pod = next as PodLike;
    const agentMustFinish = r.group === "" && r.resource === "pods" && Boolean(pod.spec?.nodeName) && (next.metadata.deletionGracePeriodSeconds ?? 0) > 0;
    next.metadata.resourceVersion = String(++this.revision);
    if (finalize && next.metadata.deletionTimestamp != null && (next.metadata.finalizers ?? []).length === 0 && !agentMustFinish) {
      state.objects.delete(key);
      this.emit(this.resourceKey(r), state, "DELETED", next, current);
      return next;
    }
    state.objects.set(key, next);
    this.emit(this.resourceKey(r), state, "MODIFIED", next, current);
    return next;
  }

  private emit(resourceKey: string, state: ResourceState, type: StoredEvent["type"], object: KubeObject, previous: KubeObject | null): void {
    const event: StoredEvent = { type, resourceVersion: this.revision, object: deepClone(object), previous: previous === null ? null : deepClone(previous) };
    state.history.push(event);
    if (state.history.length > this.o.watchHistoryEventsMax) state.compactedResourceVersion = state.history.shift()!.resourceVersion;
    for (const w of [...this.watchers]) if (w.resourceKey === resourceKey) this.deliver(w, event);
  }

  /** One change as one watch sees it, through its filters. */
  private deliver(w: Watcher, event: StoredEvent): void {
    const was = event.previous !== null && this.watcherMatches(w, event.previous);
    if (event.type === "DELETED") {
      if (was || this.watcherMatches(w, event.object)) w.stream.push({ type: "DELETED", object: deepClone(event.object) });
      return;
    }
    const is = this.watcherMatches(w, event.object);
    const type = was && is ? "MODIFIED" : is ? "ADDED" : was ? "DELETED" : null;
    if (type !== null) w.stream.push({ type, object: deepClone(event.object) });
  }

  private watcherMatches(w: Watcher, obj: KubeObject): boolean {
    if (w.namespace !== "" && obj.metadata.namespace !== w.namespace) return false;
    return w.labels.matches(obj.metadata.labels) && w.fields.matches(obj, w.fieldSet);
  }

  private filterFor(r: ResourceRef, labelSelector: string | undefined, fieldSelector: string | undefined): (obj: KubeObject) => boolean {
    let labels: Selector;
    let fields: FieldSelector;
    try {
      labels = parseLabelSelector(labelSelector ?? "");
      fields = parseFieldSelector(fieldSelector ?? "");
    } catch (err) {
      throw new ApiStatusError(statusBadRequest(err instanceof Error ? err.message : String(err)));
    }
    const fieldSet = this.descriptor(r)?.fieldSelectors ?? defaultFieldSet;
    return (obj) => (!r.namespace || obj.metadata.namespace === r.namespace) && labels.matches(obj.metadata.labels) && fields.matches(obj, fieldSet);
  }

  private current(r: ResourceRef): KubeObject {
    const current = this.state(r).objects.get(objectKey(r.namespace ?? "", r.name ?? ""));
    if (current === undefined) throw this.notFound(r);
    return current;
  }

  private notFound(r: ResourceRef): ApiStatusError {
    return new ApiStatusError(statusNotFound({ group: r.group, resource: r.resource }, r.name ?? ""));
  }

  private descriptor(r: Pick<ResourceRef, "group" | "version" | "resource">): ResourceDescriptor | undefined {
    return findResource(r.group, r.version, r.resource);
  }

  private resourceKey(r: Pick<ResourceRef, "group" | "resource">): string {
    return `${r.group}/${r.resource}`;
  }

  private state(r: Pick<ResourceRef, "group" | "resource">): ResourceState {
    const key = this.resourceKey(r);
    let state = this.resources.get(key);
    if (state === undefined) {
      state = { objects: new Map(), history: [], compactedResourceVersion: 0 };
      this.resources.set(key, state);
    }
    return state;
  }

  private nextUid(): string {
    return `00000000-0000-4000-8000-${(++this.uidCounter).toString(16).padStart(12, "0")}`;
  }

  private record(verb: FakeVerb, r: ResourceRef, extra: Partial<FakeAction> = {}): FakeAction {
    assert(this.recorded.length < fakeApiDefaults.actionsRecordedMax, "FakeApi recorded too many actions: call clearActions() in long tests");
    const action: FakeAction = {
      verb,
      atMs: this.clock.now(),
      group: r.group,
      version: r.version,
      resource: r.resource,
      namespace: r.namespace ?? "",
      name: r.name ?? "",
      subresource: r.subresource ?? "",
      ...extra,
    };
    this.recorded.push(action);
    return action;
  }

  /** Holds the call while a pause matches it, then fails it if a failure rule matches. */
  private async gate(action: FakeAction): Promise<void> {
    for (let pause = this.pauses.find((p) => matches(p, action)); pause !== undefined; pause = this.pauses.find((p) => matches(p, action))) {
      const held = pause;
      await new Promise<void>((resolve) => held.waiting.push(resolve));
    }
    const failure = this.takeFailure(action);
    if (failure !== null) throw failure;
  }

  private takeFailure(action: FakeAction): Error | null {
    const rule = this.failures.find((f) => matches(f, action));
    if (rule === undefined) return null;
    rule.times = (rule.times ?? 1) - 1;
    if (rule.times <= 0) this.failures.splice(this.failures.indexOf(rule), 1);
    return typeof rule.error === "function" ? rule.error() : rule.error;
  }
}
