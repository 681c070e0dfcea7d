/**
 * The API server's one connection to the store (CONVENTIONS rule 7): etcd's v3 gRPC API over
 * @grpc/grpc-js with the generated codecs, to Coxswain's store or to a real etcd 3.4+ cluster
 * alike. Everything about talking to the store is decided here and nowhere else:
 *
 * - Endpoints: a list, used one at a time. A connection failure, a member without a leader or a
 *   deadline moves the client to the next endpoint (etcd's clientv3 balancer does the same).
 * - Deadlines: every unary RPC has one (`rpcTimeoutMs` per attempt), and every call a total budget
 *   (`callTimeoutMs`) across its retries.
 * - Retries: a request the store certainly did not apply (no connection, "etcdserver: no leader")
 *   is retried with exponential backoff. A request whose outcome is unknown (the connection broke
 *   after it was sent, the deadline passed, "leader changed", "request timed out") is retried only
 *   when the caller says it is safe to send twice (`idempotent`): reads, and the storage layer's
 *   compare-guarded transactions, whose second attempt finds out what the first did (see store.ts).
 *   clientv3 draws the same line (isSafeRetryMutableRPC).
 * - Keepalive: HTTP/2 pings every `keepaliveTimeMs` while calls are open, so that a member that
 *   vanished without closing its sockets (a paused VM, a cut cable) is noticed by the watch stream.
 * - Watch: one bidirectional stream per `watch()`, reopened on another endpoint from the revision
 *   after the last event seen whenever it breaks; only compaction ends it.
 * - 64-bit ids: real etcd's cluster, member and lease ids exceed 2^53; responses are decoded
 *   leniently (wire.ts), and leases are granted with ids this client picks below 2^53.
 */
import { Buffer } from "node:buffer";
import { randomInt } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { etcdserverpb, type etcdserverpbTypes, type mvccpbTypes } from "@coxswain/proto";
import { assert, createLogger, type Logger } from "@coxswain/raft";
import {
  decodeLeniently,
  deleteRangeResponseSchema,
  headerOnlyResponseSchema,
  leaseResponseSchema,
  putResponseSchema,
  rangeResponseSchema,
  txnResponseSchema,
  watchResponseSchema,
  type MessageSchema,
} from "@coxswain/proto";

type Pb = typeof etcdserverpb;

// ---------------------------------------------------------------------------------------------
// Options and their documented defaults
// ---------------------------------------------------------------------------------------------

export interface EtcdClientTls {
  /** PEM of the CA that signed the members' certificates; the system roots when absent. */
  caPem?: Buffer;
  /** Client certificate and key, for members started with --client-cert-auth. */
  certPem?: Buffer;
  keyPem?: Buffer;
}

export interface EtcdClientOptions {
  /** `host:port` or `http(s)://host:port`; at least one. Tried in order, starting with the first. */
  endpoints: readonly string[];
  /** TLS for every endpoint; plain HTTP/2 when absent (an `https://` endpoint then needs it). */
  tls?: EtcdClientTls;
  /** Deadline of one attempt of a unary RPC. */
  rpcTimeoutMs?: number;
  /** Time a call may spend on all its attempts together (a leader election takes about 1–2 s). */
  callTimeoutMs?: number;
  /** Attempts after the first within the budget. */
  retriesMax?: number;
  /** Backoff before the first retry; doubles per retry up to `backoffMsMax`, with ±20% jitter. */
  backoffMsInitial?: number;
  backoffMsMax?: number;
  /** HTTP/2 keepalive ping interval while calls or streams are open (kube-apiserver uses 30 s). */
  keepaliveTimeMs?: number;
  /** A ping unanswered this long closes the connection (kube-apiserver uses 10 s). */
  keepaliveTimeoutMs?: number;
  /**
   * A watch stream silent this long is reopened elsewhere: half-way, the client asks the store
   * for a progress notification, which any live member answers. This catches a frozen member
   * sooner than keepalive does, and one whose connection stays up while it serves nothing.
   */
  watchStallTimeoutMs?: number;
  /** Largest response accepted (a page of a list). */
  receiveMessageBytesMax?: number;
  logger?: Logger;
}

export const etcdClientDefaults = {
  rpcTimeoutMs: 5_000,
  callTimeoutMs: 20_000,
  retriesMax: 12,
  backoffMsInitial: 50,
  backoffMsMax: 1_000,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  watchStallTimeoutMs: 20_000,
  receiveMessageBytesMax: 256 * 1024 * 1024,
  /** grpc-js's own reconnect backoff (default up to 120 s) is kept short: failover does the rest. */
  reconnectBackoffMsInitial: 100,
  reconnectBackoffMsMax: 2_000,
  /** Lease ids drawn before giving up on finding a free one (collisions are ~2^-50 each). */
  leaseIdAttemptsMax: 8,
} as const;

export interface CallOptions {
  /**
   * Safe to send again when the first attempt's outcome is unknown. Reads are; a put is not; a
   * transaction is when its compares make a second application impossible and the caller
   * reconciles a failed compare (store.ts does).
   */
  idempotent?: boolean;
  /** Overrides `callTimeoutMs` for this call. */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** The store answered with an error this client does not retry (bad request, compare-free failure...). */
export class EtcdRpcError extends Error {
  override readonly name: string = "EtcdRpcError";
  constructor(
    readonly method: string,
    readonly endpoint: string,
    readonly code: grpc.status,
    /** The store's message, e.g. "etcdserver: mvcc: required revision has been compacted". */
    readonly details: string,
  ) {
    super(`${method} on ${endpoint}: ${grpc.status[code] ?? code}: ${details}`);
  }
}

/** A read at a revision below the store's compaction point. */
export class StoreCompactedError extends EtcdRpcError {
  override readonly name = "StoreCompactedError";
}

/** A read at a revision the store has not reached. */
export class StoreFutureRevisionError extends EtcdRpcError {
  override readonly name = "StoreFutureRevisionError";
}

/**
 * The call gave up: no endpoint answered within the retry budget, or (`outcomeUnknown`) a request
 * that is not safe to repeat may or may not have been applied.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  constructor(
    readonly method: string,
    readonly outcomeUnknown: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message}`, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Plain results (keys as UTF-8 strings, values as bytes)
// ---------------------------------------------------------------------------------------------

export interface StoreKeyValue {
  key: string;
  value: Uint8Array;
  createRevision: number;
  modRevision: number;
  /** 1 on creation, +1 per put; 0 for a deleted key's tombstone in a watch event. */
  version: number;
  lease: number;
}

export interface RangeRequest {
  key: string;
  /** Every key starting with `key`. */
  prefix?: boolean;
  /** [key, rangeEnd); ignored with `prefix`. */
  rangeEnd?: string;
  limit?: number;
  /** 0 (or absent): the current revision. */
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  /** A member's local copy instead of a linearizable (ReadIndex) read. */
  serializable?: boolean;
}

export interface RangeResult {
  /** The store's revision the read was served at (ResponseHeader.revision). */
  revision: number;
  kvs: StoreKeyValue[];
  more: boolean;
  /** Keys in the whole range (not only the returned page). */
  count: number;
}

export interface PutRequest {
  key: string;
  value: Uint8Array | string;
  lease?: number;
  prevKv?: boolean;
}

export interface PutResult {
  revision: number;
  prevKv: StoreKeyValue | null;
}

export interface DeleteRequest {
  key: string;
  prefix?: boolean;
  rangeEnd?: string;
  prevKv?: boolean;
}

export interface DeleteResult {
  revision: number;
  deleted: number;
  prevKvs: StoreKeyValue[];
}

export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";
export type CompareResult = "=" | "!=" | ">" | "<";

/** One etcd Compare: `target(key) result value`, e.g. `mod(/registry/x) = 42`. */
export interface Compare {
  key: string;
  target: CompareTarget;
  result: CompareResult;
  value: number | Uint8Array | string;
}

export type TxnOp = { range: RangeRequest } | { put: PutRequest } | { delete: DeleteRequest };

export interface TxnRequest {
  compare: Compare[];
  success: TxnOp[];
  failure: TxnOp[];
}

export type TxnOpResult = { range: RangeResult } | { put: PutResult } | { delete: DeleteResult } | { txn: TxnResult };

export interface TxnResult {
  revision: number;
  succeeded: boolean;
  responses: TxnOpResult[];
  /**
   * An earlier attempt of this call may have been applied (its outcome was unknown and the call
   * was resent as `idempotent`). A failed compare then may be the first attempt's doing.
   */
  resent: boolean;
}

export interface LeaseGrant {
  id: number;
  ttlSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------------------------

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
const bytesOf = (v: Uint8Array | string): Uint8Array => (typeof v === "string" ? utf8(v) : v);
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** etcd's "every key with this prefix" range end: the prefix with its last byte incremented. */
export function prefixRangeEnd(prefix: string): Uint8Array {
  const end = Buffer.from(utf8(prefix));
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): every key from `prefix` on.
  return Buffer.from([0]);
}

function spanOf(req: { key: string; prefix?: boolean; rangeEnd?: string }): { key: Uint8Array; rangeEnd?: Uint8Array } {
  if (req.prefix === true) return { key: utf8(req.key), rangeEnd: prefixRangeEnd(req.key) };
  if (req.rangeEnd !== undefined) return { key: utf8(req.key), rangeEnd: utf8(req.rangeEnd) };
  return { key: utf8(req.key) };
}

function toRangeRequest(r: RangeRequest): etcdserverpbTypes.RangeRequest.$Properties {
  return {
    ...spanOf(r),
    limit: r.limit ?? 0,
    revision: r.revision ?? 0,
    keysOnly: r.keysOnly ?? false,
    countOnly: r.countOnly ?? false,
    serializable: r.serializable ?? false,
  };
}

function toPutRequest(r: PutRequest): etcdserverpbTypes.PutRequest.$Properties {
  return { key: utf8(r.key), value: bytesOf(r.value), lease: r.lease ?? 0, prevKv: r.prevKv ?? false };
}

function toDeleteRequest(r: DeleteRequest): etcdserverpbTypes.DeleteRangeRequest.$Properties {
  return { ...spanOf(r), prevKv: r.prevKv ?? false };
}

const compareResults: Record<CompareResult, number> = {
  "=": etcdserverpb.Compare.CompareResult.EQUAL,
  "!=": etcdserverpb.Compare.CompareResult.NOT_EQUAL,
  ">": etcdserverpb.Compare.CompareResult.GREATER,
  "<": etcdserverpb.Compare.CompareResult.LESS,
};

function toCompare(c: Compare): etcdserverpbTypes.Compare.$Properties {
  const base = { key: utf8(c.key), result: compareResults[c.result] };
  const CT = etcdserverpb.Compare.CompareTarget;
  switch (c.target) {
    case "version":
      return { ...base, target: CT.VERSION, version: Number(c.value) };
    case "create":
      return { ...base, target: CT.CREATE, createRevision: Number(c.value) };
    case "mod":
      return { ...base, target: CT.MOD, modRevision: Number(c.value) };
    case "lease":
      return { ...base, target: CT.LEASE, lease: Number(c.value) };
    case "value":
      assert(typeof c.value !== "number", "a value compare compares bytes");
      return { ...base, target: CT.VALUE, value: bytesOf(c.value) };
  }
}

function toRequestOp(op: TxnOp): etcdserverpbTypes.RequestOp.$Properties {
  if ("range" in op) return { requestRange: toRangeRequest(op.range) };
  if ("put" in op) return { requestPut: toPutRequest(op.put) };
  return { requestDeleteRange: toDeleteRequest(op.delete) };
}

function fromKeyValue(kv: mvccpbTypes.KeyValue.$Properties): StoreKeyValue {
  return {
    key: Buffer.from(kv.key ?? new Uint8Array(0)).toString("utf8"),
    value: kv.value ?? new Uint8Array(0),
    createRevision: kv.createRevision ?? 0,
    modRevision: kv.modRevision ?? 0,
    version: kv.version ?? 0,
    lease: kv.lease ?? 0,
  };
}

const revisionOf = (header: etcdserverpbTypes.ResponseHeader.$Properties | null | undefined): number => header?.revision ?? 0;

function fromRangeResponse(r: etcdserverpbTypes.RangeResponse.$Properties): RangeResult {
  return { revision: revisionOf(r.header), kvs: (r.kvs ?? []).map(fromKeyValue), more: r.more ?? false, count: r.count ?? 0 };
}

function fromTxnResponse(r: etcdserverpbTypes.TxnResponse.$Properties, revision = revisionOf(r.header)): TxnResult {
  const responses: TxnOpResult[] = (r.responses ?? []).map((op) => {
    // Nested headers may carry only the revision (etcd fills ids on the top-level header only).
    if (op.responseRange) return { range: { ...fromRangeResponse(op.responseRange), revision } };
    if (op.responsePut) return { put: { revision, prevKv: op.responsePut.prevKv ? fromKeyValue(op.responsePut.prevKv) : null } };
    if (op.responseDeleteRange) {
      const d = op.responseDeleteRange;
      return { delete: { revision, deleted: d.deleted ?? 0, prevKvs: (d.prevKvs ?? []).map(fromKeyValue) } };
    }
    assert(op.responseTxn, "a ResponseOp holds one of its four responses");
    return { txn: fromTxnResponse(op.responseTxn, revision) };
  });
  return { revision, succeeded: r.succeeded ?? false, responses, resent: false };
}

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

interface UnaryMethod<Req, Res> {
  path: string;
  serialize: (value: Req) => Buffer;
  deserialize: (bytes: Buffer) => Res;
}

function unary<Req, Res>(service: string, name: string, request: Codec<Req>, response: Codec<Res>, schema: MessageSchema): UnaryMethod<Req, Res> {
  return {
    path: `/etcdserverpb.${service}/${name}`,
    serialize: (value) => asBuffer(request.encode(value).finish()),
    deserialize: (bytes) => decodeLeniently(response, bytes, schema),
  };
}

const pb: Pb = etcdserverpb;
const METHODS = {
  range: unary("KV", "Range", pb.RangeRequest, pb.RangeResponse, rangeResponseSchema),
  put: unary("KV", "Put", pb.PutRequest, pb.PutResponse, putResponseSchema),
  deleteRange: unary("KV", "DeleteRange", pb.DeleteRangeRequest, pb.DeleteRangeResponse, deleteRangeResponseSchema),
  txn: unary("KV", "Txn", pb.TxnRequest, pb.TxnResponse, txnResponseSchema),
  compact: unary("KV", "Compact", pb.CompactionRequest, pb.CompactionResponse, headerOnlyResponseSchema),
  leaseGrant: unary("Lease", "LeaseGrant", pb.LeaseGrantRequest, pb.LeaseGrantResponse, leaseResponseSchema),
  leaseRevoke: unary("Lease", "LeaseRevoke", pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, headerOnlyResponseSchema),
};
const WATCH_PATH = "/etcdserverpb.Watch/Watch";
/** How often a watch checks for silence, per stall timeout. */
const STALL_CHECKS_PER_TIMEOUT = 4;
const LEASE_KEEPALIVE_PATH = "/etcdserverpb.Lease/LeaseKeepAlive";
const serializeWatchRequest = (value: etcdserverpbTypes.WatchRequest.$Properties): Buffer => asBuffer(pb.WatchRequest.encode(value).finish());
const deserializeWatchResponse = (bytes: Buffer): etcdserverpbTypes.WatchResponse => decodeLeniently(pb.WatchResponse, bytes, watchResponseSchema);
const serializeKeepAlive = (value: etcdserverpbTypes.LeaseKeepAliveRequest.$Properties): Buffer => asBuffer(pb.LeaseKeepAliveRequest.encode(value).finish());
const deserializeKeepAlive = (bytes: Buffer): etcdserverpbTypes.LeaseKeepAliveResponse =>
  decodeLeniently(pb.LeaseKeepAliveResponse, bytes, leaseResponseSchema);

// ---------------------------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------------------------

interface Disposition {
  /** "notApplied": certainly not applied, always retried; "unknown": retried only when idempotent; "final": not retried. */
  retry: "notApplied" | "unknown" | "final";
  /** Move to the next endpoint before retrying. */
  failover: boolean;
}

/** etcd's messages (api/v3rpc/rpctypes) that say the request never reached the Raft log. */
const NOT_APPLIED_MESSAGES = new Set(["etcdserver: no leader", "etcdserver: rpc not supported for learner", "etcdserver: too many requests"]);

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === "number";
}

function classify(err: grpc.ServiceError): Disposition {
  const details = err.details ?? "";
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      if (NOT_APPLIED_MESSAGES.has(details)) return { retry: "notApplied", failover: details !== "etcdserver: too many requests" };
      // grpc-js fails a call at once, unsent, while the channel has no connection.
      if (details.startsWith("No connection established") || details.includes("ECONNREFUSED")) return { retry: "notApplied", failover: true };
      // "leader changed", "request timed out", a connection that broke mid-call: maybe applied.
      return { retry: "unknown", failover: !details.startsWith("etcdserver: leader changed") };
    case grpc.status.RESOURCE_EXHAUSTED:
      return details === "etcdserver: too many requests" ? { retry: "notApplied", failover: false } : { retry: "final", failover: false };
    case grpc.status.DEADLINE_EXCEEDED:
      return { retry: "unknown", failover: true };
    default:
      return { retry: "final", failover: false };
  }
}

function finalError(method: string, endpoint: string, err: grpc.ServiceError): EtcdRpcError {
  const details = err.details ?? err.message;
  if (err.code === grpc.status.OUT_OF_RANGE && details.includes("required revision has been compacted")) {
    return new StoreCompactedError(method, endpoint, err.code, details);
  }
  if (err.code === grpc.status.OUT_OF_RANGE && details.includes("required revision is a future revision")) {
    return new StoreFutureRevisionError(method, endpoint, err.code, details);
  }
  return new EtcdRpcError(method, endpoint, err.code, details);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function normalizeEndpoint(endpoint: string): { address: string; secure: boolean } {
  const m = /^(https?):\/\/(.+?)\/?$/.exec(endpoint.trim());
  if (m === null) return { address: endpoint.trim(), secure: false };
  return { address: m[2]!, secure: m[1] === "https" };
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

interface Attempted<T> {
  value: T;
  /** An attempt before the successful one had an unknown outcome. */
  resent: boolean;
}

type Resolved = Required<Omit<EtcdClientOptions, "tls" | "logger" | "endpoints">>;

export class EtcdClient {
  readonly endpoints: readonly string[];
  private readonly options: Resolved;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly connections = new Map<string, grpc.Client>();
  private readonly watches = new Set<StoreWatch>();
  private readonly log: Logger;
  /** Index into `endpoints` of the one in use. */
  private current = 0;
  private closed = false;

  constructor(options: EtcdClientOptions) {
    assert(options.endpoints.length > 0, "an etcd client needs at least one endpoint");
    const parsed = options.endpoints.map(normalizeEndpoint);
    this.endpoints = parsed.map((p) => p.address);
    const secure = options.tls !== undefined || parsed.some((p) => p.secure);
    this.credentials = secure
      ? grpc.credentials.createSsl(options.tls?.caPem ?? null, options.tls?.keyPem ?? null, options.tls?.certPem ?? null)
      : grpc.credentials.createInsecure();
    this.options = {
      rpcTimeoutMs: options.rpcTimeoutMs ?? etcdClientDefaults.rpcTimeoutMs,
      callTimeoutMs: options.callTimeoutMs ?? etcdClientDefaults.callTimeoutMs,
      retriesMax: options.retriesMax ?? etcdClientDefaults.retriesMax,
      backoffMsInitial: options.backoffMsInitial ?? etcdClientDefaults.backoffMsInitial,
      backoffMsMax: options.backoffMsMax ?? etcdClientDefaults.backoffMsMax,
      keepaliveTimeMs: options.keepaliveTimeMs ?? etcdClientDefaults.keepaliveTimeMs,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? etcdClientDefaults.keepaliveTimeoutMs,
      watchStallTimeoutMs: options.watchStallTimeoutMs ?? etcdClientDefaults.watchStallTimeoutMs,
      receiveMessageBytesMax: options.receiveMessageBytesMax ?? etcdClientDefaults.receiveMessageBytesMax,
    };
    this.log = options.logger ?? createLogger("etcd-client");
  }

  /** The endpoint requests go to now. */
  get currentEndpoint(): string {
    return this.endpoints[this.current]!;
  }

  // ---- KV ----

  async range(request: RangeRequest, options: CallOptions = {}): Promise<RangeResult> {
    const response = await this.call(METHODS.range, toRangeRequest(request), { idempotent: true, ...options });
    return fromRangeResponse(response);
  }

  async put(request: PutRequest, options: CallOptions = {}): Promise<PutResult> {
    const response = await this.call(METHODS.put, toPutRequest(request), options);
    return { revision: revisionOf(response.header), prevKv: response.prevKv ? fromKeyValue(response.prevKv) : null };
  }

  async delete(request: DeleteRequest, options: CallOptions = {}): Promise<DeleteResult> {
    const response = await this.call(METHODS.deleteRange, toDeleteRequest(request), options);
    return { revision: revisionOf(response.header), deleted: response.deleted ?? 0, prevKvs: (response.prevKvs ?? []).map(fromKeyValue) };
  }

  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const { value, resent } = await this.callReportingResends(
      METHODS.txn,
      { compare: request.compare.map(toCompare), success: request.success.map(toRequestOp), failure: request.failure.map(toRequestOp) },
      options,
    );
    return { ...fromTxnResponse(value), resent };
  }

  /** Discards history below `revision` (reads and watches there then fail with "compacted"). */
  async compact(revision: number, options: CallOptions & { physical?: boolean } = {}): Promise<void> {
    // Compacting twice at the same revision fails the second time ("compacted"), so a retry is harmless.
    await this.call(METHODS.compact, { revision, physical: options.physical ?? false }, { idempotent: true, ...options });
  }

  /** The store's current revision (a linearizable read of one key, as kube-apiserver's health check does). */
  async currentRevision(options: CallOptions = {}): Promise<number> {
    return (await this.range({ key: "health", countOnly: true }, options)).revision;
  }

  // ---- Lease ----

  /**
   * Grants a lease with an id this client picks below 2^53 (etcd accepts client-chosen ids; its
   * own would not fit in a JS number, see wire.ts). A collision with an existing lease is retried.
   */
  async leaseGrant(ttlSeconds: number, options: CallOptions = {}): Promise<LeaseGrant> {
    for (let attempt = 1; ; attempt++) {
      // 2^21 · 2^32 = 2^53: the id's high and low halves; 0 means "pick one for me".
      const id = randomInt(0, 2 ** 21) * 2 ** 32 + randomInt(1, 2 ** 32);
      try {
        // Idempotent: a second grant of the same id fails with "lease already exists", handled below.
        const response = await this.call(METHODS.leaseGrant, { TTL: ttlSeconds, ID: id }, { idempotent: true, ...options });
        if (response.error) throw new EtcdRpcError(METHODS.leaseGrant.path, this.currentEndpoint, grpc.status.UNKNOWN, response.error);
        return { id: response.ID ?? id, ttlSeconds: response.TTL ?? ttlSeconds };
      } catch (err) {
        const exists = err instanceof EtcdRpcError && err.details === "etcdserver: lease already exists";
        if (!exists || attempt >= etcdClientDefaults.leaseIdAttemptsMax) throw err;
      }
    }
  }

  async leaseRevoke(id: number, options: CallOptions = {}): Promise<void> {
    await this.call(METHODS.leaseRevoke, { ID: id }, { idempotent: true, ...options });
  }

  /**
   * One keep-alive round trip; resolves the lease's remaining TTL (0: it has expired). Long-lived
   * keep-alive streams are not needed yet: callers renew with this on a timer.
   */
  async leaseKeepAliveOnce(id: number): Promise<number> {
    const { value } = await this.withRetries("LeaseKeepAlive", { idempotent: true }, (endpoint, deadline) => {
      return new Promise<number>((resolve, reject) => {
        const stream = this.connection(endpoint).makeBidiStreamRequest(LEASE_KEEPALIVE_PATH, serializeKeepAlive, deserializeKeepAlive, new grpc.Metadata(), {
          deadline,
        });
        let settled = false;
        stream.on("data", (response: etcdserverpbTypes.LeaseKeepAliveResponse) => {
          if (settled) return;
          settled = true;
          resolve(response.TTL ?? 0);
          stream.end();
          stream.cancel();
        });
        stream.on("error", (err: grpc.ServiceError) => {
          if (settled) return;
          settled = true;
          reject(err);
        });
        stream.on("end", () => {
          if (settled) return;
          settled = true;
          reject(
            Object.assign(new Error("keep-alive stream ended without an answer"), {
              code: grpc.status.UNAVAILABLE,
              details: "stream ended",
              metadata: new grpc.Metadata(),
            }),
          );
        });
        stream.write({ ID: id });
      });
    });
    return value;
  }

  // ---- Watch ----

  /** Opens a watch that survives member failures (see StoreWatch). */
  watch(options: StoreWatchOptions, handlers: StoreWatchHandlers): StoreWatch {
    assert(!this.closed, "watch on an open client");
    const watch = new StoreWatch(this, options, handlers, this.log, this.options.watchStallTimeoutMs);
    this.watches.add(watch);
    watch.onClose = () => this.watches.delete(watch);
    return watch;
  }

  /** Closes every connection and watch. Calls in flight fail with CANCELLED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watch of [...this.watches]) watch.close();
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- internals shared with StoreWatch ----

  /** @internal The grpc-js client of one endpoint (its own HTTP/2 connection). */
  connection(endpoint: string): grpc.Client {
    let client = this.connections.get(endpoint);
    if (client === undefined) {
      client = new grpc.Client(endpoint, this.credentials, {
        // Each EtcdClient owns its connections (grpc-js otherwise shares one per address per process).
        "grpc.use_local_subchannel_pool": 1,
        "grpc.keepalive_time_ms": this.options.keepaliveTimeMs,
        "grpc.keepalive_timeout_ms": this.options.keepaliveTimeoutMs,
        // etcd's server refuses pings without calls (its PermitWithoutStream is false): keep 0.
        "grpc.keepalive_permit_without_calls": 0,
        "grpc.max_receive_message_length": this.options.receiveMessageBytesMax,
        "grpc.initial_reconnect_backoff_ms": etcdClientDefaults.reconnectBackoffMsInitial,
        "grpc.max_reconnect_backoff_ms": etcdClientDefaults.reconnectBackoffMsMax,
      });
      this.connections.set(endpoint, client);
    }
    return client;
  }

  /** @internal Moves to the endpoint after `failedIndex`, unless another call already moved on. */
  failover(failedIndex: number, reason: string): void {
    if (this.current !== failedIndex || this.endpoints.length === 1) return;
    this.current = (failedIndex + 1) % this.endpoints.length;
    this.log.warn({ from: this.endpoints[failedIndex], to: this.endpoints[this.current], reason }, "store endpoint failover");
  }

  /** @internal The backoff before retry number `attempt` (1-based), with ±20% jitter. */
  backoffMs(attempt: number): number {
    const base = Math.min(this.options.backoffMsMax, this.options.backoffMsInitial * 2 ** Math.min(attempt - 1, 20));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  /** @internal Index of the endpoint requests go to now. */
  get currentIndex(): number {
    return this.current;
  }

  private async call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: CallOptions): Promise<Res> {
    return (await this.callReportingResends(method, request, options)).value;
  }

  private callReportingResends<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: CallOptions): Promise<Attempted<Res>> {
    return this.withRetries(method.path, options, (endpoint, deadline) => {
      return new Promise<Res>((resolve, reject) => {
        this.connection(endpoint).makeUnaryRequest(
          method.path,
          method.serialize,
          method.deserialize,
          request,
          new grpc.Metadata(),
          { deadline },
          (err, response) => {
            if (err !== null) reject(err);
            else if (response === undefined) reject(Object.assign(new Error("empty response"), { code: grpc.status.INTERNAL, details: "empty response" }));
            else resolve(response);
          },
        );
      });
    });
  }

  /** Runs `attempt` against the current endpoint until it succeeds, fails for good, or the budget runs out. */
  private async withRetries<T>(method: string, options: CallOptions, attempt: (endpoint: string, deadline: Date) => Promise<T>): Promise<Attempted<T>> {
    if (this.closed) throw new StoreUnavailableError(method, false, "the etcd client is closed");
    const callDeadline = Date.now() + (options.timeoutMs ?? this.options.callTimeoutMs);
    let last: unknown = null;
    let resent = false;
    for (let n = 0; n <= this.options.retriesMax; n++) {
      if (n > 0) {
        const wait = this.backoffMs(n);
        if (Date.now() + wait >= callDeadline) break;
        await sleep(wait);
        if (this.closed) throw new StoreUnavailableError(method, false, "the etcd client is closed", { cause: last });
      }
      const index = this.current;
      const endpoint = this.endpoints[index]!;
      const deadline = new Date(Math.min(Date.now() + this.options.rpcTimeoutMs, callDeadline));
      try {
        return { value: await attempt(endpoint, deadline), resent };
      } catch (err) {
        if (!isServiceError(err)) throw err;
        last = err;
        const disposition = classify(err);
        if (disposition.failover) this.failover(index, `${grpc.status[err.code]}: ${err.details}`);
        if (disposition.retry === "final") throw finalError(method, endpoint, err);
        if (disposition.retry === "unknown" && options.idempotent !== true) {
          throw new StoreUnavailableError(method, true, `outcome unknown after ${grpc.status[err.code]}: ${err.details} (on ${endpoint})`, { cause: err });
        }
        if (disposition.retry === "unknown") resent = true;
        this.log.debug({ method, endpoint, code: grpc.status[err.code], details: err.details, attempt: n + 1 }, "store call failed, retrying");
      }
    }
    const detail = isServiceError(last) ? `${grpc.status[last.code]}: ${last.details}` : "no attempt made";
    throw new StoreUnavailableError(method, false, `no store endpoint answered (${this.endpoints.join(", ")}); last error ${detail}`, { cause: last });
  }
}

// ---------------------------------------------------------------------------------------------
// Watch streams
// ---------------------------------------------------------------------------------------------

export interface StoreWatchOptions {
  key: string;
  prefix?: boolean;
  rangeEnd?: string;
  /** First revision to deliver; 0: from now. */
  startRevision: number;
  prevKv?: boolean;
  /** Ask the store for periodic progress notifications on an idle watch. */
  progressNotify?: boolean;
}

export interface StoreWatchEvent {
  type: "PUT" | "DELETE";
  /** For a DELETE: the key with modRevision = the deletion's revision and an empty value. */
  kv: StoreKeyValue;
  prevKv: StoreKeyValue | null;
}

export interface StoreWatchHandlers {
  /** The events of one WatchResponse, in revision order. */
  events(events: StoreWatchEvent[]): void;
  /** A progress notification: the store's revision when the watch had nothing more to send. */
  progress?(revision: number): void;
  /** History the watch needs was compacted: the watch has ended; the caller must re-list. */
  compacted(compactRevision: number): void;
  /** The stream broke and is reopened from `nextRevision` (for logs and metrics). */
  reconnecting?(reason: string, attempt: number): void;
}

/**
 * One etcd watch kept open across member failures: when the stream breaks (connection lost, the
 * member lost its leader and canceled it, a server-side overflow), it is reopened on the next
 * endpoint from the revision after the last event delivered, after a capped backoff. It ends only
 * when closed or when the needed history was compacted (handlers.compacted).
 */
export class StoreWatch {
  /** @internal */
  onClose: (() => void) | null = null;
  private stream: grpc.ClientDuplexStream<etcdserverpbTypes.WatchRequest.$Properties, etcdserverpbTypes.WatchResponse> | null = null;
  /** Bumped per stream: callbacks of an abandoned stream are ignored. */
  private generation = 0;
  private watchId: number | null = null;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** The endpoint the current stream was opened on. */
  private streamEndpointIndex = 0;
  private closedFlag = false;
  private nextRevisionValue: number;
  /** When the current stream last delivered anything (Date.now()). */
  private lastReceiveMs = 0;
  private readonly stallTimer: NodeJS.Timeout;

  constructor(
    private readonly client: EtcdClient,
    private readonly options: StoreWatchOptions,
    private readonly handlers: StoreWatchHandlers,
    private readonly log: Logger,
    private readonly stallTimeoutMs: number,
  ) {
    this.nextRevisionValue = options.startRevision;
    this.open();
    this.stallTimer = setInterval(() => this.checkStall(), Math.max(1, Math.floor(stallTimeoutMs / STALL_CHECKS_PER_TIMEOUT)));
    this.stallTimer.unref();
  }

  /** The revision the watch resumes from if its stream breaks now (0 before the first event: "now"). */
  get nextRevision(): number {
    return this.nextRevisionValue;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Asks the store for a progress notification; false when no stream is open at the moment. */
  requestProgress(): boolean {
    if (this.stream === null || this.watchId === null) return false;
    this.stream.write({ progressRequest: {} });
    return true;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.stallTimer);
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.abandonStream();
    this.onClose?.();
  }

  private open(): void {
    const generation = ++this.generation;
    const index = this.client.currentIndex;
    const endpoint = this.client.endpoints[index]!;
    const metadata = new grpc.Metadata();
    // etcd cancels watches on a member that loses its leader when asked to (clientv3.WithRequireLeader),
    // so that a partitioned member does not leave the cache silently stale.
    metadata.set("hasleader", "true");
    const stream = this.client.connection(endpoint).makeBidiStreamRequest(WATCH_PATH, serializeWatchRequest, deserializeWatchResponse, metadata);
    this.stream = stream;
    this.watchId = null;
    this.lastReceiveMs = Date.now();
    stream.on("data", (response: etcdserverpbTypes.WatchResponse) => {
      if (generation !== this.generation) return;
      this.lastReceiveMs = Date.now();
      this.receive(response, index);
    });
    this.streamEndpointIndex = index;
    stream.on("error", (err: grpc.ServiceError) => {
      if (generation === this.generation) this.broken(index, `${grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`);
    });
    stream.on("end", () => {
      if (generation === this.generation) this.broken(index, "the store ended the watch stream");
    });
    stream.write({
      createRequest: {
        ...spanOf(this.options),
        startRevision: this.nextRevisionValue,
        prevKv: this.options.prevKv ?? false,
        progressNotify: this.options.progressNotify ?? false,
      },
    });
  }

  private receive(response: etcdserverpbTypes.WatchResponse, index: number): void {
    if (response.canceled) {
      const compactRevision = response.compactRevision ?? 0;
      if (compactRevision > 0) {
        this.log.warn({ nextRevision: this.nextRevisionValue, compactRevision }, "store watch compacted");
        this.close();
        this.handlers.compacted(compactRevision);
        return;
      }
      this.broken(index, `watch canceled by the store: ${response.cancelReason || "no reason given"}`);
      return;
    }
    if (response.created) {
      this.watchId = response.watchId ?? 0;
      this.reconnectAttempt = 0;
    }
    const events = response.events ?? [];
    if (events.length > 0) {
      const converted: StoreWatchEvent[] = events.map((e) => ({
        type: e.type === 1 ? "DELETE" : "PUT",
        kv: fromKeyValue(e.kv ?? {}),
        prevKv: e.prevKv ? fromKeyValue(e.prevKv) : null,
      }));
      this.nextRevisionValue = converted[converted.length - 1]!.kv.modRevision + 1;
      this.handlers.events(converted);
    } else if (!response.created) {
      // An empty response that is not the creation answer: a progress notification. The resume
      // revision stays with events only (etcd 3.4 may send a requested progress ahead of events).
      this.handlers.progress?.(revisionOf(response.header));
    }
  }

  /** Past half the stall timeout, ask for progress; past all of it, give up on this stream. */
  private checkStall(): void {
    if (this.stream === null || this.closedFlag) return;
    const silentMs = Date.now() - this.lastReceiveMs;
    if (silentMs >= this.stallTimeoutMs) this.broken(this.streamEndpointIndex, `no answer from the store for ${silentMs} ms`);
    else if (silentMs >= this.stallTimeoutMs / 2 && this.watchId !== null) this.stream.write({ progressRequest: {} });
  }

  private broken(index: number, reason: string): void {
    if (this.closedFlag) return;
    this.abandonStream();
    this.client.failover(index, reason);
    if (this.client.isClosed) {
      this.close();
      return;
    }
    this.reconnectAttempt++;
    const wait = this.client.backoffMs(this.reconnectAttempt);
    this.log.warn({ reason, nextRevision: this.nextRevisionValue, attempt: this.reconnectAttempt, waitMs: wait }, "store watch broken, reopening");
    this.handlers.reconnecting?.(reason, this.reconnectAttempt);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closedFlag) this.open();
    }, wait);
  }

  private abandonStream(): void {
    this.generation++;
    const stream = this.stream;
    this.stream = null;
    this.watchId = null;
    if (stream !== null) {
      stream.on("error", () => {}); // the cancellation below reports CANCELLED; nobody listens any more
      stream.cancel();
    }
  }
}
