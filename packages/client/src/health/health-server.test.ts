import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { HealthServer, informersSyncedCheck, leaderElectionCheck } from "./health-server.js";

async function fetchText(server: HealthServer, path: string): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}

describe("HealthServer", () => {
  it("answers ok on /healthz, /livez and /readyz when every check passes", async () => {
    const server = await HealthServer.start({ port: 0, readinessChecks: [informersSyncedCheck({ hasSynced: () => true })] });
    try {
      for (const path of ["/healthz", "/livez", "/readyz"]) assert.deepEqual(await fetchText(server, path).then((r) => [r.status, r.body]), [200, "ok"]);
      assert.equal((await fetchText(server, "/readyz?verbose")).body, "[+]ping ok\n[+]informer-sync ok\nreadyz check passed\n");
    } finally {
      await server.close();
    }
  });

  it("fails /readyz with 500 and the reason while a readiness check fails, and leaves /healthz alone", async () => {
    let synced = false;
    const server = await HealthServer.start({ port: 0, readinessChecks: [informersSyncedCheck({ hasSynced: () => synced, unsynced: () => ["pods"] })] });
    try {
      const ready = await fetchText(server, "/readyz");
      assert.equal(ready.status, 500);
      assert.equal(ready.body, "[+]ping ok\n[-]informer-sync failed: not synced: pods\nreadyz check failed\n");
      assert.equal((await fetchText(server, "/healthz")).status, 200);
      assert.equal((await fetchText(server, "/readyz/informer-sync")).status, 500);
      synced = true;
      assert.equal((await fetchText(server, "/readyz")).status, 200);
      assert.equal((await fetchText(server, "/readyz/nope")).status, 404);
    } finally {
      await server.close();
    }
  });

  it("fails liveness when a leader stopped renewing", async () => {
    const server = await HealthServer.start({
      port: 0,
      livenessChecks: [leaderElectionCheck({ check: () => new Error("failed to renew leadership") }, 20_000)],
    });
    try {
      const live = await fetchText(server, "/healthz");
      assert.equal(live.status, 500);
      assert.match(live.body, /\[-\]leader-election failed: failed to renew leadership/);
    } finally {
      await server.close();
    }
  });

  it("serves the registry's metrics in Prometheus text", async () => {
    const registry = new Registry();
    new Counter({ name: "scheduler_things_total", help: "things", registers: [registry] }).inc(3);
    const server = await HealthServer.start({ port: 0, registry });
    try {
      const metrics = await fetchText(server, "/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.contentType, /^text\/plain/);
      assert.match(metrics.body, /scheduler_things_total 3/);
      assert.equal((await fetchText(server, "/other")).status, 404);
    } finally {
      await server.close();
    }
  });
});
