import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import {
  bootstrapPki,
  certificateAlternativeNames,
  certificateSubject,
  createCa,
  createSigningKeyPair,
  isIssuedBy,
  issueClientCertificate,
  issueServerCertificate,
  PkiError,
  publicKeyPemOf,
  type CertificateAuthority,
} from "./pki.js";
import { X509Authenticator } from "./x509-authenticator.js";

/** Start a TLS server that asks for a client certificate and reports what the authenticator makes of it. */
async function withTlsServer<T>(
  server: { certPem: string; keyPem: string },
  onPeer: (peer: tls.PeerCertificate, socket: tls.TLSSocket) => void,
  body: (port: number) => Promise<T>,
): Promise<T> {
  const tlsServer = tls.createServer({ cert: server.certPem, key: server.keyPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    onPeer(socket.getPeerCertificate(), socket);
    socket.end("ok");
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
  try {
    return await body((tlsServer.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  }
}

function connect(options: tls.ConnectionOptions): Promise<{ authorized: boolean; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options, () => {
      let data = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (data += chunk));
      socket.on("end", () => resolve({ authorized: socket.authorized, data }));
    });
    socket.on("error", reject);
  });
}

describe("cluster PKI", () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCa("coxswain-test-ca");
  });

  it("issues a client certificate whose CN is the user and whose O values are the groups", async () => {
    const client = await issueClientCertificate(ca, { commonName: "alice", organizations: ["dev", "system:masters"] });
    assert.deepEqual(certificateSubject(client.certPem), { commonName: "alice", organizations: ["dev", "system:masters"] });
    assert.ok(isIssuedBy(client.certPem, ca.certPem));
    assert.match(client.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });

  it("issues a server certificate with the requested DNS and IP subject alternative names", async () => {
    const server = await issueServerCertificate(ca, { dnsNames: ["localhost", "api.example"], ipAddresses: ["127.0.0.1", "10.0.0.7"] });
    assert.deepEqual(certificateAlternativeNames(server.certPem), { dnsNames: ["localhost", "api.example"], ipAddresses: ["127.0.0.1", "10.0.0.7"] });
    assert.ok(isIssuedBy(server.certPem, ca.certPem));
  });

  it("refuses an IP address that is not one", async () => {
    await assert.rejects(issueServerCertificate(ca, { dnsNames: [], ipAddresses: ["not-an-ip"] }), PkiError);
  });

  it("does not take a certificate of another CA as issued by this one", async () => {
    const other = await createCa("other-ca");
    const client = await issueClientCertificate(other, { commonName: "mallory" });
    assert.equal(isIssuedBy(client.certPem, ca.certPem), false);
  });

  it("derives the public key of a signing key pair from its private key", async () => {
    const pair = await createSigningKeyPair();
    assert.equal(publicKeyPemOf(pair.privateKeyPem), pair.publicKeyPem);
  });

  it("completes a TLS handshake with the issued server certificate and the admin client certificate, and the user is read from the peer certificate", async () => {
    const server = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const admin = await issueClientCertificate(ca, { commonName: "admin", organizations: ["system:masters"] });
    const authenticator = new X509Authenticator([ca.certPem]);
    let seen: ReturnType<X509Authenticator["authenticate"]>;
    let tlsAuthorized: boolean | undefined;
    const result = await withTlsServer(
      server,
      (peer, socket) => {
        seen = authenticator.authenticate(peer);
        tlsAuthorized = socket.authorized;
      },
      (port) => connect({ host: "127.0.0.1", port, servername: "localhost", ca: ca.certPem, cert: admin.certPem, key: admin.keyPem }),
    );
    assert.equal(result.authorized, true, "the client verifies the server against the cluster CA");
    assert.equal(result.data, "ok");
    assert.equal(tlsAuthorized, false, "the server did not know the CA; the authenticator verified the certificate itself");
    assert.deepEqual(seen, { name: "admin", uid: "", groups: ["system:masters"], extra: {} });
  });

  it("is rejected by a client that trusts another CA", async () => {
    const server = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const other = await createCa("other-ca");
    await withTlsServer(
      server,
      () => undefined,
      async (port) => {
        await assert.rejects(connect({ host: "127.0.0.1", port, servername: "localhost", ca: other.certPem }), /self-signed|unable to verify|certificate/i);
      },
    );
  });

  it("is rejected by a client that connects by a name the certificate does not carry", async () => {
    const server = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    await withTlsServer(
      server,
      () => undefined,
      async (port) => {
        await assert.rejects(connect({ host: "127.0.0.1", port, servername: "elsewhere.example", ca: ca.certPem }), /altnames|Hostname/i);
      },
    );
  });
});

describe("bootstrapPki", () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "coxswain-pki-"));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("creates the CA, serving, admin, component and node certificates and the ServiceAccount key, keys readable by the owner only", async () => {
    const pki = await bootstrapPki(dir, { apiserverAddresses: ["192.0.2.10", "api.cluster.test"], nodeNames: ["worker-1"] });
    for (const name of ["ca", "apiserver", "admin", "kube-scheduler", "kube-controller-manager", "node-worker-1"]) {
      assert.equal((await fs.stat(path.join(dir, `${name}.key`))).mode & 0o777, 0o600, `${name}.key is 0600`);
      assert.equal((await fs.stat(path.join(dir, `${name}.crt`))).mode & 0o777, 0o644, `${name}.crt is 0644`);
    }
    assert.equal((await fs.stat(path.join(dir, "sa.key"))).mode & 0o777, 0o600);
    assert.equal((await fs.stat(path.join(dir, "sa.pub"))).mode & 0o777, 0o644);

    const sans = certificateAlternativeNames(pki.apiserver.certPem);
    assert.ok(sans.dnsNames.includes("localhost") && sans.dnsNames.includes("api.cluster.test") && sans.dnsNames.includes("kubernetes.default.svc"));
    assert.ok(sans.ipAddresses.includes("127.0.0.1") && sans.ipAddresses.includes("192.0.2.10"));
    assert.deepEqual(certificateSubject(pki.admin.certPem), { commonName: "admin", organizations: ["system:masters"] });
    assert.deepEqual(certificateSubject(pki.scheduler.certPem), { commonName: "system:kube-scheduler", organizations: [] });
    assert.deepEqual(certificateSubject(pki.controllerManager.certPem), { commonName: "system:kube-controller-manager", organizations: [] });
    assert.deepEqual(certificateSubject(pki.nodes.get("worker-1")!.certPem), { commonName: "system:node:worker-1", organizations: ["system:nodes"] });
    assert.equal(publicKeyPemOf(pki.serviceAccountKey.privateKeyPem), await fs.readFile(path.join(dir, "sa.pub"), "utf8"));
    for (const pair of [pki.apiserver, pki.admin, pki.scheduler, pki.controllerManager]) assert.ok(isIssuedBy(pair.certPem, pki.ca.certPem));
  });

  it("keeps every existing file when run again", async () => {
    const first = await bootstrapPki(dir, { apiserverAddresses: ["192.0.2.10", "api.cluster.test"], nodeNames: ["worker-1"] });
    const second = await bootstrapPki(dir, { apiserverAddresses: ["192.0.2.10"], nodeNames: ["worker-1"] });
    assert.equal(second.ca.certPem, first.ca.certPem);
    assert.equal(second.ca.keyPem, first.ca.keyPem);
    assert.equal(second.apiserver.certPem, first.apiserver.certPem);
    assert.equal(second.admin.certPem, first.admin.certPem);
    assert.equal(second.serviceAccountKey.privateKeyPem, first.serviceAccountKey.privateKeyPem);
  });

  it("issues a new serving certificate, from the same CA, when asked for an address the old one lacks", async () => {
    const before = await bootstrapPki(dir);
    const after = await bootstrapPki(dir, { apiserverAddresses: ["198.51.100.3"] });
    assert.equal(after.ca.certPem, before.ca.certPem);
    assert.notEqual(after.apiserver.certPem, before.apiserver.certPem);
    assert.ok(certificateAlternativeNames(after.apiserver.certPem).ipAddresses.includes("198.51.100.3"));
    assert.ok(isIssuedBy(after.apiserver.certPem, after.ca.certPem));
    assert.equal(after.admin.certPem, before.admin.certPem);
  });

  it("issues new leaf certificates when the CA was replaced", async () => {
    const before = await bootstrapPki(dir);
    await fs.rm(path.join(dir, "ca.crt"));
    await fs.rm(path.join(dir, "ca.key"));
    const after = await bootstrapPki(dir);
    assert.notEqual(after.ca.certPem, before.ca.certPem);
    assert.ok(isIssuedBy(after.admin.certPem, after.ca.certPem));
    assert.ok(isIssuedBy(after.apiserver.certPem, after.ca.certPem));
  });
});
