/**
 * Kubeconfig files (clientcmd's `Config`, apiVersion v1) that kubectl, client-go and
 * @kubernetes/client-node read: one cluster, one user, one context, credentials embedded as
 * `*-data` fields so the file stands alone.
 *
 * A kubeconfig cluster has one `server`. Coxswain runs several API servers, so every endpoint is
 * also listed in a cluster extension named `coxswain.io/servers`, which kubectl keeps and ignores
 * and the Coxswain client reads to fail over.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { assert } from "@coxswain/raft";

export const serversExtensionName = "coxswain.io/servers";

export interface KubeconfigOptions {
  /** API server URLs (`https://127.0.0.1:6443`); the first is the cluster's `server`. */
  servers: readonly string[];
  caPem: string;
  /** Client certificate credentials ... */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** ... or a bearer token (a static token or a ServiceAccount token). */
  token?: string;
  /** The user entry's name, e.g. `admin`. */
  user: string;
  /** The context (and cluster) name, e.g. `coxswain`. */
  context: string;
  /** The context's default namespace. */
  namespace?: string;
}

interface NamedExtension {
  name: string;
  extension: Record<string, unknown>;
}

/** The kubeconfig document, field names as clientcmd/api/v1 spells them. */
export interface Kubeconfig {
  apiVersion: "v1";
  kind: "Config";
  preferences: Record<string, never>;
  clusters: { name: string; cluster: { server: string; "certificate-authority-data": string; extensions?: NamedExtension[] } }[];
  users: { name: string; user: { "client-certificate-data"?: string; "client-key-data"?: string; token?: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  "current-context": string;
}

function base64(pem: string): string {
  return Buffer.from(pem, "utf8").toString("base64");
}

export function buildKubeconfig(options: KubeconfigOptions): Kubeconfig {
  const [server] = options.servers;
  assert(server !== undefined, "a kubeconfig needs at least one server");
  const hasCertificate = options.clientCertPem !== undefined && options.clientKeyPem !== undefined;
  assert(hasCertificate || options.token !== undefined, "a kubeconfig user needs a client certificate and key, or a token");
  assert((options.clientCertPem === undefined) === (options.clientKeyPem === undefined), "a client certificate comes with its key");

  const user: Kubeconfig["users"][number]["user"] = {};
  if (options.clientCertPem !== undefined && options.clientKeyPem !== undefined) {
    user["client-certificate-data"] = base64(options.clientCertPem);
    user["client-key-data"] = base64(options.clientKeyPem);
  }
  if (options.token !== undefined) user.token = options.token;

  const cluster: Kubeconfig["clusters"][number]["cluster"] = { server, "certificate-authority-data": base64(options.caPem) };
  if (options.servers.length > 1) cluster.extensions = [{ name: serversExtensionName, extension: { servers: [...options.servers] } }];
  const context: Kubeconfig["contexts"][number]["context"] = { cluster: options.context, user: options.user };
  if (options.namespace !== undefined) context.namespace = options.namespace;

  return {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    clusters: [{ name: options.context, cluster }],
    users: [{ name: options.user, user }],
    contexts: [{ name: options.context, context }],
    "current-context": options.context,
  };
}

/** The kubeconfig as YAML text. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  return stringify(buildKubeconfig(options), { lineWidth: 0 });
}

/** Write a kubeconfig (mode 0600: it holds a private key or token), atomically. */
export async function writeKubeconfig(file: string, options: KubeconfigOptions): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await fs.writeFile(temporary, kubeconfigYaml(options), { mode: 0o600 });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
}
