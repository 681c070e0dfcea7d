import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import type { ServiceAccount } from "@coxswain/api";
import { bearerTokenOf, RequestAuthenticator } from "./authenticate.js";
import { createCa, createSigningKeyPair, issueClientCertificate, type CertificateAndKey, type CertificateAuthority } from "./pki.js";
import { ServiceAccountTokenAuthenticator, ServiceAccountTokenIssuer } from "./serviceaccount-token.js";
import { StaticTokenAuthenticator } from "./token-file.js";
import { X509Authenticator } from "./x509-authenticator.js";

const unauthorizedBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 };

describe("bearer token header", () => {
  it("reads the token after a Bearer scheme in any case", () => {
    assert.equal(bearerTokenOf("Bearer abc"), "abc");
    assert.equal(bearerTokenOf("bearer abc"), "abc");
    assert.equal(bearerTokenOf("  BEARER abc  "), "abc");
  });

  it("finds no token in other schemes, a bare scheme, or a double space", () => {
    assert.equal(bearerTokenOf("Basic YWRtaW46YWRtaW4="), undefined);
    assert.equal(bearerTokenOf("Bearer"), undefined);
    assert.equal(bearerTokenOf("Bearer  abc"), undefined);
    assert.equal(bearerTokenOf(undefined), undefined);
  });
});

describe("request authentication", () => {
  let ca: CertificateAuthority;
  let alice: CertificateAndKey;
  let foreign: CertificateAndKey;
  let expired: CertificateAndKey;
  let authenticator: RequestAuthenticator;
  let saToken: string;
  let foreignIssuerToken: string;
  const serviceAccounts: ServiceAccount[] = [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: "ci", name: "deployer", uid: "sa-1" } }];

  before(async () => {
    ca = await createCa("test-ca");
    alice = await issueClientCertificate(ca, { commonName: "alice", organizations: ["dev"] });
    expired = await issueClientCertificate(ca, {
      commonName: "old",
      validity: { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
    });
    foreign = await issueClientCertificate(await createCa("other-ca"), { commonName: "admin", organizations: ["system:masters"] });
    const key = await createSigningKeyPair();
    saToken = (await new ServiceAccountTokenIssuer(key.privateKeyPem).issue({ namespace: "ci", serviceAccount: { name: "deployer", uid: "sa-1" } })).token;
    foreignIssuerToken = (
      await new ServiceAccountTokenIssuer(key.privateKeyPem, { issuer: "https://elsewhere" }).issue({
        namespace: "ci",
        serviceAccount: { name: "deployer", uid: "sa-1" },
      })
    ).token;
    authenticator = new RequestAuthenticator({
      x509: new X509Authenticator([ca.certPem]),
      tokenFile: StaticTokenAuthenticator.fromCsv('static-token,carol,carol-uid,"ops"\n'),
      serviceAccountTokens: new ServiceAccountTokenAuthenticator({
        publicKeyPems: [key.publicKeyPem],
        lookups: { getServiceAccount: (ns, name) => serviceAccounts.find((s) => s.metadata.namespace === ns && s.metadata.name === name) },
      }),
    });
  });

  it("authenticates a client certificate as its CN with its O groups and system:authenticated", async () => {
    const result = await authenticator.authenticate({ peerCertificate: alice.certPem });
    assert.deepEqual(result, { authenticated: true, method: "x509", user: { name: "alice", uid: "", groups: ["dev", "system:authenticated"], extra: {} } });
  });

  it("accepts the certificate as DER bytes too", async () => {
    const { X509Certificate } = await import("node:crypto");
    const result = await authenticator.authenticate({ peerCertificate: new X509Certificate(alice.certPem).raw });
    assert.equal(result.authenticated && result.user.name, "alice");
  });

  it("authenticates a static token with the file's user, uid and groups", async () => {
    const result = await authenticator.authenticate({ authorizationHeader: "Bearer static-token" });
    assert.deepEqual(result, {
      authenticated: true,
      method: "token-file",
      user: { name: "carol", uid: "carol-uid", groups: ["ops", "system:authenticated"], extra: {} },
    });
  });

  it("authenticates a ServiceAccount token", async () => {
    const result = await authenticator.authenticate({ authorizationHeader: `Bearer ${saToken}` });
    assert.equal(result.authenticated, true);
    if (!result.authenticated) return;
    assert.equal(result.method, "serviceaccount");
    assert.equal(result.user.name, "system:serviceaccount:ci:deployer");
    assert.deepEqual(result.user.groups, ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]);
  });

  it("refuses an anonymous request with Kubernetes' 401 body", async () => {
    const result = await authenticator.authenticate({});
    assert.equal(result.authenticated, false);
    if (result.authenticated) return;
    assert.deepEqual(result.status, unauthorizedBody);
    assert.match(result.reasons.join(), /anonymous/);
  });

  it("refuses an unknown token, a foreign issuer's token and a Basic header, saying why only in the reasons", async () => {
    for (const header of ["Bearer nope", `Bearer ${foreignIssuerToken}`, "Basic YWRtaW46YWRtaW4="]) {
      const result = await authenticator.authenticate({ authorizationHeader: header });
      assert.equal(result.authenticated, false, header);
      if (!result.authenticated) assert.deepEqual(result.status, unauthorizedBody);
    }
  });

  it("refuses a certificate from another CA even though it names system:masters", async () => {
    const result = await authenticator.authenticate({ peerCertificate: foreign.certPem });
    assert.equal(result.authenticated, false);
    if (!result.authenticated) assert.match(result.reasons.join(), /unknown authority/);
  });

  it("refuses an expired certificate", async () => {
    const result = await authenticator.authenticate({ peerCertificate: expired.certPem });
    assert.equal(result.authenticated, false);
    if (!result.authenticated) assert.match(result.reasons.join(), /expired/);
  });

  it("refuses a CA certificate presented as a client certificate", async () => {
    const result = await authenticator.authenticate({ peerCertificate: ca.certPem });
    assert.equal(result.authenticated, false);
  });

  it("falls back to the bearer token when the certificate is not valid, as Kubernetes' union authenticator does", async () => {
    const result = await authenticator.authenticate({ peerCertificate: foreign.certPem, authorizationHeader: "Bearer static-token" });
    assert.equal(result.authenticated && result.user.name, "carol");
  });

  it("prefers a valid certificate to a token", async () => {
    const result = await authenticator.authenticate({ peerCertificate: alice.certPem, authorizationHeader: "Bearer static-token" });
    assert.equal(result.authenticated && result.method, "x509");
  });

  it("treats Node's empty peer certificate object as no certificate", async () => {
    const result = await authenticator.authenticate({ peerCertificate: {} as never, authorizationHeader: "Bearer static-token" });
    assert.equal(result.authenticated && result.user.name, "carol");
  });

  it("does not add system:authenticated twice", async () => {
    const tokens = StaticTokenAuthenticator.fromCsv('t,dave,1,"system:authenticated,x"\n');
    const result = await new RequestAuthenticator({ tokenFile: tokens }).authenticate({ authorizationHeader: "Bearer t" });
    assert.deepEqual(result.authenticated && result.user.groups, ["system:authenticated", "x"]);
  });

  it("ignores a client certificate when no CA is configured", async () => {
    const result = await new RequestAuthenticator({}).authenticate({ peerCertificate: alice.certPem });
    assert.equal(result.authenticated, false);
  });
});
