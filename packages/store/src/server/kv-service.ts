/**
 * etcd's KV service. Reads are linearizable by default (a ReadIndex round, then the local state
 * machine) and served locally when serializable is asked for; writes go through the log. Requests
 * are validated here, once, with this member's limits, before anything is proposed.
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { etcdserverpbTypes as Pb } from "@coxswain/proto";
import {
  txnHasPuts,
  txnHasWrites,
  txnIsSerializable,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "../apply/validate.js";
import { VERSION_OVERHEAD_BYTES } from "../mvcc/key-history.js";
import { byteLength, checkQuota, fillHeader, propose, serviceError, type StoreServerContext } from "./context.js";

/** Adapts an async handler to grpc-js's callback style, with etcd's error statuses and headers. */
export function unary<Req, Res extends { header?: { revision?: number | null } | null }>(
  ctx: StoreServerContext,
  handle: (request: Req) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, fillHeader(ctx, response)),
      (error: unknown) => callback(serviceError(error)),
    );
  };
}

function putCost(r: Pb.IPutRequest): number {
  return byteLength(r.key) + byteLength(r.value) + VERSION_OVERHEAD_BYTES;
}

function txnPutCost(r: Pb.ITxnRequest): number {
  const branchCost = (ops: Pb.IRequestOp[] | null | undefined): number =>
    (ops ?? []).reduce((sum, op) => sum + (op.requestPut ? putCost(op.requestPut) : op.requestTxn ? txnPutCost(op.requestTxn) : 0), 0);
  return Math.max(branchCost(r.success), branchCost(r.failure));
}

export function kvService(ctx: StoreServerContext): UntypedServiceImplementation {
  return {
    Range: unary<Pb.IRangeRequest, Pb.IRangeResponse>(ctx, async (r) => {
      validateRangeRequest(r);
      if (!r.serializable) await ctx.log.readIndex();
      return ctx.stateMachine.range(r);
    }),
    Put: unary<Pb.IPutRequest, Pb.IPutResponse>(ctx, async (r) => {
      validatePutRequest(r);
      await checkQuota(ctx, putCost(r));
      return propose(ctx, "put", r);
    }),
    DeleteRange: unary<Pb.IDeleteRangeRequest, Pb.IDeleteRangeResponse>(ctx, async (r) => {
      validateDeleteRangeRequest(r);
      return propose(ctx, "deleteRange", r);
    }),
    Txn: unary<Pb.ITxnRequest, Pb.ITxnResponse>(ctx, async (r) => {
      validateTxnRequest(r, ctx.limits.maxTxnOps);
      if (!txnHasWrites(r)) {
        // Reads only: no log entry needed (etcd serves these like ranges).
        if (!txnIsSerializable(r)) await ctx.log.readIndex();
        return ctx.stateMachine.readTxn(r);
      }
      if (txnHasPuts(r)) await checkQuota(ctx, txnPutCost(r));
      return propose(ctx, "txn", r);
    }),
    Compact: unary<Pb.ICompactionRequest, Pb.ICompactionResponse>(ctx, async (r) => propose(ctx, "compaction", r)),
  };
}
