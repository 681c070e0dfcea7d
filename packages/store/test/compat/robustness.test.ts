/**
 * Bad input at the process boundary: oversized requests, too many operations in a transaction,
 * and undecodable bytes sent to every etcd method each get the right gRPC status, and the
 * member keeps serving with nothing lost. Also the metrics and /health endpoints.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { StoreCluster, freePorts, missingTargetPiece } from "@coxswain/testkit";

const run = promisify(execFile);
const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";

const UNARY_METHODS = [
  "/etcdserverpb.KV/Range",
  "/etcdserverpb.KV/Put",
  "/etcdserverpb.KV/DeleteRange",
  "/etcdserverpb.KV/Txn",
  "/etcdserverpb.KV/Compact",
  "/etcdserverpb.Lease/LeaseGrant",
  "/etcdserverpb.Lease/LeaseRevoke",
  "/etcdserverpb.Lease/LeaseTimeToLive",
  "/etcdserverpb.Cluster/MemberAdd",
  "/etcdserverpb.Cluster/MemberRemove",
  "/etcdserverpb.Maintenance/Status",
  "/etcdserverpb.Maintenance/Alarm",
  "/etcdserverpb.Maintenance/MoveLeader",
];

describe("bad input against the coxswain store", { timeout: 120_000 }, () => {
  let cluster: StoreCluster;
  let endpoints: string;

  async function etcdctl(...args: string[]): Promise<{ code: number; out: string }> {
    try {
      const { stdout, stderr } = await run(ETCDCTL, [`--endpoints=${endpoints}`, "--command-timeout=5s", ...args], {
        env: { ...process.env, ETCDCTL_API: "3" },
        maxBuffer: 64 << 20,
      });
      return { code: 0, out: stdout + stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  }

  before(async () => {
    const missing = missingTargetPiece("coxswain");
    assert.equal(missing, null, missing?.what);
    cluster = await StoreCluster.start({ target: "coxswain", extraFlags: ["--max-request-bytes=65536", "--max-txn-ops=8"] });
    endpoints = cluster.endpoints().join(",");
  });

  after(async () => {
    await cluster?.stop();
  });

  it("a value over --max-request-bytes is refused with etcd's error, and nothing is written", async () => {
    const big = randomBytes(80 * 1024)
      .toString("hex")
      .slice(0, 100_000);
    const r = await etcdctl("put", "too-big", big);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /request is too large/);
    assert.equal((await etcdctl("get", "too-big")).out, "");
  });

  it("a transaction with more operations than --max-txn-ops is refused", async () => {
    const ops = Array.from({ length: 9 }, (_, i) => `put k${i} v`).join("\n");
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = execFile(ETCDCTL, [`--endpoints=${endpoints}`, "txn"], { env: { ...process.env, ETCDCTL_API: "3" } }, (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      );
      child.stdin?.end(`\n${ops}\n\n\n`);
    });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /too many operations in txn request/);
    assert.equal((await etcdctl("get", "k0")).out, "");
  });

  it("undecodable bytes sent to every method get INVALID_ARGUMENT or INTERNAL, never a crash", async () => {
    const client = new grpc.Client(cluster.member(0).endpoint, grpc.credentials.createInsecure());
    try {
      for (const path of UNARY_METHODS) {
        for (const payload of [Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(64), Buffer.from([0x0a, 0x80])]) {
          const code = await new Promise<number>((resolve) => {
            client.makeUnaryRequest(
              path,
              (b: Buffer) => b,
              (b: Buffer) => b,
              payload,
              new grpc.Metadata(),
              { deadline: Date.now() + 5_000 },
              (err) => resolve(err?.code ?? grpc.status.OK),
            );
          });
          // Random bytes can happen to decode as a valid (if odd) request; then any etcd answer is fine.
          assert.ok(code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED, `${path}: the member stopped answering (${grpc.status[code]})`);
        }
      }
    } finally {
      client.close();
    }
    assert.deepEqual(cluster.unexpectedExits, [], "no member exited");
    assert.match((await etcdctl("put", "still-alive", "yes")).out, /OK/);
  });

  it("serves Prometheus metrics with etcd's names and a healthy /health", async () => {
    // The harness does not give members a metrics URL; etcd serves them on the client port too,
    // we serve them on --listen-metrics-urls. Start a lone member to look.
    const [client, peer, metrics] = (await freePorts(3)) as [number, number, number];
    const dir = mkdtempSync(join(tmpdir(), "coxswain-metrics-"));
    const child = spawn(join(cluster.options.repoRoot, "bin", "coxswain"), [
      "store",
      "--name=solo",
      `--data-dir=${dir}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--listen-metrics-urls=http://127.0.0.1:${metrics}`,
    ]);
    try {
      let health = "";
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        health = await fetch(`http://127.0.0.1:${metrics}/health`).then(
          (r) => r.text(),
          () => "",
        );
        if (health.includes('"true"')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(health, '{"health":"true"}');
      const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      for (const name of [
        "etcd_server_has_leader 1",
        "etcd_server_leader_changes_seen_total",
        "etcd_server_proposals_committed_total",
        "etcd_server_proposals_applied_total",
        "etcd_server_proposals_pending",
        "etcd_server_proposals_failed_total",
        "etcd_disk_wal_fsync_duration_seconds_bucket",
        "etcd_mvcc_db_total_size_in_bytes",
      ]) {
        assert.ok(text.includes(name), `metrics include ${name}`);
      }
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
