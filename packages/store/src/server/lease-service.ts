/**
 * etcd's Lease service. Grant and revoke go through the log. Keep-alives and time-to-live need
 * the lease deadlines, which only the leader keeps: a follower forwards them when it can (etcd
 * forwards over its peer HTTP port) and otherwise answers "not leader" so the client moves on.
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { etcdserverpbTypes as Pb } from "@coxswain/proto";
import { validateLeaseGrantRequest } from "../apply/validate.js";
import { LeaseNotFoundError, NotLeaderError } from "../errors.js";
import { checkQuota, fillHeader, propose, serviceError, type StoreServerContext } from "./context.js";
import { unary } from "./kv-service.js";

/** Keep-alive requests read ahead of their answers before the stream stops reading. */
export const KEEPALIVE_REQUESTS_PENDING_MAX = 64;

/** One keep-alive: the new TTL, or 0 when the lease is gone (etcd's answer, not an error). */
export async function renewLease(ctx: StoreServerContext, id: number): Promise<number> {
  if (!ctx.log.isLeader()) {
    if (ctx.forwarder) return ctx.forwarder.renewLease(id);
    throw new NotLeaderError();
  }
  try {
    const renewed = ctx.stateMachine.lessor.renew(id);
    if (renewed.clearCheckpoint) {
      // Best effort, as in etcd: a lost reset only means a later promotion uses a shorter TTL.
      propose(ctx, "leaseCheckpoint", { checkpoints: [{ ID: id, remaining_TTL: 0 }] }).catch(() => undefined);
    }
    return renewed.ttlSeconds;
  } catch (error) {
    if (error instanceof LeaseNotFoundError) return 0;
    throw error;
  }
}

export function leaseService(ctx: StoreServerContext): UntypedServiceImplementation {
  return {
    LeaseGrant: unary<Pb.ILeaseGrantRequest, Pb.ILeaseGrantResponse>(ctx, async (r) => {
      validateLeaseGrantRequest(r);
      await checkQuota(ctx, 64);
      return propose(ctx, "leaseGrant", r);
    }),
    LeaseRevoke: unary<Pb.ILeaseRevokeRequest, Pb.ILeaseRevokeResponse>(ctx, async (r) => propose(ctx, "leaseRevoke", r)),
    LeaseTimeToLive: unary<Pb.ILeaseTimeToLiveRequest, Pb.ILeaseTimeToLiveResponse>(ctx, async (r) => {
      if (!ctx.log.isLeader() && ctx.forwarder) return ctx.forwarder.leaseTimeToLive(r);
      // The leader answers from its deadlines; a follower without a way to forward answers from
      // the replicated TTL (exact for keys and granted TTL, an upper bound for what remains).
      return ctx.stateMachine.leaseTimeToLive(r);
    }),
    LeaseLeases: unary<Pb.ILeaseLeasesRequest, Pb.ILeaseLeasesResponse>(ctx, async () => ctx.stateMachine.leaseLeases()),
    LeaseKeepAlive: (call: ServerDuplexStream<Pb.ILeaseKeepAliveRequest, Pb.ILeaseKeepAliveResponse>) => {
      const pending: number[] = [];
      let working = false;
      let clientDone = false;
      let finished = false;
      const finish = (error?: unknown): void => {
        if (finished) return;
        finished = true;
        if (error === undefined) call.end();
        else call.destroy(serviceError(error));
      };
      const work = async (): Promise<void> => {
        if (working) return;
        working = true;
        try {
          while (pending.length > 0 && !finished) {
            const id = pending.shift()!;
            const ttl = await renewLease(ctx, id);
            const response = fillHeader(ctx, { header: { revision: ctx.stateMachine.currentRevision }, ID: id, TTL: ttl });
            if (!call.write(response)) await new Promise<void>((resolve) => call.once("drain", resolve));
            if (pending.length < KEEPALIVE_REQUESTS_PENDING_MAX / 2) call.resume();
          }
          if (clientDone) finish();
        } catch (error) {
          finish(error);
        } finally {
          working = false;
        }
      };
      call.on("data", (request: Pb.ILeaseKeepAliveRequest) => {
        pending.push(request.ID ?? 0);
        if (pending.length >= KEEPALIVE_REQUESTS_PENDING_MAX) call.pause();
        void work();
      });
      call.on("end", () => {
        clientDone = true;
        if (!working) void work();
      });
      call.on("error", () => {
        finished = true;
      });
    },
  };
}
