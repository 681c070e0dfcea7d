/**
 * Member lifecycle as an operator lives it, with etcdctl: a member killed with kill -9 restarts
 * from its data dir; one that was down while the others moved far ahead catches up from a
 * snapshot; a dead member is replaced (member remove, member add, start fresh). Runs against
 * real etcd too with COMPAT_TARGET=etcd.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Etcd3 } from "etcd3";
import { StoreCluster, type Target, freePorts, missingTargetPiece } from "@coxswain/testkit";

const run = promisify(execFile);
const target = (process.env["COMPAT_TARGET"] ?? "coxswain") as Target;
const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";
/** Small, so that a member that misses a few hundred writes needs a snapshot. */
const SNAPSHOT_COUNT = 100;

describe(`member lifecycle on ${target}`, { timeout: 180_000 }, () => {
  let cluster: StoreCluster;

  async function etcdctl(endpoints: string[], ...args: string[]): Promise<string> {
    const { stdout } = await run(ETCDCTL, [`--endpoints=${endpoints.join(",")}`, "--command-timeout=5s", ...args], {
      env: { ...process.env, ETCDCTL_API: "3" },
    });
    return stdout;
  }

  async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if (await check()) return;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** A serializable read answered by that member alone, from its own state. */
  async function localValue(index: number, key: string): Promise<string> {
    return (await etcdctl([cluster.member(index).endpoint], "get", key, "--consistency=s", "--print-value-only")).trim();
  }

  before(async () => {
    const missing = missingTargetPiece(target);
    assert.equal(missing, null, missing?.what);
    // Keep few entries behind each snapshot (etcd 3.4 keeps a fixed 5,000 and has no such flag).
    const extraFlags = target === "coxswain" ? [`--experimental-snapshot-catchup-entries=${SNAPSHOT_COUNT / 2}`] : [];
    cluster = await StoreCluster.start({ target, snapshotCount: SNAPSHOT_COUNT, extraFlags });
  });

  after(async () => {
    await cluster?.stop();
  });

  it("a member killed with kill -9 restarts from its data dir with everything it had", async () => {
    await etcdctl(cluster.endpoints(), "put", "before-kill", "kept");
    await eventually("member 1 has the write", async () => (await localValue(1, "before-kill")) === "kept");
    cluster.kill(1);
    // etcdctl 3.4 may pin a dead endpoint until its deadline: give it the live ones.
    // The killed member may have been the leader: retry, as a client does, through the election.
    await eventually(
      "the write after the kill succeeds",
      async () => (await etcdctl([cluster.member(0).endpoint, cluster.member(2).endpoint], "put", "while-down", "also")).trim() === "OK",
    );
    await cluster.restart(1);
    await eventually("member 1 has both writes", async () => (await localValue(1, "before-kill")) === "kept" && (await localValue(1, "while-down")) === "also");
  });

  it("a member that fell far behind catches up from a snapshot", async () => {
    cluster.kill(2);
    const live = [cluster.member(0).endpoint, cluster.member(1).endpoint];
    const client = new Etcd3({ hosts: live.map((e) => `http://${e}`) });
    try {
      for (let i = 0; i < SNAPSHOT_COUNT * 4; i++) {
        const key = `behind/${String(i).padStart(4, "0")}`;
        // A put may hit the election that follows killing the leader: retry it.
        await eventually(`put ${key}`, async () => (await client.put(key).value(`v${i}`), true));
      }
    } finally {
      client.close();
    }
    await cluster.restart(2);
    const last = `behind/${String(SNAPSHOT_COUNT * 4 - 1).padStart(4, "0")}`;
    await eventually("member 2 caught up", async () => (await localValue(2, last)) === `v${SNAPSHOT_COUNT * 4 - 1}`);
    if (target === "coxswain") {
      assert.match(readFileSync(cluster.member(2).logPath, "utf8"), /restored snapshot from leader/);
    }
  });

  it("a dead member is replaced: member remove, member add, start fresh with --initial-cluster-state existing", async () => {
    const old = cluster.member(2);
    cluster.kill(2);
    const live = [cluster.member(0).endpoint, cluster.member(1).endpoint];
    const list = await etcdctl(live, "member", "list");
    const oldId = list
      .split("\n")
      .find((l) => l.includes(`, ${old.name}, `))
      ?.split(",")[0];
    assert.ok(oldId, `member ${old.name} in:\n${list}`);
    await eventually("the old member is removed", async () => /removed from cluster/.test(await etcdctl(live, "member", "remove", oldId)));
    const [clientPort, peerPort] = await freePorts(2);
    const name = `${old.name}-replacement`;
    // etcd refuses an addition until it has heard from every remaining member recently
    // ("unhealthy cluster"); an operator retries.
    await eventually("the new member is added", async () =>
      /added to cluster/.test(await etcdctl(live, "member", "add", name, `--peer-urls=http://127.0.0.1:${peerPort}`)),
    );
    await cluster.startReplacement(2, name, clientPort!, peerPort!);
    await etcdctl(live, "put", "after-replacement", "yes");
    await eventually(
      "the replacement has the data",
      async () => (await localValue(2, "after-replacement")) === "yes" && (await localValue(2, "before-kill")) === "kept",
    );
    await eventually("the replacement is listed as started", async () => {
      const members = await etcdctl(cluster.endpoints(), "member", "list");
      return members.trim().split("\n").length === 3 && members.includes(`, started, ${name}, `);
    });
  });
});
