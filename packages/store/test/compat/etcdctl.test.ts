/**
 * Compatibility with clients no one here wrote: Debian's etcdctl 3.4 and the etcd3 npm client,
 * used as a person or a program would, against a 3-member Coxswain store. The same file runs
 * against real etcd with COMPAT_TARGET=etcd, which is how the expectations were checked.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Etcd3 } from "etcd3";
import { StoreCluster, type Target, missingTargetPiece } from "@coxswain/testkit";

const run = promisify(execFile);
const target = (process.env["COMPAT_TARGET"] ?? "coxswain") as Target;
const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";
const COMMAND_TIMEOUT = "--command-timeout=5s";

describe(`etcd clients against ${target}`, { timeout: 120_000 }, () => {
  let cluster: StoreCluster;
  let endpoints: string;

  async function etcdctl(...args: string[]): Promise<string> {
    const { stdout } = await run(ETCDCTL, [`--endpoints=${endpoints}`, COMMAND_TIMEOUT, ...args], { env: { ...process.env, ETCDCTL_API: "3" } });
    return stdout;
  }

  /** Runs etcdctl with the given standard input (txn's interactive form reads it). */
  function etcdctlWithInput(input: string, ...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(ETCDCTL, [`--endpoints=${endpoints}`, COMMAND_TIMEOUT, ...args], { env: { ...process.env, ETCDCTL_API: "3" } });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`etcdctl exited ${code}: ${err}`))));
      child.stdin.end(input);
    });
  }

  before(async () => {
    const missing = missingTargetPiece(target);
    assert.equal(missing, null, missing?.what);
    cluster = await StoreCluster.start({ target });
    endpoints = cluster.endpoints().join(",");
    await cluster.waitUntilServing(30_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("etcdctl puts and gets a key", async () => {
    assert.equal((await etcdctl("put", "greeting", "hello")).trim(), "OK");
    assert.equal(await etcdctl("get", "greeting"), "greeting\nhello\n");
    assert.equal(await etcdctl("get", "missing"), "");
  });

  it("etcdctl gets by prefix, with a limit, and at an older revision", async () => {
    for (const k of ["a", "b", "c"]) await etcdctl("put", `fruit/${k}`, k.toUpperCase());
    assert.equal(await etcdctl("get", "fruit/", "--prefix", "--keys-only"), "fruit/a\n\nfruit/b\n\nfruit/c\n\n");
    assert.equal(await etcdctl("get", "fruit/", "--prefix", "--limit=2", "--print-value-only"), "A\nB\n");
    const first = JSON.parse(await etcdctl("get", "fruit/a", "-w", "json")) as { kvs: Array<{ mod_revision: number }> };
    const rev = first.kvs[0]!.mod_revision;
    await etcdctl("put", "fruit/a", "changed");
    assert.equal(await etcdctl("get", "fruit/a", `--rev=${rev}`, "--print-value-only"), "A\n");
    assert.equal(await etcdctl("get", "fruit/a", "--print-value-only"), "changed\n");
  });

  it("etcdctl deletes a key and a prefix", async () => {
    assert.equal((await etcdctl("del", "greeting")).trim(), "1");
    assert.equal((await etcdctl("del", "fruit/", "--prefix")).trim(), "3");
    assert.equal(await etcdctl("get", "fruit/", "--prefix"), "");
  });

  it("etcdctl runs a transaction's success and failure branches", async () => {
    await etcdctl("put", "door", "closed");
    const success = await etcdctlWithInput('value("door") = "closed"\n\nput door open\n\nput door jammed\n\n', "txn");
    assert.match(success, /^SUCCESS/);
    assert.equal(await etcdctl("get", "door", "--print-value-only"), "open\n");
    const failure = await etcdctlWithInput('value("door") = "closed"\n\nput door open\n\nput door jammed\n\n', "txn");
    assert.match(failure, /^FAILURE/);
    assert.equal(await etcdctl("get", "door", "--print-value-only"), "jammed\n");
  });

  it("etcdctl watches a prefix and sees puts and deletes in order", async () => {
    const watcher = spawn(ETCDCTL, [`--endpoints=${endpoints}`, "watch", "--prefix", "watched/"], { env: { ...process.env, ETCDCTL_API: "3" } });
    let out = "";
    watcher.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await new Promise((r) => setTimeout(r, 500));
      await etcdctl("put", "watched/x", "1");
      await etcdctl("put", "watched/x", "2");
      await etcdctl("del", "watched/x");
      const deadline = Date.now() + 5_000;
      while (!out.includes("DELETE") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(out, "PUT\nwatched/x\n1\nPUT\nwatched/x\n2\nDELETE\nwatched/x\n\n");
    } finally {
      watcher.kill();
    }
  });

  it("etcdctl grants, inspects, keeps alive and revokes a lease; its keys go with it", async () => {
    const granted = await etcdctl("lease", "grant", "60");
    const match = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(granted);
    assert.ok(match, granted);
    const id = match[1]!;
    await etcdctl("put", "--lease", id, "leased", "v");
    assert.match(
      await etcdctl("lease", "timetolive", id, "--keys"),
      new RegExp(`lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[leased\\]\\)`),
    );
    assert.match(await etcdctl("lease", "keep-alive", "--once", id), new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
    assert.match(await etcdctl("lease", "list"), new RegExp(id));
    assert.match(await etcdctl("lease", "revoke", id), new RegExp(`lease ${id} revoked`));
    assert.equal(await etcdctl("get", "leased"), "");
  });

  it("etcdctl lists members and reports endpoint status and health", async () => {
    const members = (await etcdctl("member", "list")).trim().split("\n");
    assert.equal(members.length, 3);
    for (const line of members) assert.match(line, /^[0-9a-f]+, started, \S+, http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+, false$/);
    const status = JSON.parse(await etcdctl("endpoint", "status", "-w", "json")) as Array<{ Status: { leader: number; raft_term: number } }>;
    assert.equal(status.length, 3);
    assert.equal(new Set(status.map((s) => s.Status.leader)).size, 1, "every member names the same leader");
    const health = await run(ETCDCTL, [`--endpoints=${endpoints}`, "endpoint", "health"], { env: { ...process.env, ETCDCTL_API: "3" } });
    assert.equal((health.stdout + health.stderr).match(/is healthy/g)?.length, 3);
  });

  it("etcdctl reads at a compacted revision and gets etcd's error", async () => {
    await etcdctl("put", "compact-me", "1");
    const json = JSON.parse(await etcdctl("put", "compact-me", "2", "-w", "json")) as { header: { revision: number } };
    const rev = json.header.revision;
    await etcdctl("compact", String(rev));
    await assert.rejects(etcdctl("get", "compact-me", `--rev=${rev - 1}`), /required revision has been compacted/);
  });

  it("the etcd3 npm client puts, gets, deletes, runs transactions, watches and uses leases", async () => {
    const client = new Etcd3({ hosts: cluster.endpoints().map((e) => `http://${e}`) });
    try {
      await client.put("npm/one").value("1");
      assert.equal(await client.get("npm/one").string(), "1");
      await client.put("npm/two").value("2");
      assert.deepEqual(await client.getAll().prefix("npm/").strings(), { "npm/one": "1", "npm/two": "2" });
      const txn = await client.if("npm/one", "Value", "==", "1").then(client.put("npm/one").value("uno")).else(client.put("npm/one").value("nope")).commit();
      assert.equal(txn.succeeded, true);
      assert.equal(await client.get("npm/one").string(), "uno");

      const watcher = await client.watch().prefix("npm/").create();
      const events: string[] = [];
      watcher.on("put", (kv) => events.push(`put ${kv.key.toString()}=${kv.value.toString()}`));
      watcher.on("delete", (kv) => events.push(`delete ${kv.key.toString()}`));
      await client.put("npm/three").value("3");
      await client.delete().key("npm/three");
      const deadline = Date.now() + 5_000;
      while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(events, ["put npm/three=3", "delete npm/three"]);
      await watcher.cancel();

      const lease = client.lease(30, { autoKeepAlive: false });
      await lease.put("npm/leased").value("x");
      const kept = await lease.keepaliveOnce();
      assert.equal(Number(kept.TTL), 30);
      await lease.revoke();
      assert.equal(await client.get("npm/leased").string(), null);

      assert.equal(
        await client
          .delete()
          .prefix("npm/")
          .then((r) => Number(r.deleted)),
        2,
      );
    } finally {
      client.close();
    }
  });
});
