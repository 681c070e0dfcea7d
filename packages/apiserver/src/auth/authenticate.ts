/**
 * Request authentication with Kubernetes' semantics and only its three credential kinds: the TLS
 * client certificate, a bearer token from the static token file, and a ServiceAccount token.
 * Like Kubernetes' union authenticator, the first credential that authenticates wins and failures
 * of the others are only logged; every authenticated user gains `system:authenticated`. There is
 * no anonymous user: a request nothing authenticates gets 401 with the body Kubernetes sends
 * (`reason: Unauthorized`, `message: "Unauthorized"`), never the reasons, which go to the log.
 */
import { statusUnauthorized, type Status } from "@coxswain/api";
import { bearerTokenLengthMax, ServiceAccountTokenError, type ServiceAccountTokenAuthenticator } from "./serviceaccount-token.js";
import type { StaticTokenAuthenticator } from "./token-file.js";
import { withAuthenticatedGroup, type UserInfo } from "./user.js";
import { ClientCertificateError, peerCertificateDer, type PeerCertificateInput, type X509Authenticator } from "./x509-authenticator.js";

/** The parts of a request that carry credentials; independent of the HTTP or gRPC server. */
export interface AuthenticationInput {
  /** The verified-or-not TLS peer certificate: `socket.getPeerCertificate()`, DER or PEM. */
  peerCertificate?: PeerCertificateInput;
  /** The `Authorization` header's value. */
  authorizationHeader?: string;
}

export type AuthenticationMethod = "x509" | "token-file" | "serviceaccount";

export type AuthenticationResult =
  | { authenticated: true; user: UserInfo; method: AuthenticationMethod }
  /** `status` is the 401 body to send; `reasons` are for the request log only. */
  | { authenticated: false; status: Status; reasons: string[] };

export interface RequestAuthenticatorOptions {
  x509?: X509Authenticator;
  tokenFile?: StaticTokenAuthenticator;
  serviceAccountTokens?: ServiceAccountTokenAuthenticator;
}

/**
 * The bearer token of an `Authorization` header, as Kubernetes' bearertoken authenticator reads
 * it: trimmed, split on single spaces, scheme `Bearer` in any case, token the second field.
 * Undefined when the header carries no bearer token (another scheme, or nothing after it).
 */
export function bearerTokenOf(authorizationHeader: string | undefined): string | undefined {
  if (authorizationHeader === undefined) return undefined;
  const parts = authorizationHeader.trim().split(" ");
  if (parts.length < 2 || parts[0]?.toLowerCase() !== "bearer") return undefined;
  const token = parts[1] ?? "";
  return token === "" ? undefined : token;
}

export class RequestAuthenticator {
  private readonly options: RequestAuthenticatorOptions;

  constructor(options: RequestAuthenticatorOptions) {
    this.options = options;
  }

  /**
   * Never rejects for a bad credential (that is `authenticated: false`); rejects only when a
   * lookup behind it fails (the store is unreachable), which the server answers with 500.
   */
  async authenticate(input: AuthenticationInput): Promise<AuthenticationResult> {
    const reasons: string[] = [];

    const certificate = peerCertificateDer(input.peerCertificate);
    if (certificate !== undefined && this.options.x509 !== undefined) {
      try {
        const user = this.options.x509.authenticate(certificate);
        if (user !== undefined) return { authenticated: true, user: withAuthenticatedGroup(user), method: "x509" };
        reasons.push("client certificate has no common name");
      } catch (error) {
        if (!(error instanceof ClientCertificateError)) throw error;
        reasons.push(error.message);
      }
    }

    const token = bearerTokenOf(input.authorizationHeader);
    if (token !== undefined) {
      const result = await this.authenticateToken(token);
      if ("user" in result) return { authenticated: true, user: withAuthenticatedGroup(result.user), method: result.method };
      reasons.push(result.reason);
    }

    if (reasons.length === 0) reasons.push("no credentials (anonymous requests are not allowed)");
    return { authenticated: false, status: statusUnauthorized(), reasons };
  }

  private async authenticateToken(token: string): Promise<{ user: UserInfo; method: AuthenticationMethod } | { reason: string }> {
    if (token.length > bearerTokenLengthMax) return { reason: "invalid bearer token: too long" };
    const fromFile = this.options.tokenFile?.authenticate(token);
    if (fromFile !== undefined) return { user: fromFile, method: "token-file" };
    const serviceAccounts = this.options.serviceAccountTokens;
    if (serviceAccounts !== undefined && serviceAccounts.recognizes(token)) {
      try {
        return { user: await serviceAccounts.authenticate(token), method: "serviceaccount" };
      } catch (error) {
        if (!(error instanceof ServiceAccountTokenError)) throw error;
        return { reason: `invalid bearer token: ${error.message}` };
      }
    }
    return { reason: "invalid bearer token" };
  }
}
