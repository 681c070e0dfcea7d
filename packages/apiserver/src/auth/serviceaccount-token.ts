/**
 * ServiceAccount tokens: JWTs the API server signs with the ServiceAccount key (sa.key) and
 * accepts back as bearer tokens, with the claims Kubernetes' bound tokens carry
 * (k8s.io/kubernetes/pkg/serviceaccount/claims.go):
 *
 *   { iss, sub: "system:serviceaccount:<ns>:<name>", aud: [...], exp, iat, nbf, jti,
 *     "kubernetes.io": { namespace, serviceaccount: {name, uid}, pod?: {name, uid}, node?: {name, uid} } }
 *
 * A token authenticates only while its signature verifies, it has not expired, it names an
 * accepted issuer and audience, and the ServiceAccount (and pod, when bound to one) still exists
 * with the uid the token names — deleting the ServiceAccount revokes its tokens.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { SignJWT, jwtVerify, decodeJwt, decodeProtectedHeader, errors as joseErrors, type JWTPayload } from "jose";
import type { Pod, ServiceAccount } from "@coxswain/api";
import { assert } from "@coxswain/raft";
import { serviceAccountGroups, serviceAccountUsername, type UserInfo } from "./user.js";

/** The issuer Kubernetes clusters use by default (`--service-account-issuer`). */
export const defaultServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local";
/** TokenRequest's bounds and default for `expirationSeconds` (10 minutes to, here, one day; 1 hour default). */
export const serviceAccountTokenExpirationSecondsMin = 600;
export const serviceAccountTokenExpirationSecondsMax = 24 * 60 * 60;
export const serviceAccountTokenExpirationSecondsDefault = 3600;
/** Kubernetes accepts tokens up to a minute past `exp` or before `nbf` (go-jose's DefaultLeeway). */
export const serviceAccountTokenLeewaySeconds = 60;
/** Tokens longer than this are refused before any parsing. */
export const bearerTokenLengthMax = 16 * 1024;

export const podNameExtraKey = "authentication.kubernetes.io/pod-name";
export const podUidExtraKey = "authentication.kubernetes.io/pod-uid";
export const nodeNameExtraKey = "authentication.kubernetes.io/node-name";
export const nodeUidExtraKey = "authentication.kubernetes.io/node-uid";
export const credentialIdExtraKey = "authentication.kubernetes.io/credential-id";

/** Why a ServiceAccount token was refused; the message is what Kubernetes logs. */
export class ServiceAccountTokenError extends Error {
  override readonly name = "ServiceAccountTokenError";
}

interface ObjectReferenceClaim {
  name: string;
  uid: string;
}

/** The private claims under `kubernetes.io`. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: ObjectReferenceClaim;
  pod?: ObjectReferenceClaim;
  node?: ObjectReferenceClaim;
}

export interface ServiceAccountTokenClaims extends JWTPayload {
  "kubernetes.io": KubernetesClaims;
}

function algorithmOf(key: KeyObject): "ES256" | "RS256" {
  if (key.asymmetricKeyType === "ec") {
    assert(key.asymmetricKeyDetails?.namedCurve === "prime256v1", "ServiceAccount keys on EC use P-256 (ES256)");
    return "ES256";
  }
  assert(key.asymmetricKeyType === "rsa", "ServiceAccount keys are ECDSA P-256 or RSA");
  return "RS256";
}

/** Kubernetes' key id: base64url of the SHA-256 of the public key's DER (serviceaccount.keyIDFromPublicKey). */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

export interface IssueServiceAccountTokenRequest {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  /** Bind the token to a pod: it stops working when the pod is gone. */
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  audiences?: readonly string[];
  expirationSeconds?: number;
}

/** Signs ServiceAccount tokens (the TokenRequest API and the kubelet's projected tokens). */
export class ServiceAccountTokenIssuer {
  readonly issuer: string;
  private readonly privateKey: KeyObject;
  private readonly algorithm: "ES256" | "RS256";
  private readonly keyId: string;
  private readonly defaultAudiences: readonly string[];
  private readonly nowMs: () => number;

  constructor(privateKeyPem: string, options: { issuer?: string; audiences?: readonly string[]; nowMs?: () => number } = {}) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.algorithm = algorithmOf(this.privateKey);
    this.keyId = keyIdOf(createPublicKey(this.privateKey));
    this.issuer = options.issuer ?? defaultServiceAccountIssuer;
    this.defaultAudiences = options.audiences ?? [this.issuer];
    this.nowMs = options.nowMs ?? Date.now;
  }

  async issue(request: IssueServiceAccountTokenRequest): Promise<{ token: string; expirationTimestamp: Date }> {
    const expirationSeconds = request.expirationSeconds ?? serviceAccountTokenExpirationSecondsDefault;
    assert(Number.isInteger(expirationSeconds) && expirationSeconds > 0, "a token's expirationSeconds is a positive integer");
    assert(request.namespace !== "" && request.serviceAccount.name !== "", "a ServiceAccount token names its ServiceAccount");
    const audiences = request.audiences ?? this.defaultAudiences;
    assert(audiences.length > 0, "a ServiceAccount token has at least one audience");
    const nowSeconds = Math.floor(this.nowMs() / 1000);
    const expiresAtSeconds = nowSeconds + expirationSeconds;
    const kubernetes: KubernetesClaims = { namespace: request.namespace, serviceaccount: { ...request.serviceAccount } };
    if (request.pod !== undefined) kubernetes.pod = { ...request.pod };
    if (request.node !== undefined) kubernetes.node = { ...request.node };
    const token = await new SignJWT({ "kubernetes.io": kubernetes })
      .setProtectedHeader({ alg: this.algorithm, kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(request.namespace, request.serviceAccount.name))
      .setAudience([...audiences])
      .setIssuedAt(nowSeconds)
      .setNotBefore(nowSeconds)
      .setExpirationTime(expiresAtSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expirationTimestamp: new Date(expiresAtSeconds * 1000) };
  }
}

/** Reads current objects for revocation checks; the apiserver answers from its watch cache or storage. */
export interface ServiceAccountTokenLookups {
  getServiceAccount(namespace: string, name: string): ServiceAccount | undefined | Promise<ServiceAccount | undefined>;
  /** When absent, pod-bound tokens are not checked against live pods. */
  getPod?(namespace: string, name: string): Pod | undefined | Promise<Pod | undefined>;
}

export interface ServiceAccountTokenAuthenticatorOptions {
  /** Public keys (SPKI PEM, or private key PEM) whose signatures are accepted: several while keys rotate. */
  publicKeyPems: readonly string[];
  /** Accepted `iss` values; the first is the one this cluster issues. */
  issuers?: readonly string[];
  /** Accepted audiences: a token must name at least one. Defaults to the issuers. */
  audiences?: readonly string[];
  lookups: ServiceAccountTokenLookups;
  nowMs?: () => number;
}

/** Validates ServiceAccount JWTs and maps them to `system:serviceaccount:<ns>:<name>`. */
export class ServiceAccountTokenAuthenticator {
  private readonly keys: { key: KeyObject; keyId: string; algorithm: "ES256" | "RS256" }[];
  private readonly issuers: readonly string[];
  private readonly audiences: readonly string[];
  private readonly lookups: ServiceAccountTokenLookups;
  private readonly nowMs: () => number;

  constructor(options: ServiceAccountTokenAuthenticatorOptions) {
    assert(options.publicKeyPems.length > 0, "a ServiceAccount token authenticator needs at least one key");
    this.keys = options.publicKeyPems.map((pem) => {
      const key = createPublicKey(pem);
      return { key, keyId: keyIdOf(key), algorithm: algorithmOf(key) };
    });
    this.issuers = options.issuers ?? [defaultServiceAccountIssuer];
    assert(this.issuers.length > 0, "a ServiceAccount token authenticator accepts at least one issuer");
    this.audiences = options.audiences ?? this.issuers;
    this.lookups = options.lookups;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Whether this token claims to be one of ours (a JWT from an accepted issuer). Kubernetes' JWT
   * authenticator likewise ignores tokens of other issuers, so another authenticator may take them.
   */
  recognizes(token: string): boolean {
    if (token.length > bearerTokenLengthMax || token.split(".").length !== 3) return false;
    try {
      const iss = decodeJwt(token).iss;
      return iss !== undefined && this.issuers.includes(iss);
    } catch {
      return false;
    }
  }

  /** The token's user, or a ServiceAccountTokenError saying why it is refused. Call only for tokens it `recognizes`. */
  async authenticate(token: string): Promise<UserInfo> {
    const claims = await this.verify(token);
    const kubernetes = claims["kubernetes.io"];
    const namespace = kubernetes.namespace;
    const saName = kubernetes.serviceaccount.name;

    const serviceAccount = await this.lookups.getServiceAccount(namespace, saName);
    if (serviceAccount === undefined) throw new ServiceAccountTokenError("service account token has been invalidated");
    if (serviceAccount.metadata.deletionTimestamp) throw new ServiceAccountTokenError(`service account ${namespace}/${saName} has been deleted`);
    if (serviceAccount.metadata.uid !== kubernetes.serviceaccount.uid) {
      throw new ServiceAccountTokenError(`service account UID (${serviceAccount.metadata.uid ?? ""}) does not match claim (${kubernetes.serviceaccount.uid})`);
    }

    const extra: Record<string, string[]> = {};
    if (kubernetes.pod !== undefined) {
      if (this.lookups.getPod !== undefined) {
        const pod = await this.lookups.getPod(namespace, kubernetes.pod.name);
        if (pod === undefined) throw new ServiceAccountTokenError("token has been invalidated");
        if (pod.metadata.deletionTimestamp) throw new ServiceAccountTokenError(`pod ${namespace}/${kubernetes.pod.name} has been deleted`);
        if (pod.metadata.uid !== kubernetes.pod.uid) {
          throw new ServiceAccountTokenError(`pod UID (${pod.metadata.uid ?? ""}) does not match claim (${kubernetes.pod.uid})`);
        }
      }
      extra[podNameExtraKey] = [kubernetes.pod.name];
      extra[podUidExtraKey] = [kubernetes.pod.uid];
    }
    if (kubernetes.node !== undefined) {
      extra[nodeNameExtraKey] = [kubernetes.node.name];
      extra[nodeUidExtraKey] = [kubernetes.node.uid];
    }
    if (typeof claims.jti === "string" && claims.jti !== "") extra[credentialIdExtraKey] = [`JTI=${claims.jti}`];

    return { name: serviceAccountUsername(namespace, saName), uid: kubernetes.serviceaccount.uid, groups: serviceAccountGroups(namespace), extra };
  }

  /** Signature, issuer, audience, time and claim shape; no lookups. */
  async verify(token: string): Promise<ServiceAccountTokenClaims> {
    if (token.length > bearerTokenLengthMax) throw new ServiceAccountTokenError("token too long");
    let keyId: string | undefined;
    try {
      keyId = decodeProtectedHeader(token).kid;
    } catch (error) {
      throw new ServiceAccountTokenError("malformed token", { cause: error });
    }
    // With a key id, try the key it names; without one (or an unknown one), every key, as Kubernetes does.
    const named = this.keys.filter((k) => k.keyId === keyId);
    const candidates = named.length > 0 ? named : this.keys;
    let payload: JWTPayload | undefined;
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        const result = await jwtVerify(token, candidate.key, {
          algorithms: [candidate.algorithm],
          issuer: [...this.issuers],
          audience: [...this.audiences],
          currentDate: new Date(this.nowMs()),
          clockTolerance: serviceAccountTokenLeewaySeconds,
          requiredClaims: ["exp", "sub"],
        });
        payload = result.payload;
        break;
      } catch (error) {
        lastError = error;
        if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) break; // the right key, but a bad token
      }
    }
    if (payload === undefined) throw translateJoseError(lastError);
    return checkClaimShape(payload);
  }
}

function translateJoseError(error: unknown): ServiceAccountTokenError {
  if (error instanceof joseErrors.JWTExpired) return new ServiceAccountTokenError("service account token has expired", { cause: error });
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return new ServiceAccountTokenError("invalid signature", { cause: error });
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return new ServiceAccountTokenError("service account token is not valid yet", { cause: error });
    if (error.claim === "aud") return new ServiceAccountTokenError("token audiences are invalid for this API server", { cause: error });
    return new ServiceAccountTokenError(`invalid claim "${error.claim}": ${error.reason}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ServiceAccountTokenError(`token could not be validated: ${message}`, { cause: error });
}

function isReferenceClaim(value: unknown): value is ObjectReferenceClaim {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.name === "string" && record.name !== "" && typeof record.uid === "string";
}

function checkClaimShape(payload: JWTPayload): ServiceAccountTokenClaims {
  const kubernetes = payload["kubernetes.io"];
  if (typeof kubernetes !== "object" || kubernetes === null) throw new ServiceAccountTokenError("token lacks the kubernetes.io claims");
  const record = kubernetes as Record<string, unknown>;
  if (typeof record.namespace !== "string" || record.namespace === "") throw new ServiceAccountTokenError("token lacks a namespace claim");
  if (!isReferenceClaim(record.serviceaccount)) throw new ServiceAccountTokenError("token lacks a serviceaccount claim");
  if (record.pod !== undefined && !isReferenceClaim(record.pod)) throw new ServiceAccountTokenError("token has a malformed pod claim");
  if (record.node !== undefined && !isReferenceClaim(record.node)) throw new ServiceAccountTokenError("token has a malformed node claim");
  const claims = payload as ServiceAccountTokenClaims;
  if (claims.sub !== serviceAccountUsername(record.namespace, record.serviceaccount.name)) {
    throw new ServiceAccountTokenError("token subject does not match its kubernetes.io claims");
  }
  return claims;
}
