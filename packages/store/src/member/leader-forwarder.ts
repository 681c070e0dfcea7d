/**
 * Lease calls only the leader can answer (it alone keeps the deadlines), forwarded from a
 * follower to the leader's client URL over gRPC, as etcd forwards them over its peer port.
 * One client per leader, replaced when the leader changes.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { etcdserverpbTypes } from "@coxswain/proto";
import type { MemberRegistry } from "../cluster/members.js";
import { NoLeaderError, RequestTimeoutError } from "../errors.js";
import type { LeaderForwarder } from "../server/context.js";
import { LeaseServiceDefinition } from "../server/definitions.js";
import type { TlsFiles } from "./config.js";

const LeaseClient = grpc.makeGenericClientConstructor(LeaseServiceDefinition, "Lease");
type LeaseClientInstance = InstanceType<typeof LeaseClient>;

/** Deadline of one forwarded call. */
const FORWARD_DEADLINE_MS = 3_000;

export class GrpcLeaderForwarder implements LeaderForwarder {
  private client: { leaderId: number; url: string; client: LeaseClientInstance } | null = null;

  constructor(
    private readonly members: MemberRegistry,
    private readonly leaderId: () => number,
    private readonly clientTls: TlsFiles | null,
  ) {}

  private clientForLeader(): LeaseClientInstance {
    const leader = this.leaderId();
    const url = this.members.get(leader)?.clientUrls[0];
    if (leader === 0 || url === undefined) throw new NoLeaderError();
    if (this.client !== null && this.client.leaderId === leader && this.client.url === url) return this.client.client;
    this.client?.client.close();
    const target = new URL(url);
    const creds =
      target.protocol === "https:"
        ? grpc.credentials.createSsl(
            this.clientTls?.trustedCaFile ? readFileSync(this.clientTls.trustedCaFile) : null,
            this.clientTls ? readFileSync(this.clientTls.keyFile) : null,
            this.clientTls ? readFileSync(this.clientTls.certFile) : null,
          )
        : grpc.credentials.createInsecure();
    const client = new LeaseClient(`${target.hostname}:${target.port}`, creds);
    this.client = { leaderId: leader, url, client };
    return client;
  }

  renewLease(leaseId: number): Promise<number> {
    const client = this.clientForLeader();
    return new Promise<number>((resolve, reject) => {
      const call = client.makeBidiStreamRequest(
        "/etcdserverpb.Lease/LeaseKeepAlive",
        LeaseServiceDefinition.LeaseKeepAlive.requestSerialize,
        LeaseServiceDefinition.LeaseKeepAlive.responseDeserialize,
        new grpc.Metadata(),
        { deadline: Date.now() + FORWARD_DEADLINE_MS },
      );
      let done = false;
      call.on("data", (r: etcdserverpbTypes.ILeaseKeepAliveResponse) => {
        if (done) return;
        done = true;
        call.end();
        resolve(Number(r.TTL ?? 0));
      });
      call.on("error", (err: grpc.ServiceError) => {
        if (done) return;
        done = true;
        reject(err.code === grpc.status.DEADLINE_EXCEEDED ? new RequestTimeoutError() : err);
      });
      call.write({ ID: leaseId });
    });
  }

  leaseTimeToLive(request: etcdserverpbTypes.ILeaseTimeToLiveRequest): Promise<etcdserverpbTypes.ILeaseTimeToLiveResponse> {
    const client = this.clientForLeader();
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        "/etcdserverpb.Lease/LeaseTimeToLive",
        LeaseServiceDefinition.LeaseTimeToLive.requestSerialize,
        LeaseServiceDefinition.LeaseTimeToLive.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + FORWARD_DEADLINE_MS },
        (err, response) => (err ? reject(err) : resolve(response!)),
      );
    });
  }

  close(): void {
    this.client?.client.close();
    this.client = null;
  }
}
