/**
 * A raw etcd v3 client for tests: one HTTP/2 connection to one member, speaking etcd's v3 gRPC API with
 * @grpc/grpc-js and the generated codecs from @coxswain/proto.
 *
 * Why not the `etcd3` npm client: it retries and fails over on its own (cockatiel policies). A
 * retried compare-and-swap whose first attempt was applied reports "compare failed" for a swap
 * that happened, which the checker would rightly call a violation — of the client, not the store.
 * Here every call is exactly one RPC with one deadline, and its outcome is what the history records.
 */
import * as grpc from "@grpc/grpc-js";
import { decodeStatusWithIds, decodeWithoutHeader, etcdserverpb, type etcdserverpbTypes, messageField, uint64Field, withoutFields } from "@coxswain/proto";

const METHOD = {
  range: "/etcdserverpb.KV/Range",
  put: "/etcdserverpb.KV/Put",
  txn: "/etcdserverpb.KV/Txn",
  status: "/etcdserverpb.Maintenance/Status",
  compact: "/etcdserverpb.KV/Compact",
} as const;

/** Field numbers in etcd's rpc.proto. */
const RESPONSE_HEADER_FIELD = 1;
const HEADER_REVISION_FIELD = 3;
const TXN_SUCCEEDED_FIELD = 2;
/** TxnResponse.responses: each holds a nested response whose header carries the member id again. */
const TXN_RESPONSES_FIELD = 3;

/** Single small keys and statuses only. */
const RECEIVE_MESSAGE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * grpc-js backs off reconnecting up to 120 s by default; a member restarted after kill -9 would
 * stay unreachable to this client far longer than it is down. Keep retries close to the fault rhythm.
 */
const RECONNECT_BACKOFF_MS_INITIAL = 100;
const RECONNECT_BACKOFF_MS_MAX = 1000;

export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    message: string,
  ) {
    super(`${method}: ${grpc.status[code] ?? code}: ${message}`);
  }
}

export interface MemberStatus {
  /** The answering member's id (etcd's ids use all 64 bits, hence bigint). */
  memberId: bigint;
  /** 0n while the member knows no leader. */
  leaderId: bigint;
  raftTerm: number;
  raftIndex: number;
}

export interface ReadResult {
  /** null when the key is absent. */
  value: string | null;
  /** The answering member's store revision (ResponseHeader.revision). */
  revision: number;
}

const identity = (b: Buffer): Buffer => b;
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");

export class KvConnection {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      // Each KvConnection is its own HTTP/2 connection; grpc-js otherwise shares one per address.
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": RECEIVE_MESSAGE_BYTES_MAX,
      "grpc.initial_reconnect_backoff_ms": RECONNECT_BACKOFF_MS_INITIAL,
      "grpc.max_reconnect_backoff_ms": RECONNECT_BACKOFF_MS_MAX,
    });
  }

  /**
   * Whether a request sent now would go out on an established connection. A request made while
   * the channel is not ready fails without being sent; asking first keeps such non-requests out of
   * the history (they would otherwise count as unknown outcomes and widen the checker's search).
   */
  isReady(): boolean {
    return this.client.getChannel().getConnectivityState(true) === grpc.connectivityState.READY;
  }

  /** Resolves true once connected, false if not connected within the timeout. */
  waitReady(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => resolve(err === undefined));
    });
  }

  close(): void {
    this.client.close();
  }

  /** Range of one key: linearizable (ReadIndex) unless `serializable`, then the member's local copy. */
  async get(key: string, serializable: boolean, timeoutMs: number): Promise<ReadResult> {
    const request = etcdserverpb.RangeRequest.encode({ key: utf8(key), serializable }).finish();
    const bytes = await this.unary(METHOD.range, request, timeoutMs);
    const header = messageField(bytes, RESPONSE_HEADER_FIELD);
    const response = decodeWithoutHeader(etcdserverpb.RangeResponse, bytes);
    const kv = response.kvs[0];
    return {
      value: kv === undefined ? null : Buffer.from(kv.value ?? new Uint8Array()).toString("utf8"),
      revision: header === null ? 0 : Number(uint64Field(header, HEADER_REVISION_FIELD)),
    };
  }

  async put(key: string, value: string, timeoutMs: number): Promise<void> {
    const request = etcdserverpb.PutRequest.encode({ key: utf8(key), value: utf8(value) }).finish();
    await this.unary(METHOD.put, request, timeoutMs);
  }

  /**
   * One Txn: if the key's value equals `expected` (or, for null, the key is absent: etcd's
   * `version == 0`), put `value`; otherwise do nothing. Resolves whether the swap happened.
   */
  async compareAndSwap(key: string, expected: string | null, value: string, timeoutMs: number): Promise<boolean> {
    const keyBytes = utf8(key);
    const compare: etcdserverpbTypes.Compare.$Properties =
      expected === null
        ? { result: etcdserverpb.Compare.CompareResult.EQUAL, target: etcdserverpb.Compare.CompareTarget.VERSION, key: keyBytes, version: 0 }
        : { result: etcdserverpb.Compare.CompareResult.EQUAL, target: etcdserverpb.Compare.CompareTarget.VALUE, key: keyBytes, value: utf8(expected) };
    const request = etcdserverpb.TxnRequest.encode({
      compare: [compare],
      success: [{ requestPut: { key: keyBytes, value: utf8(value) } }],
      failure: [],
    }).finish();
    const bytes = await this.unary(METHOD.txn, request, timeoutMs);
    // Only `succeeded` matters; the nested responses carry 64-bit member ids the codec refuses.
    return uint64Field(withoutFields(bytes, new Set([RESPONSE_HEADER_FIELD, TXN_RESPONSES_FIELD])), TXN_SUCCEEDED_FIELD) !== 0n;
  }

  /**
   * Compacts the store's history up to `revision` (physical: waits until it is done), after
   * which reads and watches from older revisions fail with "required revision has been compacted".
   */
  async compact(revision: number, timeoutMs: number): Promise<void> {
    const request = etcdserverpb.CompactionRequest.encode({ revision, physical: true }).finish();
    await this.unary(METHOD.compact, request, timeoutMs);
  }

  /** The store's current revision, from the header of a linearizable read of an absent key. */
  async currentRevision(timeoutMs: number): Promise<number> {
    return (await this.get("/coxswain-testkit/revision-probe", false, timeoutMs)).revision;
  }

  async status(timeoutMs: number): Promise<MemberStatus> {
    const request = etcdserverpb.StatusRequest.encode({}).finish();
    const bytes = await this.unary(METHOD.status, request, timeoutMs);
    const { memberId, leaderId, status: rest } = decodeStatusWithIds(etcdserverpb.StatusResponse, bytes);
    return {
      memberId,
      leaderId,
      raftTerm: rest.raftTerm,
      raftIndex: rest.raftIndex,
    };
  }

  private unary(method: string, request: Uint8Array, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(method, identity, identity, asBuffer(request), { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err !== null) reject(new RpcError(method, err.code, err.details));
        else if (response === undefined) reject(new RpcError(method, grpc.status.INTERNAL, "empty response"));
        else resolve(response);
      });
    });
  }
}
