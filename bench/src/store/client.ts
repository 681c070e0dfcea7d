/**
 * The one client both targets are driven with: @grpc/grpc-js with a hand-written service
 * definition for the few methods the bench calls (KV.Put, KV.Range, Maintenance.Status,
 * Watch.Watch), and the generated codecs from @coxswain/proto for the messages.
 *
 * One `StoreConnection` is one HTTP/2 connection: grpc-js otherwise shares a subchannel between
 * every client of the same address, and "64 in flight over 4 connections" would be one.
 *
 * Responses: the header (field 1) of every etcd response carries etcd's 64-bit cluster and
 * member ids, which the generated codecs refuse (see wire.ts); it is read or dropped here.
 */
import * as grpc from "@grpc/grpc-js";
import { decodeStatusWithIds, decodeWithoutHeader, etcdserverpb, type mvccpbTypes } from "@coxswain/proto";

const METHOD = {
  put: "/etcdserverpb.KV/Put",
  range: "/etcdserverpb.KV/Range",
  status: "/etcdserverpb.Maintenance/Status",
  watch: "/etcdserverpb.Watch/Watch",
} as const;

/** Large enough for any response the bench asks for (single keys, statuses). */
const RECEIVE_MESSAGE_BYTES_MAX = 4 * 1024 * 1024;
const RECONNECT_BACKOFF_MS_MIN = 50;
const RECONNECT_BACKOFF_MS_MAX = 500;

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
  version: string;
  raftTerm: number;
  raftIndex: number;
  /** 0 when the server does not report it. */
  raftAppliedIndex: number;
  dbSizeBytes: number;
}

export interface RangeResult {
  count: number;
  firstValueBytes: number;
}

const identity = (b: Buffer): Buffer => b;
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class StoreConnection {
  private readonly client: grpc.Client;

  constructor(readonly endpoint: string) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": RECEIVE_MESSAGE_BYTES_MAX,
      // grpc-js backs off up to 120 s between reconnects by default; a member that is restarting
      // must be seen as soon as it listens again, or the failover figures would measure the backoff.
      "grpc.initial_reconnect_backoff_ms": RECONNECT_BACKOFF_MS_MIN,
      "grpc.max_reconnect_backoff_ms": RECONNECT_BACKOFF_MS_MAX,
    });
  }

  /** Connects (or fails) within the timeout, so that connection set-up is not measured. */
  async connect(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => (err === undefined ? resolve() : reject(err)));
    });
  }

  close(): void {
    this.client.close();
  }

  put(key: Uint8Array, value: Uint8Array, timeoutMs: number): Promise<void> {
    const request = asBuffer(etcdserverpb.PutRequest.encode({ key, value }).finish());
    return this.unary(METHOD.put, request, timeoutMs).then(() => undefined);
  }

  async range(key: Uint8Array, serializable: boolean, timeoutMs: number): Promise<RangeResult> {
    const request = asBuffer(etcdserverpb.RangeRequest.encode({ key, serializable }).finish());
    const response = decodeWithoutHeader(etcdserverpb.RangeResponse, await this.unary(METHOD.range, request, timeoutMs));
    return { count: response.count, firstValueBytes: response.kvs[0]?.value?.length ?? 0 };
  }

  async status(timeoutMs: number): Promise<MemberStatus> {
    const request = asBuffer(etcdserverpb.StatusRequest.encode({}).finish());
    const bytes = await this.unary(METHOD.status, request, timeoutMs);
    const { memberId, leaderId, status: rest } = decodeStatusWithIds(etcdserverpb.StatusResponse, bytes);
    return {
      memberId,
      leaderId,
      version: rest.version,
      raftTerm: rest.raftTerm,
      raftIndex: rest.raftIndex,
      raftAppliedIndex: rest.raftAppliedIndex,
      dbSizeBytes: rest.dbSize,
    };
  }

  /** Opens one watch stream with one watch on [key, rangeEnd); resolves once the server confirms it. */
  async watch(key: Uint8Array, rangeEnd: Uint8Array, onEvents: (events: mvccpbTypes.Event.$Properties[]) => void, timeoutMs: number): Promise<WatchStream> {
    const call = this.client.makeBidiStreamRequest<Buffer, Buffer>(METHOD.watch, identity, identity);
    const stream = new WatchStream(call);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.close();
        reject(new RpcError(METHOD.watch, grpc.status.DEADLINE_EXCEEDED, `watch not created within ${timeoutMs} ms`));
      }, timeoutMs);
      call.on("error", (err: grpc.ServiceError) => {
        clearTimeout(timer);
        reject(new RpcError(METHOD.watch, err.code, err.details));
      });
      call.on("data", (bytes: Buffer) => {
        const response = decodeWithoutHeader(etcdserverpb.WatchResponse, bytes);
        if (response.created) {
          clearTimeout(timer);
          resolve();
        }
        if (response.canceled) {
          clearTimeout(timer);
          reject(new RpcError(METHOD.watch, grpc.status.CANCELLED, `watch canceled: ${response.cancelReason}`));
        }
        if (response.events.length > 0) onEvents(response.events);
      });
      call.write(asBuffer(etcdserverpb.WatchRequest.encode({ createRequest: { key, rangeEnd } }).finish()));
    });
    return stream;
  }

  private unary(method: string, request: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(method, identity, identity, request, { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err !== null) reject(new RpcError(method, err.code, err.details));
        else if (response === undefined) reject(new RpcError(method, grpc.status.INTERNAL, "empty response"));
        else resolve(response);
      });
    });
  }
}

export class WatchStream {
  constructor(private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    // Errors after creation (the member was stopped, the stream was canceled) end the stream; the
    // scenario notices missing events by its own timeout.
    call.on("error", () => {});
  }

  close(): void {
    this.call.cancel();
  }
}
