/**
 * `coxswain apiserver` flags, named as kube-apiserver names them where the meaning is the same
 * (--secure-port, --bind-address, --tls-cert-file, --client-ca-file, --token-auth-file,
 * --service-account-key-file, --etcd-servers, --etcd-prefix, ...), plus --store-endpoints as the
 * design's name for --etcd-servers.
 */
import { parseArgs } from "node:util";

export interface ApiServerConfig {
  bindAddress: string;
  securePort: number;
  grpcPort: number;
  advertiseAddress: string;
  storeEndpoints: string[];
  storePrefix: string;
  storeCaFile: string;
  storeCertFile: string;
  storeKeyFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCaFile: string;
  tokenAuthFile: string;
  serviceAccountKeyFiles: string[];
  serviceAccountSigningKeyFile: string;
  serviceAccountIssuer: string;
  watchCacheEventsMax: number;
  logLevel: string;
  help: boolean;
}

export class ApiServerConfigError extends Error {
  override readonly name = "ApiServerConfigError";
}

export const APISERVER_FLAGS = {
  "bind-address": { type: "string", default: "127.0.0.1", help: "address to serve HTTPS on" },
  "secure-port": { type: "string", default: "6443", help: "port to serve HTTPS on" },
  "grpc-port": { type: "string", default: "0", help: "port of the gRPC API for components (mutual TLS); 0 disables it" },
  "advertise-address": { type: "string", default: "", help: "address published to clients (default: --bind-address)" },
  "store-endpoints": { type: "string", default: "", help: "comma-separated host:port (or URLs) of the store (etcd v3 API)" },
  "etcd-servers": { type: "string", default: "", help: "same as --store-endpoints (kube-apiserver's name)" },
  "etcd-prefix": { type: "string", default: "/registry", help: "key prefix of every object in the store" },
  "etcd-cafile": { type: "string", default: "", help: "CA for the store's TLS" },
  "etcd-certfile": { type: "string", default: "", help: "client certificate for the store" },
  "etcd-keyfile": { type: "string", default: "", help: "client key for the store" },
  "tls-cert-file": { type: "string", default: "", help: "serving certificate (PEM)" },
  "tls-private-key-file": { type: "string", default: "", help: "serving key (PEM)" },
  "client-ca-file": { type: "string", default: "", help: "CA whose client certificates authenticate users (CN = user, O = groups)" },
  "token-auth-file": { type: "string", default: "", help: 'static bearer tokens, CSV: token,user,uid,"group1,group2"' },
  "service-account-key-file": { type: "string", default: "", help: "comma-separated public keys that verify ServiceAccount tokens" },
  "service-account-signing-key-file": { type: "string", default: "", help: "private key that signs ServiceAccount tokens" },
  "service-account-issuer": { type: "string", default: "https://kubernetes.default.svc.cluster.local", help: "iss claim of ServiceAccount tokens" },
  "watch-cache-events": { type: "string", default: "1000", help: "recent events kept per resource for watches resuming from a resourceVersion" },
  "log-level": { type: "string", default: "info", help: "debug, info, warn or error" },
  help: { type: "boolean", default: false, help: "show this help" },
} as const;

export function apiServerUsage(): string {
  const lines = ["Usage: coxswain apiserver [flags]", "", "Serves the Kubernetes API over HTTPS, storing objects in the etcd-compatible store.", ""];
  for (const [flag, spec] of Object.entries(APISERVER_FLAGS)) {
    const def = spec.default !== "" && spec.default !== false ? ` (default ${String(spec.default)})` : "";
    lines.push(`  --${flag.padEnd(34)} ${spec.help}${def}`);
  }
  return lines.join("\n");
}

export function parseApiServerFlags(argv: string[]): ApiServerConfig {
  const options: Record<string, { type: "string" | "boolean"; default: string | boolean }> = {};
  for (const [k, v] of Object.entries(APISERVER_FLAGS)) options[k] = { type: v.type, default: v.default };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new ApiServerConfigError((err as Error).message);
  }
  const str = (k: string): string => String(values[k] ?? "");
  const help = values["help"] === true;
  const errors: string[] = [];
  const endpoints = (str("store-endpoints") || str("etcd-servers"))
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const port = Number(str("secure-port"));
  if (!Number.isInteger(port) || port < 0 || port > 65535) errors.push(`--secure-port: not a port: ${str("secure-port")}`);
  const grpcPort = Number(str("grpc-port"));
  if (!Number.isInteger(grpcPort) || grpcPort < 0 || grpcPort > 65535) errors.push(`--grpc-port: not a port: ${str("grpc-port")}`);
  const watchEvents = Number(str("watch-cache-events"));
  if (!Number.isInteger(watchEvents) || watchEvents < 1) errors.push(`--watch-cache-events: expected a positive integer`);
  if (!help) {
    if (endpoints.length === 0) errors.push("--store-endpoints (or --etcd-servers) is required");
    if (str("tls-cert-file") === "" || str("tls-private-key-file") === "") errors.push("--tls-cert-file and --tls-private-key-file are required (HTTPS only)");
    if (str("client-ca-file") === "") errors.push("--client-ca-file is required (client certificates are how components authenticate)");
  }
  if (errors.length > 0 && !help) throw new ApiServerConfigError(errors.join("\n"));
  return {
    bindAddress: str("bind-address"),
    securePort: port,
    grpcPort,
    advertiseAddress: str("advertise-address") || str("bind-address"),
    storeEndpoints: endpoints,
    storePrefix: `${str("etcd-prefix").replace(/\/+$/, "")}/`,
    storeCaFile: str("etcd-cafile"),
    storeCertFile: str("etcd-certfile"),
    storeKeyFile: str("etcd-keyfile"),
    tlsCertFile: str("tls-cert-file"),
    tlsPrivateKeyFile: str("tls-private-key-file"),
    clientCaFile: str("client-ca-file"),
    tokenAuthFile: str("token-auth-file"),
    serviceAccountKeyFiles: str("service-account-key-file")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    serviceAccountSigningKeyFile: str("service-account-signing-key-file"),
    serviceAccountIssuer: str("service-account-issuer"),
    watchCacheEventsMax: watchEvents,
    logLevel: str("log-level"),
    help,
  };
}
