/**
 * Client certificates for test users, issued with openssl from a cluster CA on disk (the one
 * `coxswain pki` made), and kubeconfigs that present them. Kubernetes reads the user from the
 * certificate's CN and the groups from its O entries.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { assert } from "@coxswain/raft";

const run = promisify(execFile);

export interface IssuedCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

/** A subject component openssl's -subj accepts without escaping. */
const SUBJECT_VALUE = /^[A-Za-z0-9:._@-]+$/;

/**
 * A client certificate for `user` in `groups`, signed by `caCertPath`/`caKeyPath`, valid one day,
 * written as `<dir>/<fileStem>.crt` and `.key`.
 */
export async function issueClientCertificate(options: {
  caCertPath: string;
  caKeyPath: string;
  dir: string;
  fileStem: string;
  user: string;
  groups?: readonly string[];
}): Promise<IssuedCertificate> {
  const groups = options.groups ?? [];
  for (const value of [options.user, ...groups]) assert(SUBJECT_VALUE.test(value), `certificate subject value ${JSON.stringify(value)} needs no escaping`);
  mkdirSync(options.dir, { recursive: true });
  const keyPath = join(options.dir, `${options.fileStem}.key`);
  const csrPath = join(options.dir, `${options.fileStem}.csr`);
  const certPath = join(options.dir, `${options.fileStem}.crt`);
  const extPath = join(options.dir, `${options.fileStem}.ext`);
  const subject = `/CN=${options.user}${groups.map((g) => `/O=${g}`).join("")}`;
  writeFileSync(extPath, "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n");
  await run("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    csrPath,
    "-subj",
    subject,
  ]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csrPath,
    "-CA",
    options.caCertPath,
    "-CAkey",
    options.caKeyPath,
    "-set_serial",
    `0x${randomBytes(8).toString("hex")}`,
    "-days",
    "1",
    "-extfile",
    extPath,
    "-out",
    certPath,
  ]);
  return { certPath, keyPath, certPem: readFileSync(certPath, "utf8"), keyPem: readFileSync(keyPath, "utf8") };
}

/** A kubeconfig with one cluster (the first server; kubectl uses one), one user and one context. */
export function writeKubeconfigFile(file: string, options: { server: string; caPem: string; certPem: string; keyPem: string; user: string }): void {
  const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: coxswain",
    "    cluster:",
    `      server: ${options.server}`,
    `      certificate-authority-data: ${b64(options.caPem)}`,
    "users:",
    `  - name: ${JSON.stringify(options.user)}`,
    "    user:",
    `      client-certificate-data: ${b64(options.certPem)}`,
    `      client-key-data: ${b64(options.keyPem)}`,
    "contexts:",
    "  - name: coxswain",
    "    context:",
    "      cluster: coxswain",
    `      user: ${JSON.stringify(options.user)}`,
    "current-context: coxswain",
    "",
  ].join("\n");
  writeFileSync(file, text, { mode: 0o600 });
}
