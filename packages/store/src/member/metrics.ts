/**
 * Prometheus metrics for a store member, named as etcd names them where the meaning is the same
 * (so existing etcd dashboards and alerts read them), served with /health on the metrics URLs.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface MemberMetricsSource {
  hasLeader(): boolean;
  isLeader(): boolean;
  leaderChanges(): number;
  proposalsCommitted(): number;
  proposalsApplied(): number;
  proposalsPending(): number;
  proposalsFailed(): number;
  dbSizeBytes(): number;
  keysTotal(): number;
  /** null when healthy; otherwise why not (no leader, an alarm). */
  unhealthyReason(): string | null;
}

export class MemberMetrics {
  readonly registry = new Registry();
  readonly walFsyncSeconds: Histogram;
  readonly grpcRequests: Counter<"grpc_service" | "grpc_method" | "grpc_code">;
  private server: Server[] = [];

  constructor(private readonly source: MemberMetricsSource) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    };
    gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", () => (source.hasLeader() ? 1 : 0));
    gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", () => (source.isLeader() ? 1 : 0));
    // etcd exports these as counters it sets; a gauge keeps our value exact across reads.
    gauge("etcd_server_leader_changes_seen_total", "The number of leader changes seen.", () => source.leaderChanges());
    gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", () => source.proposalsCommitted());
    gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", () => source.proposalsApplied());
    gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.", () => source.proposalsPending());
    gauge("etcd_server_proposals_failed_total", "The total number of failed proposals seen.", () => source.proposalsFailed());
    gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", () => source.dbSizeBytes());
    gauge("etcd_debugging_mvcc_keys_total", "Total number of keys.", () => source.keysTotal());
    this.walFsyncSeconds = new Histogram({
      name: "etcd_disk_wal_fsync_duration_seconds",
      help: "The latency distributions of fsync called by WAL.",
      // etcd's buckets: 1 ms doubling up to about 8 s.
      buckets: Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i),
      registers: [r],
    });
    this.grpcRequests = new Counter({
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: ["grpc_service", "grpc_method", "grpc_code"],
      registers: [r],
    });
  }

  /** Serves GET /metrics and GET /health on each host:port. */
  async listen(addresses: Array<{ host: string; port: number }>): Promise<void> {
    for (const a of addresses) {
      const server = createServer((req, res) => {
        void this.handle(req.url ?? "/", res);
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(a.port, a.host, () => resolve());
      });
      this.server.push(server);
    }
  }

  private async handle(url: string, res: import("node:http").ServerResponse): Promise<void> {
    const path = url.split("?")[0];
    if (path === "/metrics") {
      const body = await this.registry.metrics();
      res.writeHead(200, { "content-type": this.registry.contentType });
      res.end(body);
      return;
    }
    if (path === "/health" || path === "/readyz" || path === "/livez") {
      // etcd 3.4's /health body; 503 when unhealthy so load balancers and scripts can use it.
      const reason = this.source.unhealthyReason();
      res.writeHead(reason === null ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(reason === null ? { health: "true" } : { health: "false", reason }));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: try /metrics or /health\n");
  }

  async close(): Promise<void> {
    await Promise.all(this.server.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.server = [];
  }
}
