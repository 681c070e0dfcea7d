import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import type { etcdserverpbTypes as Pb } from "@coxswain/proto";
import { StoreStateMachine } from "../apply/state-machine.js";
import { prefixRangeEnd } from "../bytes.js";
import type { StoreServerContext } from "./context.js";
import { KVServiceDefinition, LeaseServiceDefinition, MaintenanceServiceDefinition, ClusterServiceDefinition, WatchServiceDefinition } from "./definitions.js";
import { immediateContext } from "./immediate-log.js";
import { addStoreServices } from "./server.js";
import type { WatchService } from "./watch-service.js";

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const str = (u: Uint8Array | null | undefined): string => Buffer.from(u ?? []).toString("latin1");

type Unary = (request: unknown, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;

interface Harness {
  ctx: StoreServerContext;
  server: grpc.Server;
  watch: WatchService;
  kv: grpc.Client;
  lease: grpc.Client;
  maintenance: grpc.Client;
  cluster: grpc.Client;
  watchClient: grpc.Client;
}

async function startHarness(overrides: Partial<StoreServerContext> = {}): Promise<Harness> {
  const ctx = immediateContext(new StoreStateMachine(), overrides);
  const server = new grpc.Server();
  const watch = addStoreServices(server, ctx, { syncIntervalMs: 20 });
  watch.start();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  const address = `127.0.0.1:${port}`;
  const client = (definition: grpc.ServiceDefinition, name: string): grpc.Client => {
    const Constructor = grpc.makeGenericClientConstructor(definition, name);
    return new Constructor(address, grpc.credentials.createInsecure());
  };
  return {
    ctx,
    server,
    watch,
    kv: client(KVServiceDefinition, "KV"),
    lease: client(LeaseServiceDefinition, "Lease"),
    maintenance: client(MaintenanceServiceDefinition, "Maintenance"),
    cluster: client(ClusterServiceDefinition, "Cluster"),
    watchClient: client(WatchServiceDefinition, "Watch"),
  };
}

async function stopHarness(h: Harness): Promise<void> {
  for (const c of [h.kv, h.lease, h.maintenance, h.cluster, h.watchClient]) c.close();
  h.watch.stop();
  await new Promise<void>((resolve) => h.server.tryShutdown(() => resolve()));
}

function call<Res>(client: grpc.Client, method: string, request: unknown): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary>)[method]!.bind(client);
  return new Promise((resolve, reject) => fn(request, (error, response) => (error ? reject(error) : resolve(response as Res))));
}

async function expectStatus(promise: Promise<unknown>, code: grpc.status, details: string): Promise<void> {
  await assert.rejects(promise, (e: grpc.ServiceError) => {
    assert.equal(e.code, code);
    assert.equal(e.details, details);
    return true;
  });
}

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await stopHarness(h);
});

test("put and range travel etcd's wire format with a filled header", async () => {
  const put = await call<Pb.IPutResponse>(h.kv, "Put", { key: b("svc/a"), value: b("1") });
  assert.equal(put.header!.clusterId, 1000);
  assert.equal(put.header!.memberId, 1);
  assert.equal(put.header!.raftTerm, 1);
  const revision = put.header!.revision!;
  await call(h.kv, "Put", { key: b("svc/b"), value: b("2") });
  const range = await call<Pb.IRangeResponse>(h.kv, "Range", { key: b("svc/"), rangeEnd: prefixRangeEnd(b("svc/")), limit: 1 });
  assert.deepEqual(
    range.kvs!.map((kv) => [str(kv.key), str(kv.value), kv.modRevision]),
    [["svc/a", "1", revision]],
  );
  assert.equal(range.more, true);
  assert.equal(range.count, 2);
  const serializable = await call<Pb.IRangeResponse>(h.kv, "Range", { key: b("svc/b"), serializable: true });
  assert.equal(str(serializable.kvs![0]!.value), "2");
});

test("invalid requests get etcd's status codes and messages", async () => {
  await expectStatus(call(h.kv, "Put", { key: b(""), value: b("x") }), grpc.status.INVALID_ARGUMENT, "etcdserver: key is not provided");
  await expectStatus(
    call(h.kv, "Range", { key: b("k"), revision: 10_000 }),
    grpc.status.OUT_OF_RANGE,
    "etcdserver: mvcc: required revision is a future revision",
  );
  await expectStatus(call(h.kv, "Put", { key: b("k"), value: b("x"), lease: 77 }), grpc.status.NOT_FOUND, "etcdserver: requested lease not found");
  const tooMany = { success: Array.from({ length: 129 }, (_, i) => ({ requestPut: { key: b(`k${i}`), value: b("v") } })) };
  await expectStatus(call(h.kv, "Txn", tooMany), grpc.status.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
  await expectStatus(
    call(h.kv, "Put", { key: b("big"), value: Buffer.alloc(1.6 * 1024 * 1024) }),
    grpc.status.INVALID_ARGUMENT,
    "etcdserver: request is too large",
  );
});

test("a txn with writes goes through the log and a read-only one does not", async () => {
  const before = h.ctx.raft.committedIndex();
  const read = await call<Pb.ITxnResponse>(h.kv, "Txn", { success: [{ requestRange: { key: b("svc/a") } }] });
  assert.equal(h.ctx.raft.committedIndex(), before);
  assert.equal(str(read.responses![0]!.responseRange!.kvs![0]!.value), "1");
  const write = await call<Pb.ITxnResponse>(h.kv, "Txn", {
    compare: [{ key: b("svc/a"), target: 3, result: 0, value: b("1") }],
    success: [{ requestPut: { key: b("svc/a"), value: b("2") } }],
  });
  assert.equal(write.succeeded, true);
  assert.equal(h.ctx.raft.committedIndex(), before + 1);
});

test("a watch stream delivers created, events and canceled responses", async () => {
  const stream = (h.watchClient as unknown as { Watch(): grpc.ClientDuplexStream<Pb.IWatchRequest, Pb.IWatchResponse> }).Watch();
  const responses: Pb.IWatchResponse[] = [];
  const waitFor = async (predicate: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(predicate(), `responses so far: ${JSON.stringify(responses.map((r) => [r.watchId, r.created, r.canceled, r.events?.length]))}`);
  };
  stream.on("data", (r: Pb.IWatchResponse) => responses.push(r));
  stream.write({ createRequest: { key: b("w/"), rangeEnd: prefixRangeEnd(b("w/")), prevKv: true } });
  await waitFor(() => responses.some((r) => r.created));
  const id = responses[0]!.watchId!;
  await call(h.kv, "Put", { key: b("w/1"), value: b("a") });
  await call(h.kv, "Put", { key: b("w/1"), value: b("b") });
  await waitFor(() => responses.filter((r) => (r.events ?? []).length > 0).length === 2);
  const events = responses.flatMap((r) => r.events ?? []);
  assert.deepEqual(
    events.map((e) => [str(e.kv!.value), str(e.prevKv?.value)]),
    [
      ["a", ""],
      ["b", "a"],
    ],
  );
  stream.write({ progressRequest: {} });
  await waitFor(() => responses.some((r) => r.watchId === -1));
  stream.write({ cancelRequest: { watchId: id } });
  await waitFor(() => responses.some((r) => r.canceled));
  stream.end();
  await waitFor(() => h.watch.openStreams === 0);
});

test("lease grant, keep-alive and time-to-live work over the wire", async () => {
  const grant = await call<Pb.ILeaseGrantResponse>(h.lease, "LeaseGrant", { TTL: 30 });
  assert.ok(grant.ID! > 0);
  await call(h.kv, "Put", { key: b("leased"), value: b("v"), lease: grant.ID });
  const keepAlive = (
    h.lease as unknown as { LeaseKeepAlive(): grpc.ClientDuplexStream<Pb.ILeaseKeepAliveRequest, Pb.ILeaseKeepAliveResponse> }
  ).LeaseKeepAlive();
  const answers: Pb.ILeaseKeepAliveResponse[] = [];
  const done = new Promise<void>((resolve) => keepAlive.on("end", resolve));
  keepAlive.on("data", (r: Pb.ILeaseKeepAliveResponse) => answers.push(r));
  keepAlive.write({ ID: grant.ID });
  keepAlive.write({ ID: 424242 });
  keepAlive.end();
  await done;
  assert.deepEqual(
    answers.map((a) => [a.ID, a.TTL]),
    [
      [grant.ID, 30],
      [424242, 0],
    ],
  );
  const ttl = await call<Pb.ILeaseTimeToLiveResponse>(h.lease, "LeaseTimeToLive", { ID: grant.ID, keys: true });
  assert.equal(ttl.grantedTTL, 30);
  assert.deepEqual(ttl.keys!.map(str), ["leased"]);
  const gone = await call<Pb.ILeaseTimeToLiveResponse>(h.lease, "LeaseTimeToLive", { ID: 424242 });
  assert.equal(gone.TTL, -1);
  await call(h.lease, "LeaseRevoke", { ID: grant.ID });
  const after = await call<Pb.IRangeResponse>(h.kv, "Range", { key: b("leased") });
  assert.equal(after.count, 0);
});

test("status, member list and snapshot answer from the member's state", async () => {
  const status = await call<Pb.IStatusResponse>(h.maintenance, "Status", {});
  assert.equal(status.version, "3.5.0");
  assert.equal(status.leader, 1);
  assert.ok(status.dbSize! > 0);
  h.ctx.stateMachine.members.add({ id: 1, name: "one", peerUrls: ["http://p1"], clientUrls: ["http://c1"], isLearner: false });
  const members = await call<Pb.IMemberListResponse>(h.cluster, "MemberList", {});
  assert.deepEqual(
    members.members!.map((m) => [m.ID, m.name]),
    [[1, "one"]],
  );
  const snapshot = (h.maintenance as unknown as { Snapshot(r: object): grpc.ClientReadableStream<Pb.ISnapshotResponse> }).Snapshot({});
  const chunks: Buffer[] = [];
  let lastRemaining = -1;
  await new Promise<void>((resolve, reject) => {
    snapshot.on("data", (r: Pb.ISnapshotResponse) => {
      chunks.push(Buffer.from(r.blob ?? []));
      lastRemaining = r.remainingBytes ?? 0;
    });
    snapshot.on("end", resolve);
    snapshot.on("error", reject);
  });
  assert.equal(lastRemaining, 0);
  const restored = new StoreStateMachine();
  restored.restore(Buffer.concat(chunks));
  assert.equal(restored.currentRevision, h.ctx.stateMachine.currentRevision);
  await expectStatus(
    call(h.cluster, "MemberAdd", { peerURLs: ["http://x"] }),
    grpc.status.UNIMPLEMENTED,
    "cluster membership changes is not implemented by Coxswain's store",
  );
});

test("writes past the backend quota raise NOSPACE and are refused", async () => {
  const small = await startHarness({ quotaBytes: 4096 });
  try {
    await call(small.kv, "Put", { key: b("a"), value: Buffer.alloc(1000) });
    await expectStatus(
      call(small.kv, "Put", { key: b("b"), value: Buffer.alloc(5000) }),
      grpc.status.RESOURCE_EXHAUSTED,
      "etcdserver: mvcc: database space exceeded",
    );
    const alarms = await call<Pb.IAlarmResponse>(small.maintenance, "Alarm", { action: 0 });
    assert.deepEqual(
      alarms.alarms!.map((a) => [a.memberID, a.alarm]),
      [[1, 1]],
    );
    await expectStatus(call(small.kv, "Put", { key: b("c"), value: b("tiny") }), grpc.status.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");
    await call(small.kv, "DeleteRange", { key: b("a") });
    const status = await call<Pb.IStatusResponse>(small.maintenance, "Status", {});
    assert.deepEqual(status.errors, ["memberID:1 alarm:NOSPACE "]);
  } finally {
    await stopHarness(small);
  }
});
