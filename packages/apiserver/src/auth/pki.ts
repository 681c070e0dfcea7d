/**
 * The cluster's public key infrastructure: one CA made at bootstrap, and the certificates it
 * issues — the API server's serving certificate, client certificates whose subject carries the
 * user (CN) and groups (O) exactly as Kubernetes reads them, and the ServiceAccount token signing
 * key pair. The layout follows kubeadm's /etc/kubernetes/pki (ca.crt, apiserver.crt, sa.key, ...).
 *
 * Certificates are built by @peculiar/x509 on Node's WebCrypto; keys are ECDSA P-256 (kubeadm's
 * choice when asked for ECDSA; Go's crypto/tls, kubectl and Node all accept them) and are written
 * as PKCS#8 PEM. RSA keys loaded from disk (a CA someone brought) are accepted too.
 */
import "reflect-metadata"; // @peculiar/x509 resolves its ASN.1 types through tsyringe, which needs this polyfill
import * as x509 from "@peculiar/x509";
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeX509Certificate } from "node:crypto";
import { isIP } from "node:net";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { assert } from "@coxswain/raft";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcdsaParams = webcrypto.EcdsaParams;
type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.Algorithm;

x509.cryptoProvider.set(webcrypto);

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** The cluster CA: a self-signed certificate that may sign, and its key. */
export type CertificateAuthority = CertificateAndKey;

/** A signing key pair as PEM: PKCS#8 private key, SPKI public key (kubeadm's sa.key / sa.pub). */
export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertificateValidity {
  notBefore?: Date;
  notAfter?: Date;
}

/** kubeadm's lifetimes: the CA for ten years, leaf certificates for one. */
export const caValidityDays = 3650;
export const leafValidityDays = 365;
/** Leaf certificates start a little in the past so a peer whose clock is behind still accepts them. */
export const certificateBackdateMs = 5 * 60 * 1000;

const dayMs = 24 * 60 * 60 * 1000;

const ecdsaKeyAlgorithm: webcrypto.EcKeyGenParams & webcrypto.EcKeyImportParams = { name: "ECDSA", namedCurve: "P-256" };
const ecdsaSigningAlgorithm: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const rsaSigningAlgorithm: webcrypto.RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };

/** A PEM that is not what it claims to be, or a key of a kind this PKI cannot sign with. */
export class PkiError extends Error {
  override readonly name = "PkiError";
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsaKeyAlgorithm, true, ["sign", "verify"]);
}

async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

async function publicKeyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("spki", key);
  return x509.PemConverter.encode(der, "PUBLIC KEY") + "\n";
}

/** The WebCrypto parameters that sign with a key of this PEM's type. */
function signingParametersOf(keyPem: string): {
  importAlgorithm: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signingAlgorithm: SigningAlgorithm;
} {
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch (error) {
    throw new PkiError("not a PEM private key", { cause: error });
  }
  const type = keyObject.asymmetricKeyType;
  if (type === "ec") {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    if (curve !== "prime256v1") throw new PkiError(`unsupported EC curve ${curve ?? "(unknown)"}: only P-256 is supported`);
    return { importAlgorithm: ecdsaKeyAlgorithm, signingAlgorithm: ecdsaSigningAlgorithm };
  }
  if (type === "rsa") return { importAlgorithm: rsaSigningAlgorithm, signingAlgorithm: rsaSigningAlgorithm };
  throw new PkiError(`unsupported private key type ${type ?? "(unknown)"}: use ECDSA P-256 or RSA`);
}

async function importSigningKey(keyPem: string): Promise<{ key: CryptoKey; signingAlgorithm: SigningAlgorithm }> {
  const { importAlgorithm, signingAlgorithm } = signingParametersOf(keyPem);
  // Re-encode through Node so PKCS#1 ("RSA PRIVATE KEY") and SEC1 ("EC PRIVATE KEY") PEMs import too.
  const pkcs8 = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
  const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, importAlgorithm, false, ["sign"]);
  return { key, signingAlgorithm };
}

/** A positive 128-bit serial number (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 1; // keep the DER encoding at 16 bytes
  return bytes.toString("hex");
}

function validityOf(validity: CertificateValidity | undefined, days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = validity?.notBefore ?? new Date(now - certificateBackdateMs);
  const notAfter = validity?.notAfter ?? new Date(now + days * dayMs);
  assert(notAfter.getTime() > notBefore.getTime(), "a certificate's notAfter must be after its notBefore");
  return { notBefore, notAfter };
}

function parseCertificate(certPem: string): x509.X509Certificate {
  try {
    return new x509.X509Certificate(certPem);
  } catch (error) {
    throw new PkiError("not a PEM certificate", { cause: error });
  }
}

/** Make a new self-signed CA whose subject is `CN=<name>` (kubeadm's CA is `CN=kubernetes`). */
export async function createCa(name: string, options: { validity?: CertificateValidity } = {}): Promise<CertificateAuthority> {
  assert(name !== "", "a CA needs a name");
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validityOf(options.validity, caValidityDays);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [name] }],
    notBefore,
    notAfter,
    signingAlgorithm: ecdsaSigningAlgorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: await privateKeyToPem(keys.privateKey) };
}

interface LeafRequest {
  subject: x509.JsonName;
  extendedKeyUsages: string[];
  alternativeNames: x509.JsonGeneralNames;
  validity: CertificateValidity | undefined;
}

async function issueLeaf(ca: CertificateAuthority, request: LeafRequest): Promise<CertificateAndKey> {
  const caCert = parseCertificate(ca.certPem);
  const { key: caKey, signingAlgorithm } = await importSigningKey(ca.keyPem);
  const keys = await generateKeyPair();
  const { notBefore, notAfter } = validityOf(request.validity, leafValidityDays);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    // ECDSA keys only sign; keyEncipherment is for RSA key transport, which leaf keys here never do.
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(request.extendedKeyUsages, false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (request.alternativeNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(request.alternativeNames, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: request.subject,
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: await privateKeyToPem(keys.privateKey) };
}

export interface ServerCertificateRequest {
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  /** The subject CN; SANs are what clients check. kubeadm uses `kube-apiserver`. */
  commonName?: string;
  validity?: CertificateValidity;
}

/** A serving certificate (extended key usage serverAuth) for the given DNS names and IP addresses. */
export async function issueServerCertificate(ca: CertificateAuthority, request: ServerCertificateRequest): Promise<CertificateAndKey> {
  assert(request.dnsNames.length + request.ipAddresses.length > 0, "a server certificate needs at least one name or address");
  for (const ip of request.ipAddresses) if (isIP(ip) === 0) throw new PkiError(`not an IP address: ${JSON.stringify(ip)}`);
  const alternativeNames: x509.JsonGeneralNames = [
    ...request.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...request.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  return issueLeaf(ca, {
    subject: [{ CN: [request.commonName ?? "kube-apiserver"] }],
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
    alternativeNames,
    validity: request.validity,
  });
}

export interface ClientCertificateRequest {
  /** The user name the API server will see (the subject CN). */
  commonName: string;
  /** The groups the API server will see (one subject O each). */
  organizations?: readonly string[];
  validity?: CertificateValidity;
}

/** A client certificate (extended key usage clientAuth): CN is the user, each O a group — Kubernetes' x509 authenticator. */
export async function issueClientCertificate(ca: CertificateAuthority, request: ClientCertificateRequest): Promise<CertificateAndKey> {
  assert(request.commonName !== "", "a client certificate needs a user name");
  const subject: x509.JsonName = [{ CN: [request.commonName] }, ...(request.organizations ?? []).map((o) => ({ O: [o] }))];
  return issueLeaf(ca, { subject, extendedKeyUsages: [x509.ExtendedKeyUsage.clientAuth], alternativeNames: [], validity: request.validity });
}

/** A new ECDSA P-256 key pair for signing ServiceAccount tokens (ES256). */
export async function createSigningKeyPair(): Promise<SigningKeyPair> {
  const keys = await generateKeyPair();
  return { privateKeyPem: await privateKeyToPem(keys.privateKey), publicKeyPem: await publicKeyToPem(keys.publicKey) };
}

/** The subject's CN and O values, as the API server reads them from a client certificate. */
export function certificateSubject(certPemOrDer: string | Uint8Array): { commonName: string; organizations: string[] } {
  const cert = typeof certPemOrDer === "string" ? parseCertificate(certPemOrDer) : new x509.X509Certificate(certPemOrDer);
  return { commonName: cert.subjectName.getField("CN")[0] ?? "", organizations: cert.subjectName.getField("O") };
}

/** The DNS names and IP addresses a certificate's subjectAltName lists. */
export function certificateAlternativeNames(certPem: string): { dnsNames: string[]; ipAddresses: string[] } {
  const san = parseCertificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  return {
    dnsNames: names.filter((n) => n.type === "dns").map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === "ip").map((n) => n.value),
  };
}

/** Whether `certPem` carries a valid signature by `caPem`'s key and names it as issuer. */
export function isIssuedBy(certPem: string, caPem: string): boolean {
  const cert = new NodeX509Certificate(certPem);
  const ca = new NodeX509Certificate(caPem);
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** The public key (SPKI PEM) of a private key PEM. */
export function publicKeyPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: "spki", format: "pem" }).toString();
}

// ---------------------------------------------------------------------------------------------
// Bootstrap: the files a cluster needs, made once and then reused.

/** The user and group names Kubernetes' components authenticate as (k8s.io/apiserver/pkg/authentication/user). */
export const systemMastersGroup = "system:masters";
export const systemNodesGroup = "system:nodes";
export const schedulerUser = "system:kube-scheduler";
export const controllerManagerUser = "system:kube-controller-manager";
export const nodeUserPrefix = "system:node:";

export interface BootstrapPkiOptions {
  /** Extra API server addresses for the serving certificate: IPs become IP SANs, the rest DNS SANs. */
  apiserverAddresses?: readonly string[];
  /** Node names that get a client certificate `system:node:<name>` in group `system:nodes`. */
  nodeNames?: readonly string[];
  /** The CA's CN. */
  caName?: string;
}

/** Paths of the bootstrap files; certificates are world-readable, keys 0600. */
export interface BootstrapPki {
  dir: string;
  ca: CertificateAuthority;
  caCertPath: string;
  caKeyPath: string;
  apiserver: CertificateAndKey & { certPath: string; keyPath: string };
  admin: CertificateAndKey & { certPath: string; keyPath: string };
  scheduler: CertificateAndKey & { certPath: string; keyPath: string };
  controllerManager: CertificateAndKey & { certPath: string; keyPath: string };
  nodes: Map<string, CertificateAndKey & { certPath: string; keyPath: string }>;
  serviceAccountKey: SigningKeyPair & { privateKeyPath: string; publicKeyPath: string };
}

/** The names every API server certificate carries (kubeadm's set), before any given addresses. */
export const defaultApiserverDnsNames = ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];
export const defaultApiserverIpAddresses = ["127.0.0.1", "::1"];

const secretFileMode = 0o600;
const publicFileMode = 0o644;

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Write through a temporary file and rename, so a crash never leaves half a key behind. */
async function writeFileAtomic(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.writeFile(temporary, content, { mode });
  await fs.chmod(temporary, mode); // the umask may have narrowed or the file may have existed
  await fs.rename(temporary, file);
}

async function loadOrCreatePair(
  dir: string,
  baseName: string,
  create: () => Promise<CertificateAndKey>,
  isUsable: (pair: CertificateAndKey) => boolean,
): Promise<CertificateAndKey & { certPath: string; keyPath: string }> {
  const certPath = path.join(dir, `${baseName}.crt`);
  const keyPath = path.join(dir, `${baseName}.key`);
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined && isUsable({ certPem, keyPem })) return { certPem, keyPem, certPath, keyPath };
  const pair = await create();
  // The key first: a certificate on disk without its key would be taken as usable next time.
  await writeFileAtomic(keyPath, pair.keyPem, secretFileMode);
  await writeFileAtomic(certPath, pair.certPem, publicFileMode);
  return { ...pair, certPath, keyPath };
}

/**
 * Create, or load where they already exist, the cluster's PKI files under `dir`: ca.crt/ca.key,
 * apiserver.crt/.key, admin.crt/.key (CN=admin, O=system:masters), kube-scheduler and
 * kube-controller-manager client certificates, node-<name> client certificates and sa.key/sa.pub.
 * Idempotent: existing files are kept, except a certificate not signed by the CA on disk, or a
 * serving certificate that lacks one of the requested names, which is issued anew.
 */
export async function bootstrapPki(dir: string, options: BootstrapPkiOptions = {}): Promise<BootstrapPki> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const caPair = await loadOrCreatePair(
    dir,
    "ca",
    () => createCa(options.caName ?? "coxswain-ca"),
    () => true,
  );
  const ca: CertificateAuthority = { certPem: caPair.certPem, keyPem: caPair.keyPem };
  const signedByCa = (pair: CertificateAndKey): boolean => isIssuedBy(pair.certPem, ca.certPem);

  const requestedAddresses = options.apiserverAddresses ?? [];
  const dnsNames = unique([...defaultApiserverDnsNames, ...requestedAddresses.filter((a) => isIP(a) === 0)]);
  const ipAddresses = unique([...defaultApiserverIpAddresses, ...requestedAddresses.filter((a) => isIP(a) !== 0)]);
  const apiserver = await loadOrCreatePair(
    dir,
    "apiserver",
    () => issueServerCertificate(ca, { dnsNames, ipAddresses }),
    (pair) => {
      if (!signedByCa(pair)) return false;
      const present = certificateAlternativeNames(pair.certPem);
      return dnsNames.every((n) => present.dnsNames.includes(n)) && ipAddresses.every((ip) => present.ipAddresses.some((p) => sameIp(p, ip)));
    },
  );
  const client = (baseName: string, commonName: string, organizations: string[]) =>
    loadOrCreatePair(dir, baseName, () => issueClientCertificate(ca, { commonName, organizations }), signedByCa);
  const admin = await client("admin", "admin", [systemMastersGroup]);
  const scheduler = await client("kube-scheduler", schedulerUser, []);
  const controllerManager = await client("kube-controller-manager", controllerManagerUser, []);
  const nodes = new Map<string, CertificateAndKey & { certPath: string; keyPath: string }>();
  for (const nodeName of options.nodeNames ?? []) {
    assert(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName), "a node name is a DNS subdomain (it becomes a file name)");
    nodes.set(nodeName, await client(`node-${nodeName}`, `${nodeUserPrefix}${nodeName}`, [systemNodesGroup]));
  }

  const privateKeyPath = path.join(dir, "sa.key");
  const publicKeyPath = path.join(dir, "sa.pub");
  let privateKeyPem = await readIfExists(privateKeyPath);
  if (privateKeyPem === undefined) {
    const pair = await createSigningKeyPair();
    await writeFileAtomic(privateKeyPath, pair.privateKeyPem, secretFileMode);
    privateKeyPem = pair.privateKeyPem;
  }
  const publicKeyPem = publicKeyPemOf(privateKeyPem);
  if ((await readIfExists(publicKeyPath)) !== publicKeyPem) await writeFileAtomic(publicKeyPath, publicKeyPem, publicFileMode);

  return {
    dir,
    ca,
    caCertPath: caPair.certPath,
    caKeyPath: caPair.keyPath,
    apiserver,
    admin,
    scheduler,
    controllerManager,
    nodes,
    serviceAccountKey: { privateKeyPem, publicKeyPem, privateKeyPath, publicKeyPath },
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** `::1` and `0:0:0:0:0:0:0:1` are one address; the certificate parser may print either. */
function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  if (isIP(a) !== 6 || isIP(b) !== 6) return false;
  return expandIpv6(a) === expandIpv6(b);
}

function expandIpv6(address: string): string {
  const [head = "", tail = ""] = address.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = address.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const missing = 8 - headParts.length - tailParts.length;
  return [...headParts, ...Array<string>(Math.max(missing, 0)).fill("0"), ...tailParts].map((p) => p.replace(/^0+(?=.)/, "").toLowerCase()).join(":");
}
