/**
 * etcd's Watch service: one bidirectional stream per client carrying many watches, served from
 * this member's state machine (followers serve watches too, as etcd's do). The hub queues each
 * stream's responses in order and within its bounds; this pump moves them to gRPC while gRPC
 * accepts them and waits for "drain" when it does not, so a slow client slows only itself.
 */
import type { ServerDuplexStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import type { etcdserverpbTypes as Pb } from "@coxswain/proto";
import type { WatchResponse, WatchStream } from "../watch/hub.js";
import { fillHeader, serviceError, type StoreServerContext } from "./context.js";

export interface WatchServiceOptions {
  /** How often unsynced watchers replay history when nothing else prompts them (etcd: 100 ms). */
  syncIntervalMs: number;
  /** How often progress_notify watchers hear the current revision when idle (etcd: 10 min). */
  progressIntervalMs: number;
  /** Responses moved to gRPC per pump turn before yielding to the event loop. */
  responsesPerPumpMax: number;
}

export const DEFAULT_WATCH_SERVICE_OPTIONS: WatchServiceOptions = {
  syncIntervalMs: 100,
  progressIntervalMs: 10 * 60 * 1000,
  responsesPerPumpMax: 64,
};

export class WatchService {
  private readonly options: WatchServiceOptions;
  private syncTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private readonly streams = new Set<WatchStream>();

  constructor(
    private readonly ctx: StoreServerContext,
    options: Partial<WatchServiceOptions> = {},
  ) {
    this.options = { ...DEFAULT_WATCH_SERVICE_OPTIONS, ...options };
  }

  get openStreams(): number {
    return this.streams.size;
  }

  start(): void {
    const hub = this.ctx.stateMachine.watchHub;
    this.syncTimer ??= setInterval(() => hub.syncUnsynced(), this.options.syncIntervalMs);
    this.progressTimer ??= setInterval(() => hub.progressTick(), this.options.progressIntervalMs);
    this.syncTimer.unref();
    this.progressTimer.unref();
  }

  stop(): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.syncTimer = null;
    this.progressTimer = null;
    for (const stream of this.streams) stream.close();
    this.streams.clear();
  }

  implementation(): UntypedServiceImplementation {
    return { Watch: (call: ServerDuplexStream<Pb.IWatchRequest, Pb.IWatchResponse>) => this.serve(call) };
  }

  private serve(call: ServerDuplexStream<Pb.IWatchRequest, Pb.IWatchResponse>): void {
    const ctx = this.ctx;
    const stream = ctx.stateMachine.watchHub.openStream();
    this.streams.add(stream);
    let scheduled = false;
    let waitingForDrain = false;
    let done = false;

    const close = (): void => {
      if (done) return;
      done = true;
      stream.close();
      this.streams.delete(stream);
    };
    const pump = (): void => {
      scheduled = false;
      if (done || waitingForDrain) return;
      const batch = stream.take(this.options.responsesPerPumpMax);
      for (const response of batch) {
        if (!call.write(toWire(ctx, response))) waitingForDrain = true;
      }
      const overflow = stream.overflowError;
      if (overflow) {
        close();
        call.destroy(serviceError(overflow));
        return;
      }
      if (waitingForDrain) {
        call.once("drain", () => {
          waitingForDrain = false;
          schedule();
        });
      } else if (stream.pendingCount > 0) {
        schedule();
      }
    };
    const schedule = (): void => {
      if (scheduled || done) return;
      scheduled = true;
      setImmediate(pump);
    };
    stream.onReadable = schedule;

    call.on("data", (request: Pb.IWatchRequest) => {
      if (done) return;
      const create = request.createRequest;
      if (create) {
        stream.watch({
          key: create.key ?? new Uint8Array(0),
          rangeEnd: create.rangeEnd,
          startRevision: create.startRevision ?? 0,
          progressNotify: create.progressNotify ?? false,
          filters: create.filters ?? [],
          prevKv: create.prevKv ?? false,
          watchId: create.watchId ?? 0,
        });
      } else if (request.cancelRequest) {
        stream.cancel(request.cancelRequest.watchId ?? 0);
      } else if (request.progressRequest) {
        stream.requestProgress();
      }
      schedule();
    });
    call.on("end", () => {
      close();
      call.end();
    });
    call.on("error", close);
    call.on("close", close);
  }
}

function toWire(ctx: StoreServerContext, response: WatchResponse): Pb.IWatchResponse {
  return fillHeader(ctx, {
    header: response.header,
    watchId: response.watchId,
    created: response.created ?? false,
    canceled: response.canceled ?? false,
    compactRevision: response.compactRevision ?? 0,
    cancelReason: response.cancelReason ?? "",
    events: response.events,
  });
}
