/**
 * Client certificate authentication (Kubernetes' `--client-ca-file`,
 * k8s.io/apiserver/pkg/authentication/request/x509): the TLS peer certificate must be signed by
 * the cluster CA, be within its validity period and allow client authentication; then its
 * subject CN is the user name and each subject O a group. A certificate with an empty CN
 * identifies nobody (Kubernetes returns "not authenticated" rather than an error).
 */
import { X509Certificate as NodeX509Certificate } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import { certificateSubject } from "./pki.js";
import type { UserInfo } from "./user.js";

/** A certificate was presented but is not one the cluster CA vouches for. */
export class ClientCertificateError extends Error {
  override readonly name = "ClientCertificateError";
}

/** What the TLS layer hands over: Node's PeerCertificate (its `raw` DER), DER bytes, or PEM text. */
export type PeerCertificateInput = PeerCertificate | Uint8Array | string;

const clientAuthOid = "1.3.6.1.5.5.7.3.2";
const anyExtendedKeyUsageOid = "2.5.29.37.0";

/** The DER bytes of a peer certificate, or undefined when none was presented (Node gives `{}` then). */
export function peerCertificateDer(input: PeerCertificateInput | undefined): Uint8Array | string | undefined {
  if (input === undefined) return undefined;
  if (typeof input === "string") return input.trim() === "" ? undefined : input;
  if (input instanceof Uint8Array) return input.length === 0 ? undefined : input;
  const raw = (input as Partial<PeerCertificate>).raw;
  return raw === undefined || raw.length === 0 ? undefined : raw;
}

export class X509Authenticator {
  private readonly cas: NodeX509Certificate[];
  private readonly nowMs: () => number;

  /** `caPems`: the CA certificates whose signatures are accepted (several while the CA rotates). */
  constructor(caPems: readonly string[], options: { nowMs?: () => number } = {}) {
    this.cas = caPems.map((pem) => new NodeX509Certificate(pem));
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The certificate's user; undefined when it names no user; ClientCertificateError when it is not valid. */
  authenticate(input: PeerCertificateInput): UserInfo | undefined {
    const encoded = peerCertificateDer(input);
    if (encoded === undefined) return undefined;
    let cert: NodeX509Certificate;
    try {
      cert = new NodeX509Certificate(typeof encoded === "string" ? encoded : Buffer.from(encoded));
    } catch (error) {
      throw new ClientCertificateError("unable to parse the client certificate", { cause: error });
    }
    const now = this.nowMs();
    if (now < cert.validFromDate.getTime()) {
      throw new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: x509: certificate is not valid yet`);
    }
    if (now > cert.validToDate.getTime()) {
      throw new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: x509: certificate has expired or is not yet valid`);
    }
    if (cert.ca) throw new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: a CA certificate is not a client certificate`);
    const issuer = this.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (issuer === undefined) {
      throw new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: x509: certificate signed by unknown authority`);
    }
    // Go's verifier, which Kubernetes uses, treats a certificate without the extension as good for any use.
    const usages = cert.keyUsage;
    if (usages !== undefined && !usages.includes(clientAuthOid) && !usages.includes(anyExtendedKeyUsageOid)) {
      throw new ClientCertificateError(`verifying certificate SN=${cert.serialNumber} failed: x509: certificate specifies an incompatible key usage`);
    }
    const { commonName, organizations } = certificateSubject(new Uint8Array(cert.raw));
    if (commonName === "") return undefined;
    return { name: commonName, uid: "", groups: organizations, extra: {} };
  }
}
