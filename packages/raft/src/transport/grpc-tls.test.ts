import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { MessageType, message } from "../core/types.js";
import { GrpcTransport, type GrpcTransportTls } from "./grpc-transport.js";
import { SEND_MESSAGES_PATH, serializeMessageBatch } from "./service.js";
import { RecordingHandler, capturingLogger, rawClientStream, waitFor } from "./test-support.js";

const TOKEN = "tls-cluster";
let dir = "";
let ca = "";
const certs = new Map<string, GrpcTransportTls>();
const open: GrpcTransport[] = [];

/** A throwaway CA and node certificates (EC P-256, valid for 127.0.0.1) made with the openssl CLI. */
before(() => {
  dir = mkdtempSync(join(tmpdir(), "coxswain-transport-tls-"));
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "1",
    "-subj",
    "/CN=coxswain-test-ca",
  );
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  ca = readFileSync(join(dir, "ca.crt"), "utf8");
  for (const name of ["node1", "node2"]) {
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
    );
    certs.set(name, { ca, cert: readFileSync(join(dir, `${name}.crt`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") });
  }
});

after(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function startTlsNode(id: number): Promise<{ transport: GrpcTransport; handler: RecordingHandler }> {
  const tls = certs.get(`node${id}`);
  assert.ok(tls !== undefined);
  const transport = new GrpcTransport({ localId: id, listenAddress: "127.0.0.1:0", clusterToken: TOKEN, tls, logger: capturingLogger().logger });
  open.push(transport);
  const handler = new RecordingHandler();
  await transport.start(handler);
  return { transport, handler };
}

test("mutual TLS: peers with certificates from the cluster CA exchange messages and snapshots", async () => {
  const a = await startTlsNode(1);
  const b = await startTlsNode(2);
  a.transport.addPeer(2, b.transport.listenAddress);
  b.transport.addPeer(1, a.transport.listenAddress);
  a.transport.send([message({ type: MessageType.MSG_HEARTBEAT, from: 1, to: 2, term: 2 })]);
  b.transport.send([message({ type: MessageType.MSG_HEARTBEAT_RESP, from: 2, to: 1, term: 2 })]);
  await waitFor("heartbeat and response", () => b.handler.received.length === 1 && a.handler.received.length === 1);
  assert.equal(b.handler.received[0]?.type, MessageType.MSG_HEARTBEAT);
  assert.equal(a.handler.received[0]?.type, MessageType.MSG_HEARTBEAT_RESP);

  const data = new Uint8Array(3 * 1024 * 1024).fill(7);
  a.transport.send([
    message({
      type: MessageType.MSG_SNAP,
      from: 1,
      to: 2,
      term: 2,
      snapshot: { data, metadata: { index: 40, term: 2, confState: { voters: [1, 2], learners: [] } } },
    }),
  ]);
  await waitFor("snapshot report", () => a.handler.snapshotReports.length === 1);
  assert.deepEqual(a.handler.snapshotReports, [{ peerId: 2, ok: true }]);
  assert.ok(Buffer.from(b.handler.received[1]!.snapshot!.data).equals(Buffer.from(data)));
});

test("mutual TLS: a client without a certificate is refused, and so is a plaintext one", async () => {
  const b = await startTlsNode(2);
  const batch = { clusterToken: TOKEN, messages: [message({ type: MessageType.MSG_HEARTBEAT, from: 1, to: 2, term: 1 })] };

  const noCert = await rawClientStream(
    b.transport.listenAddress,
    SEND_MESSAGES_PATH,
    serializeMessageBatch,
    [batch],
    grpc.credentials.createSsl(Buffer.from(ca)),
  );
  assert.notEqual(noCert, null);
  assert.equal(noCert?.code, grpc.status.UNAVAILABLE);

  const plaintext = await rawClientStream(b.transport.listenAddress, SEND_MESSAGES_PATH, serializeMessageBatch, [batch]);
  assert.notEqual(plaintext, null);
  assert.equal(plaintext?.code, grpc.status.UNAVAILABLE);

  assert.equal(b.handler.received.length, 0);
  assert.equal(b.transport.stats.messagesReceived, 0);
});
