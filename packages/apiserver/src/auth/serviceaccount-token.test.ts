import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import type { Pod, ServiceAccount } from "@coxswain/api";
import { createSigningKeyPair, type SigningKeyPair } from "./pki.js";
import {
  defaultServiceAccountIssuer,
  ServiceAccountTokenAuthenticator,
  ServiceAccountTokenError,
  ServiceAccountTokenIssuer,
  type ServiceAccountTokenLookups,
} from "./serviceaccount-token.js";

const startMs = Date.UTC(2025, 0, 1, 12, 0, 0);

function serviceAccount(namespace: string, name: string, uid: string, extra: Partial<ServiceAccount["metadata"]> = {}): ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace, name, uid, ...extra } };
}

function pod(namespace: string, name: string, uid: string): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { namespace, name, uid }, spec: { containers: [] } };
}

/** A fake cluster: ServiceAccounts and pods by namespace/name. */
function lookups(serviceAccounts: ServiceAccount[], pods: Pod[] = []): ServiceAccountTokenLookups {
  return {
    getServiceAccount: (ns, name) => serviceAccounts.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
    getPod: async (ns, name) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name),
  };
}

async function rejectsWith(promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ServiceAccountTokenError, `expected ServiceAccountTokenError, got ${String(error)}`);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

describe("ServiceAccount tokens", () => {
  let key: SigningKeyPair;
  let nowMs = startMs;
  const clock = () => nowMs;
  const builder = serviceAccount("team-a", "builder", "sa-uid-1");

  before(async () => {
    key = await createSigningKeyPair();
  });

  function issuer(options: { issuer?: string; audiences?: string[] } = {}) {
    return new ServiceAccountTokenIssuer(key.privateKeyPem, { ...options, nowMs: clock });
  }

  function authenticator(serviceAccounts: ServiceAccount[] = [builder], pods: Pod[] = [], publicKeyPems = [key.publicKeyPem]) {
    return new ServiceAccountTokenAuthenticator({ publicKeyPems, lookups: lookups(serviceAccounts, pods), nowMs: clock });
  }

  it("carries the claims Kubernetes puts in a bound token", async () => {
    nowMs = startMs;
    const { token, expirationTimestamp } = await issuer().issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
      expirationSeconds: 600,
    });
    const claims = decodeJwt(token);
    assert.equal(claims.iss, defaultServiceAccountIssuer);
    assert.equal(claims.sub, "system:serviceaccount:team-a:builder");
    assert.deepEqual(claims.aud, [defaultServiceAccountIssuer]);
    assert.equal(claims.iat, startMs / 1000);
    assert.equal(claims.nbf, startMs / 1000);
    assert.equal(claims.exp, startMs / 1000 + 600);
    assert.equal(typeof claims.jti, "string");
    assert.deepEqual(claims["kubernetes.io"], { namespace: "team-a", serviceaccount: { name: "builder", uid: "sa-uid-1" } });
    assert.equal(expirationTimestamp.getTime(), startMs + 600_000);
    const header = decodeProtectedHeader(token);
    assert.equal(header.alg, "ES256");
    assert.match(header.kid ?? "", /^[A-Za-z0-9_-]{43}$/);
  });

  it("authenticates as system:serviceaccount:<ns>:<name> in the ServiceAccount groups, with the ServiceAccount's uid", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    const user = await authenticator().authenticate(token);
    assert.equal(user.name, "system:serviceaccount:team-a:builder");
    assert.equal(user.uid, "sa-uid-1");
    assert.deepEqual(user.groups, ["system:serviceaccounts", "system:serviceaccounts:team-a"]);
    assert.match(user.extra["authentication.kubernetes.io/credential-id"]?.[0] ?? "", /^JTI=/);
  });

  it("recognizes its own issuer's tokens and not others", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    const { token: foreign } = await issuer({ issuer: "https://other.example" }).issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
    });
    assert.equal(authenticator().recognizes(token), true);
    assert.equal(authenticator().recognizes(foreign), false);
    assert.equal(authenticator().recognizes("not-a-jwt"), false);
    assert.equal(authenticator().recognizes("a.b.c"), false);
  });

  it("is accepted until it expires, within a minute's leeway, and refused after", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" }, expirationSeconds: 600 });
    nowMs = startMs + 599_000;
    assert.equal((await authenticator().authenticate(token)).name, "system:serviceaccount:team-a:builder");
    nowMs = startMs + 650_000;
    assert.equal((await authenticator().authenticate(token)).name, "system:serviceaccount:team-a:builder");
    nowMs = startMs + 661_000;
    await rejectsWith(authenticator().authenticate(token), "service account token has expired");
  });

  it("is refused before it becomes valid", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    nowMs = startMs - 120_000;
    await rejectsWith(authenticator().authenticate(token), /not valid yet|iat/);
  });

  it("is refused when signed by another key", async () => {
    nowMs = startMs;
    const other = await createSigningKeyPair();
    const { token } = await new ServiceAccountTokenIssuer(other.privateKeyPem, { nowMs: clock }).issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
    });
    await rejectsWith(authenticator().authenticate(token), "invalid signature");
  });

  it("is accepted by any of several keys while keys rotate", async () => {
    nowMs = startMs;
    const next = await createSigningKeyPair();
    const { token } = await new ServiceAccountTokenIssuer(next.privateKeyPem, { nowMs: clock }).issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
    });
    const user = await authenticator([builder], [], [key.publicKeyPem, next.publicKeyPem]).authenticate(token);
    assert.equal(user.name, "system:serviceaccount:team-a:builder");
  });

  it("verifies RS256 tokens from an RSA key", async () => {
    nowMs = startMs;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const privateKeyPem = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const publicKeyPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
    const { token } = await new ServiceAccountTokenIssuer(privateKeyPem, { nowMs: clock }).issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
    });
    assert.equal(decodeProtectedHeader(token).alg, "RS256");
    assert.equal((await authenticator([builder], [], [publicKeyPem]).authenticate(token)).uid, "sa-uid-1");
  });

  it("is refused once its ServiceAccount is deleted", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    await rejectsWith(authenticator([]).authenticate(token), "service account token has been invalidated");
    const deleting = serviceAccount("team-a", "builder", "sa-uid-1", { deletionTimestamp: "2025-01-01T12:00:00Z" });
    await rejectsWith(authenticator([deleting]).authenticate(token), "service account team-a/builder has been deleted");
  });

  it("is refused when the ServiceAccount was recreated with a new uid", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    await rejectsWith(
      authenticator([serviceAccount("team-a", "builder", "sa-uid-2")]).authenticate(token),
      "service account UID (sa-uid-2) does not match claim (sa-uid-1)",
    );
  });

  it("is bound to its pod: valid while the pod lives, refused when it is gone or replaced", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({
      namespace: "team-a",
      serviceAccount: { name: "builder", uid: "sa-uid-1" },
      pod: { name: "web-0", uid: "pod-uid-1" },
    });
    const user = await authenticator([builder], [pod("team-a", "web-0", "pod-uid-1")]).authenticate(token);
    assert.deepEqual(user.extra["authentication.kubernetes.io/pod-name"], ["web-0"]);
    assert.deepEqual(user.extra["authentication.kubernetes.io/pod-uid"], ["pod-uid-1"]);
    await rejectsWith(authenticator([builder], []).authenticate(token), "token has been invalidated");
    await rejectsWith(
      authenticator([builder], [pod("team-a", "web-0", "pod-uid-2")]).authenticate(token),
      "pod UID (pod-uid-2) does not match claim (pod-uid-1)",
    );
  });

  it("is refused for an audience this server does not accept", async () => {
    nowMs = startMs;
    const { token } = await issuer({ audiences: ["vault"] }).issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    await rejectsWith(authenticator().authenticate(token), /audiences/);
  });

  it("is refused when correctly signed but without the kubernetes.io claims", async () => {
    nowMs = startMs;
    const { createPrivateKey } = await import("node:crypto");
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(defaultServiceAccountIssuer)
      .setAudience(defaultServiceAccountIssuer)
      .setSubject("system:serviceaccount:team-a:builder")
      .setExpirationTime(startMs / 1000 + 600)
      .sign(createPrivateKey(key.privateKeyPem));
    await rejectsWith(authenticator().authenticate(token), "token lacks the kubernetes.io claims");
  });

  it("is refused when its subject disagrees with its kubernetes.io claims", async () => {
    nowMs = startMs;
    const { createPrivateKey } = await import("node:crypto");
    const token = await new SignJWT({ "kubernetes.io": { namespace: "team-a", serviceaccount: { name: "builder", uid: "sa-uid-1" } } })
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(defaultServiceAccountIssuer)
      .setAudience(defaultServiceAccountIssuer)
      .setSubject("system:serviceaccount:kube-system:root")
      .setExpirationTime(startMs / 1000 + 600)
      .sign(createPrivateKey(key.privateKeyPem));
    await rejectsWith(authenticator().authenticate(token), "token subject does not match its kubernetes.io claims");
  });

  it("is refused when it has no expiry", async () => {
    nowMs = startMs;
    const { createPrivateKey } = await import("node:crypto");
    const token = await new SignJWT({ "kubernetes.io": { namespace: "team-a", serviceaccount: { name: "builder", uid: "sa-uid-1" } } })
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(defaultServiceAccountIssuer)
      .setAudience(defaultServiceAccountIssuer)
      .setSubject("system:serviceaccount:team-a:builder")
      .sign(createPrivateKey(key.privateKeyPem));
    await rejectsWith(authenticator().authenticate(token), /exp/);
  });

  it("is refused when tampered with", async () => {
    nowMs = startMs;
    const { token } = await issuer().issue({ namespace: "team-a", serviceAccount: { name: "builder", uid: "sa-uid-1" } });
    const [header, , signature] = token.split(".");
    const forged = Buffer.from(
      JSON.stringify({
        ...decodeJwt(token),
        sub: "system:serviceaccount:kube-system:admin",
        "kubernetes.io": { namespace: "kube-system", serviceaccount: { name: "admin", uid: "x" } },
      }),
    ).toString("base64url");
    await rejectsWith(authenticator().authenticate(`${header}.${forged}.${signature}`), "invalid signature");
  });
});
