/**
 * The small HTTP server every component runs beside its work: /healthz and /livez (is the
 * process alive and its loops turning), /readyz (is it ready for work: caches synced, ...), and
 * /metrics (Prometheus text from the component's registry). Bodies follow Kubernetes' healthz
 * package: "ok", or with `?verbose` (and always on failure) one `[+]name ok` / `[-]name failed:
 * reason` line per check, then "<endpoint> check passed|failed"; a failure answers 500.
 * `/readyz/<check>` runs one check. Unlike Kubernetes, failure reasons are shown: this port
 * serves operators of the component, not the public.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthCheck {
  name: string;
  /** false or a throw means unhealthy; the thrown message is the reason shown. */
  check(): boolean | Promise<boolean>;
}

export interface HealthServerOptions {
  /** 0 picks a free port (see `port` after start). */
  port: number;
  host?: string;
  registry?: Registry;
  /** Run by /healthz, /livez and /readyz. */
  livenessChecks?: readonly HealthCheck[];
  /** Run by /readyz only. */
  readinessChecks?: readonly HealthCheck[];
}

interface CheckResult {
  name: string;
  ok: boolean;
  reason: string;
}

/** Always passes: the server answering is the point (Kubernetes' `ping`). */
export const pingCheck: HealthCheck = { name: "ping", check: () => true };

export class HealthServer {
  private readonly liveness: HealthCheck[];
  private readonly readiness: HealthCheck[];

  private constructor(
    private readonly server: http.Server,
    private readonly registry: Registry | undefined,
    options: HealthServerOptions,
  ) {
    this.liveness = [pingCheck, ...(options.livenessChecks ?? [])];
    this.readiness = [...(options.readinessChecks ?? [])];
  }

  static async start(options: HealthServerOptions): Promise<HealthServer> {
    const server = http.createServer();
    const health = new HealthServer(server, options.registry, options);
    server.on("request", (req, res) => {
      health.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return health;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  addLivenessCheck(check: HealthCheck): void {
    this.liveness.push(check);
  }

  addReadinessCheck(check: HealthCheck): void {
    this.readiness.push(check);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://health");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain; charset=utf-8", allow: "GET, HEAD" });
      res.end("method not allowed\n");
      return;
    }
    if (url.pathname === "/metrics") {
      if (this.registry === undefined) return notFound(res);
      const body = await this.registry.metrics();
      res.writeHead(200, { "content-type": this.registry.contentType });
      res.end(body);
      return;
    }
    const [, endpoint, only] = url.pathname.split("/");
    if ((endpoint === "healthz" || endpoint === "livez" || endpoint === "readyz") && url.pathname.split("/").length <= 3) {
      let checks = endpoint === "readyz" ? [...this.liveness, ...this.readiness] : this.liveness;
      if (only !== undefined && only !== "") {
        checks = checks.filter((c) => c.name === only);
        if (checks.length === 0) return notFound(res);
      }
      const results = await Promise.all(checks.map(runCheck));
      const ok = results.every((r) => r.ok);
      const verbose = url.searchParams.has("verbose") || !ok;
      const lines = verbose ? results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.reason}`)) : [];
      const body = verbose ? `${lines.join("\n")}\n${endpoint} check ${ok ? "passed" : "failed"}\n` : "ok";
      res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
      res.end(body);
      return;
    }
    notFound(res);
  }
}

async function runCheck(check: HealthCheck): Promise<CheckResult> {
  try {
    const ok = await check.check();
    return { name: check.name, ok, reason: ok ? "" : "not ready" };
  } catch (err) {
    return { name: check.name, ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
  res.end("404 page not found\n");
}

/** Ready once every informer of a factory (or anything with hasSynced) has synced. */
export function informersSyncedCheck(source: { hasSynced(): boolean; unsynced?(): string[] }, name = "informer-sync"): HealthCheck {
  return {
    name,
    check: () => {
      if (source.hasSynced()) return true;
      throw new Error(`not synced: ${(source.unsynced?.() ?? []).join(", ") || "caches"}`);
    },
  };
}

/** Alive unless this process believes it leads but stopped renewing (client-go's HealthzAdaptor). */
export function leaderElectionCheck(elector: { check(toleranceMs: number): Error | null }, toleranceMs: number, name = "leader-election"): HealthCheck {
  return {
    name,
    check: () => {
      const err = elector.check(toleranceMs);
      if (err !== null) throw err;
      return true;
    },
  };
}
