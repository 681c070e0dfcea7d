/**
 * The one connection wrapper for talking to Coxswain's API servers (CONVENTIONS rule 7): a list
 * of endpoints, mutual TLS with the cluster CA, a deadline on every call, and failover — a call
 * that finds its endpoint down (UNAVAILABLE, or a deadline with no answer) moves to the next
 * endpoint and retries with capped backoff, so killing one API server fails no request.
 * Kubernetes errors arrive as ApiStatusError carrying the server's Status.
 */
import * as grpc from "@grpc/grpc-js";
import { ApiStatusError, type KubeList, type KubeObject, type Status } from "@coxswain/api";
import { ApiServiceDefinition, type ApiServiceMethods, STATUS_METADATA_KEY } from "./service.js";
import type { apiserverpbTypes as pb } from "@coxswain/proto";

export interface ClientTls {
  caPem: Buffer;
  certPem: Buffer;
  keyPem: Buffer;
}

export interface ClientOptions {
  /** `host:port` of each API server's gRPC port; tried in turn. */
  endpoints: readonly string[];
  tls: ClientTls;
  /** Deadline of one attempt. */
  callTimeoutMs?: number;
  /** Attempts in all before giving up (across endpoints). */
  attemptsMax?: number;
  backoffMsInitial?: number;
  backoffMsMax?: number;
}

export const clientDefaults = {
  callTimeoutMs: 10_000,
  attemptsMax: 8,
  backoffMsInitial: 50,
  backoffMsMax: 1_000,
} as const;

/** Where an object lives: the REST path's parts. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowBookmarks?: boolean;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** A watch: async-iterate the events; `close()` ends it. Errors end the iteration with the error. */
export interface Watch<T extends KubeObject = KubeObject> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

/** No endpoint answered within the attempts allowed. */
export class EndpointsUnavailableError extends Error {
  override readonly name = "EndpointsUnavailableError";
}

const ApiClientConstructor = grpc.makeGenericClientConstructor(ApiServiceDefinition, "Api");
type GrpcApiClient = InstanceType<typeof ApiClientConstructor>;

function retriable(code: grpc.status | undefined): boolean {
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
}

function statusOf(err: grpc.ServiceError): ApiStatusError | null {
  const raw = err.metadata?.get(STATUS_METADATA_KEY)[0];
  if (raw === undefined) return null;
  try {
    return new ApiStatusError(JSON.parse(Buffer.isBuffer(raw) ? raw.toString("utf8") : String(raw)) as Status);
  } catch {
    return null;
  }
}

function decode<T>(bytes: Uint8Array | null | undefined): T {
  return JSON.parse(Buffer.from(bytes ?? new Uint8Array(0)).toString("utf8")) as T;
}

export class ApiClient {
  private readonly clients: GrpcApiClient[];
  private current = 0;
  private readonly o: Required<Omit<ClientOptions, "tls" | "endpoints">> & Pick<ClientOptions, "tls" | "endpoints">;

  constructor(options: ClientOptions) {
    if (options.endpoints.length === 0) throw new Error("ApiClient needs at least one endpoint");
    this.o = { ...clientDefaults, ...options };
    const creds = grpc.credentials.createSsl(options.tls.caPem, options.tls.keyPem, options.tls.certPem);
    this.clients = options.endpoints.map(
      (e) =>
        new ApiClientConstructor(e, creds, {
          "grpc.keepalive_time_ms": 10_000,
          "grpc.keepalive_timeout_ms": 5_000,
          "grpc.initial_reconnect_backoff_ms": 100,
          "grpc.max_reconnect_backoff_ms": 2_000,
          "grpc.max_receive_message_length": 256 * 1024 * 1024,
        }),
    );
  }

  /** The endpoint calls currently go to. */
  get endpoint(): string {
    return this.o.endpoints[this.current]!;
  }

  private async call<Req>(method: Exclude<keyof ApiServiceMethods, "Watch">, request: Req): Promise<pb.IObjectResponse> {
    let delay = this.o.backoffMsInitial;
    let last: unknown = null;
    for (let attempt = 0; attempt < this.o.attemptsMax; attempt++) {
      const index = this.current;
      const client = this.clients[index]!;
      try {
        return await new Promise<pb.IObjectResponse>((resolve, reject) => {
          const def = ApiServiceDefinition[method] as unknown as grpc.MethodDefinition<Req, pb.IObjectResponse>;
          client.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            request,
            new grpc.Metadata(),
            { deadline: Date.now() + this.o.callTimeoutMs },
            (err, res) => (err ? reject(err) : resolve(res!)),
          );
        });
      } catch (err) {
        const e = err as grpc.ServiceError;
        const status = statusOf(e);
        if (status !== null) throw status;
        if (!retriable(e.code)) throw err;
        last = err;
        // This endpoint is down or unresponsive: the next call goes to the next one.
        if (this.current === index) this.current = (index + 1) % this.clients.length;
        if ((attempt + 1) % this.clients.length === 0) {
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, this.o.backoffMsMax);
        }
      }
    }
    throw new EndpointsUnavailableError(
      `no API server answered after ${this.o.attemptsMax} attempts (${this.o.endpoints.join(", ")}): ${(last as Error)?.message ?? ""}`,
    );
  }

  private ref(r: ResourceRef): pb.IResourceRef {
    return { group: r.group, version: r.version, resource: r.resource, namespace: r.namespace ?? "", name: r.name ?? "", subresource: r.subresource ?? "" };
  }

  async get<T extends KubeObject>(r: ResourceRef): Promise<T> {
    return decode<T>((await this.call("Get", { ref: this.ref(r) })).objectJson);
  }

  async list<T extends KubeObject>(r: ResourceRef, options: ListOptions = {}): Promise<KubeList<T>> {
    return decode<KubeList<T>>((await this.call("List", { ref: this.ref(r), ...options })).objectJson);
  }

  async create<T extends KubeObject>(r: ResourceRef, obj: T): Promise<T> {
    return decode<T>((await this.call("Create", { ref: this.ref(r), objectJson: Buffer.from(JSON.stringify(obj)) })).objectJson);
  }

  /** PUT: `obj.metadata.resourceVersion` is the precondition (409 if stale). */
  async update<T extends KubeObject>(r: ResourceRef, obj: T): Promise<T> {
    return decode<T>((await this.call("Update", { ref: this.ref(r), objectJson: Buffer.from(JSON.stringify(obj)) })).objectJson);
  }

  async patch<T extends KubeObject>(r: ResourceRef, type: "json" | "merge" | "strategic", patch: unknown): Promise<T> {
    return decode<T>((await this.call("Patch", { ref: this.ref(r), patchType: type, patch: Buffer.from(JSON.stringify(patch)) })).objectJson);
  }

  async delete(r: ResourceRef, options: Record<string, unknown> = {}): Promise<KubeObject> {
    return decode<KubeObject>((await this.call("Delete", { ref: this.ref(r), optionsJson: Buffer.from(JSON.stringify(options)) })).objectJson);
  }

  /** Binds a pod to a node (the scheduler's write); fails with 409 if the pod changed or is bound. */
  async bind(namespace: string, pod: string, podUid: string, node: string): Promise<void> {
    await this.call("Bind", { namespace, pod, podUid, node });
  }

  /**
   * Opens a watch on the current endpoint. A broken connection ends the iteration with an error;
   * the caller (an informer) re-watches from the last resourceVersion it saw, which fails over.
   */
  watch<T extends KubeObject>(r: ResourceRef, options: WatchOptions = {}): Watch<T> {
    const index = this.current;
    const def = ApiServiceDefinition.Watch;
    const stream = this.clients[index]!.makeServerStreamRequest(
      def.path,
      def.requestSerialize,
      def.responseDeserialize,
      { ref: this.ref(r), ...options },
      new grpc.Metadata(),
      {},
    );
    const advance = (): void => {
      if (this.current === index) this.current = (index + 1) % this.clients.length;
    };
    return {
      close: () => stream.cancel(),
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
        try {
          for await (const e of stream as AsyncIterable<pb.IWatchEvent>) {
            yield { type: e.type as WatchEvent["type"], object: decode<T>(e.objectJson) };
          }
        } catch (err) {
          const ge = err as grpc.ServiceError;
          if (ge.code === grpc.status.CANCELLED) return;
          const status = statusOf(ge);
          if (status !== null) throw status;
          advance();
          throw err;
        }
      },
    };
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
