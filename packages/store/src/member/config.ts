/**
 * `coxswain store` configuration, from etcd's flag names (so a person who has run etcd can run a
 * member) — `--name`, `--data-dir`, `--listen-client-urls`, `--initial-cluster`, ... — with etcd's
 * defaults where they make sense. Bad flags are reported together, with the flag's name.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA for verifying the other side's certificate; required when clientCertAuth is on. */
  trustedCaFile: string | null;
  clientCertAuth: boolean;
}

export interface StoreConfig {
  name: string;
  dataDir: string;
  listenClientUrls: URL[];
  advertiseClientUrls: URL[];
  listenPeerUrls: URL[];
  initialAdvertisePeerUrls: URL[];
  /** name → peer URLs, from --initial-cluster. */
  initialCluster: Map<string, URL[]>;
  initialClusterState: "new" | "existing";
  initialClusterToken: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  snapshotCount: number;
  snapshotCatchupEntries: number;
  quotaBackendBytes: number;
  maxRequestBytes: number;
  maxTxnOps: number;
  listenMetricsUrls: URL[];
  clientTls: TlsFiles | null;
  peerTls: TlsFiles | null;
  logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** etcd's flags that `coxswain store` accepts, with their help text. */
export const STORE_FLAGS = {
  name: { type: "string", default: "default", help: "human-readable name for this member" },
  "data-dir": { type: "string", help: "path to the data directory (default: ${name}.etcd)" },
  "listen-client-urls": { type: "string", default: "http://localhost:2379", help: "comma-separated URLs to serve the etcd v3 gRPC API on" },
  "advertise-client-urls": { type: "string", help: "client URLs to publish to the cluster (default: the listen URLs)" },
  "listen-peer-urls": { type: "string", default: "http://localhost:2380", help: "URLs to serve Raft peer traffic on" },
  "initial-advertise-peer-urls": { type: "string", help: "this member's peer URLs to publish (default: the listen peer URLs)" },
  "initial-cluster": { type: "string", help: "initial cluster: name1=peerURL1,name2=peerURL2,... (default: ${name}=${initial-advertise-peer-urls})" },
  "initial-cluster-state": { type: "string", default: "new", help: "'new' to bootstrap a cluster, 'existing' to join one (after member add)" },
  "initial-cluster-token": { type: "string", default: "etcd-cluster", help: "cluster identity; members refuse peers with another token" },
  "heartbeat-interval": { type: "string", default: "100", help: "time (ms) of a heartbeat interval (one Raft tick)" },
  "election-timeout": { type: "string", default: "1000", help: "time (ms) for an election to time out" },
  "snapshot-count": { type: "string", default: "100000", help: "committed entries between two snapshots" },
  "experimental-snapshot-catchup-entries": {
    type: "string",
    default: "5000",
    help: "entries kept behind a snapshot so that slow followers catch up from the log (etcd 3.6's flag)",
  },
  "quota-backend-bytes": { type: "string", default: String(2 * 1024 * 1024 * 1024), help: "raise the NOSPACE alarm when the key space exceeds this size" },
  "max-request-bytes": { type: "string", default: String(1.5 * 1024 * 1024), help: "maximum client request size in bytes" },
  "max-txn-ops": { type: "string", default: "128", help: "maximum operations in one transaction" },
  "listen-metrics-urls": { type: "string", default: "", help: "extra URLs serving /metrics and /health (plain HTTP)" },
  "cert-file": { type: "string", default: "", help: "client server TLS certificate" },
  "key-file": { type: "string", default: "", help: "client server TLS key" },
  "client-cert-auth": { type: "boolean", default: false, help: "require client certificates signed by --trusted-ca-file" },
  "trusted-ca-file": { type: "string", default: "", help: "CA for client certificates" },
  "peer-cert-file": { type: "string", default: "", help: "peer TLS certificate" },
  "peer-key-file": { type: "string", default: "", help: "peer TLS key" },
  "peer-client-cert-auth": { type: "boolean", default: false, help: "require peer certificates signed by --peer-trusted-ca-file" },
  "peer-trusted-ca-file": { type: "string", default: "", help: "CA for peer certificates" },
  "log-level": { type: "string", default: "info", help: "debug, info, warn or error" },
  help: { type: "boolean", default: false, help: "show this help" },
} as const;

export function storeUsage(): string {
  const lines = ["Usage: coxswain store [flags]", "", "Runs one member of Coxswain's etcd-compatible store. Flags are etcd's:", ""];
  for (const [flag, spec] of Object.entries(STORE_FLAGS)) {
    const def = "default" in spec && spec.default !== "" && spec.default !== false ? ` (default ${String(spec.default)})` : "";
    lines.push(`  --${flag.padEnd(28)} ${spec.help}${def}`);
  }
  return lines.join("\n");
}

function urls(flag: string, value: string, errors: string[]): URL[] {
  const out: URL[] = [];
  for (const part of value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    try {
      const u = new URL(part);
      if (u.protocol !== "http:" && u.protocol !== "https:" && u.protocol !== "unix:") throw new Error("scheme must be http or https");
      if (u.port === "" && u.protocol !== "unix:") throw new Error("a port is required");
      out.push(u);
    } catch (err) {
      errors.push(`--${flag}: invalid URL ${JSON.stringify(part)}: ${(err as Error).message}`);
    }
  }
  return out;
}

function positiveInt(flag: string, value: string, errors: string[]): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) errors.push(`--${flag}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function tls(certFile: string, keyFile: string, caFile: string, clientCertAuth: boolean, prefix: string, errors: string[]): TlsFiles | null {
  if (certFile === "" && keyFile === "") {
    if (clientCertAuth) errors.push(`--${prefix}client-cert-auth needs --${prefix}cert-file and --${prefix}key-file`);
    return null;
  }
  if (certFile === "" || keyFile === "") errors.push(`--${prefix}cert-file and --${prefix}key-file go together`);
  if (clientCertAuth && caFile === "") errors.push(`--${prefix}client-cert-auth needs --${prefix}trusted-ca-file`);
  return { certFile, keyFile, trustedCaFile: caFile === "" ? null : caFile, clientCertAuth };
}

export function parseStoreFlags(argv: string[]): StoreConfig & { help: boolean } {
  type Option = { type: "string" | "boolean"; default?: string | boolean };
  const options: Record<string, Option> = {};
  for (const [k, v] of Object.entries(STORE_FLAGS)) options[k] = "default" in v ? { type: v.type, default: v.default } : { type: v.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const str = (k: string): string => String(values[k] ?? "");
  const errors: string[] = [];
  const name = str("name");
  const listenClientUrls = urls("listen-client-urls", str("listen-client-urls"), errors);
  const listenPeerUrls = urls("listen-peer-urls", str("listen-peer-urls"), errors);
  const advertiseClientUrls =
    values["advertise-client-urls"] !== undefined ? urls("advertise-client-urls", str("advertise-client-urls"), errors) : listenClientUrls;
  const initialAdvertisePeerUrls =
    values["initial-advertise-peer-urls"] !== undefined ? urls("initial-advertise-peer-urls", str("initial-advertise-peer-urls"), errors) : listenPeerUrls;
  const clusterSpec =
    values["initial-cluster"] !== undefined ? str("initial-cluster") : `${name}=${initialAdvertisePeerUrls.map((u) => u.origin).join(`,${name}=`)}`;
  const initialCluster = new Map<string, URL[]>();
  for (const part of clusterSpec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      errors.push(`--initial-cluster: expected name=URL, got ${JSON.stringify(part)}`);
      continue;
    }
    const member = part.slice(0, eq);
    const list = initialCluster.get(member) ?? [];
    list.push(...urls("initial-cluster", part.slice(eq + 1), errors));
    initialCluster.set(member, list);
  }
  if (!initialCluster.has(name)) errors.push(`--initial-cluster does not contain this member's name ${JSON.stringify(name)}`);
  const state = str("initial-cluster-state");
  if (state !== "new" && state !== "existing") errors.push(`--initial-cluster-state: expected 'new' or 'existing', got ${JSON.stringify(state)}`);
  const heartbeatIntervalMs = positiveInt("heartbeat-interval", str("heartbeat-interval"), errors);
  const electionTimeoutMs = positiveInt("election-timeout", str("election-timeout"), errors);
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) errors.push("--election-timeout should be at least 5 times --heartbeat-interval");
  const clientTls = tls(str("cert-file"), str("key-file"), str("trusted-ca-file"), values["client-cert-auth"] === true, "", errors);
  const peerTls = tls(str("peer-cert-file"), str("peer-key-file"), str("peer-trusted-ca-file"), values["peer-client-cert-auth"] === true, "peer-", errors);
  for (const u of listenClientUrls)
    if (u.protocol === "https:" && clientTls === null) errors.push(`--listen-client-urls ${u.href} is https but --cert-file/--key-file are not set`);
  for (const u of listenPeerUrls)
    if (u.protocol === "https:" && peerTls === null) errors.push(`--listen-peer-urls ${u.href} is https but --peer-cert-file/--peer-key-file are not set`);
  const config = {
    help: values["help"] === true,
    name,
    dataDir: values["data-dir"] !== undefined ? str("data-dir") : `${name}.etcd`,
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state as "new" | "existing",
    initialClusterToken: str("initial-cluster-token"),
    heartbeatIntervalMs,
    electionTimeoutMs,
    snapshotCount: positiveInt("snapshot-count", str("snapshot-count"), errors),
    snapshotCatchupEntries: positiveInt("experimental-snapshot-catchup-entries", str("experimental-snapshot-catchup-entries"), errors),
    quotaBackendBytes: positiveInt("quota-backend-bytes", str("quota-backend-bytes"), errors),
    maxRequestBytes: positiveInt("max-request-bytes", str("max-request-bytes"), errors),
    maxTxnOps: positiveInt("max-txn-ops", str("max-txn-ops"), errors),
    listenMetricsUrls: str("listen-metrics-urls") === "" ? [] : urls("listen-metrics-urls", str("listen-metrics-urls"), errors),
    clientTls,
    peerTls,
    logLevel: str("log-level"),
  };
  if (errors.length > 0 && !config.help) throw new ConfigError(errors.join("\n"));
  return config;
}

/**
 * A member's id, derived like etcd's from its peer URLs and the cluster token, so that every
 * member computes the same ids for the initial cluster. Below 2^53 (docs/decisions/64-bit-integers.md).
 */
export function memberIdFor(peerUrls: URL[], clusterToken: string): number {
  const h = createHash("sha256");
  for (const u of [...peerUrls].map((x) => x.origin).sort()) h.update(u);
  h.update(clusterToken);
  const id = h.digest().readBigUInt64BE(0) & ((1n << 53n) - 1n);
  return Number(id === 0n ? 1n : id);
}

export function clusterIdFor(initialCluster: Map<string, URL[]>, clusterToken: string): number {
  const ids = [...initialCluster.values()].map((u) => memberIdFor(u, clusterToken)).sort((a, b) => a - b);
  const h = createHash("sha256").update(ids.join(",")).update(clusterToken).digest();
  const id = h.readBigUInt64BE(0) & ((1n << 53n) - 1n);
  return Number(id === 0n ? 1n : id);
}

/** host:port for gRPC from a URL (IPv6 hosts keep their brackets). */
export function hostPort(u: URL): string {
  return `${u.hostname}:${u.port}`;
}
