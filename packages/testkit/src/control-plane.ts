/**
 * A control plane as real processes on 127.0.0.1, laid out in one temporary directory: a store
 * cluster (3 Coxswain members by default, or real etcd), the cluster PKI and an admin kubeconfig
 * made by `coxswain pki`, and N API servers (`coxswain apiserver`) on that store — the same start
 * sequence as deploy/local/cluster.sh. API servers can be killed with kill -9 and restarted.
 *
 *   <baseDir>/store/m1..m3, m1.log ...     store members
 *   <baseDir>/pki/                         ca.crt/key, apiserver.crt/key, admin.crt/key, sa.key/pub
 *   <baseDir>/kubeconfig                   admin (CN=admin, O=system:masters), every server listed
 *   <baseDir>/apiserver-1.log ...          API server logs
 *   <baseDir>/users/<name>.{crt,key,kubeconfig}   users added by addUser
 *   <baseDir>/kubectl-cache/               kubectl's discovery cache
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { assert } from "@coxswain/raft";
import { issueClientCertificate, writeKubeconfigFile } from "./certificates.js";
import { type ClientCredentials, HttpsClient } from "./https-client.js";
import { Kubectl } from "./kubectl.js";
import { REPO_ROOT, coxswainBinary } from "./paths.js";
import { freePorts } from "./ports.js";
import { ManagedProcess, type UnexpectedExit, holdBaseDir, releaseBaseDir } from "./processes.js";
import { ClusterStartError, StoreCluster, type Target, missingTargetPiece } from "./store-cluster.js";
import { waitFor } from "./time.js";

const run = promisify(execFile);

export interface ControlPlaneOptions {
  /** Default 2. */
  apiServerCount?: number;
  /** Default "coxswain"; "etcd" runs the API servers on real etcd. */
  storeTarget?: Target;
  /** Default 3. */
  storeMemberCount?: number;
  /** More flags for every API server (e.g. `--watch-cache-events=50`). */
  apiServerFlags?: string[];
  /** Default: found from this package's location. */
  repoRoot?: string;
  /** Progress lines (one per lifecycle event). Default: none. */
  log?: (line: string) => void;
}

/** How long an API server may take to answer /readyz 200 after being started. */
const API_SERVER_READY_TIMEOUT_MS = 60_000;
const READY_POLL_INTERVAL_MS = 200;

export class ApiServerProcess extends ManagedProcess {
  constructor(
    readonly index: number,
    name: string,
    readonly port: number,
    logPath: string,
  ) {
    super(name, logPath);
  }

  get url(): string {
    return serverUrl(this.port);
  }
}

function serverUrl(port: number): string {
  return `https://127.0.0.1:${port}`;
}

/** `coxswain pki`: the CA, the certificates and the admin kubeconfig; returns the admin's credentials. */
async function makePki(repoRoot: string, pkiDir: string, kubeconfigPath: string, servers: string[]): Promise<ClientCredentials> {
  await run(coxswainBinary(repoRoot), ["pki", "--dir", pkiDir, "--kubeconfig", kubeconfigPath, "--servers", servers.join(",")]);
  const read = (name: string): string => readFileSync(join(pkiDir, name), "utf8");
  return { caPem: read("ca.crt"), certPem: read("admin.crt"), keyPem: read("admin.key") };
}

/** A user with a client certificate from the cluster CA, and the ways to act as that user. */
export interface TestUser {
  name: string;
  groups: readonly string[];
  credentials: ClientCredentials;
  kubeconfigPath: string;
  kubectl: Kubectl;
}

export class ControlPlane {
  readonly apiServers: ApiServerProcess[];
  readonly pkiDir: string;
  readonly kubeconfigPath: string;
  readonly kubectlCacheDir: string;
  private readonly unexpectedApiServerExits: UnexpectedExit[] = [];
  private readonly clients: HttpsClient[] = [];
  private stopped = false;

  private constructor(
    readonly baseDir: string,
    readonly store: StoreCluster,
    ports: number[],
    readonly admin: ClientCredentials,
    private readonly apiServerFlags: readonly string[],
    private readonly repoRoot: string,
    private readonly log: (line: string) => void,
  ) {
    this.pkiDir = join(baseDir, "pki");
    this.kubeconfigPath = join(baseDir, "kubeconfig");
    this.kubectlCacheDir = join(baseDir, "kubectl-cache");
    this.apiServers = ports.map((port, i) => new ApiServerProcess(i, `apiserver-${i + 1}`, port, join(baseDir, `apiserver-${i + 1}.log`)));
    mkdirSync(this.kubectlCacheDir, { recursive: true });
  }

  /** Starts the store, makes the PKI and kubeconfig, starts the API servers and waits until every one is ready. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const target = options.storeTarget ?? "coxswain";
    const repoRoot = options.repoRoot ?? REPO_ROOT;
    const apiServerCount = options.apiServerCount ?? 2;
    assert(apiServerCount >= 1, "a control plane has at least one API server");
    // The API server runs from the launcher too, whatever the store is.
    const missing = missingTargetPiece("coxswain", repoRoot) ?? missingTargetPiece(target, repoRoot);
    if (missing !== null) throw new ClusterStartError(`cannot start a control plane: missing ${missing.what}`);
    const log = options.log ?? (() => {});
    const baseDir = mkdtempSync(join(tmpdir(), "coxswain-controlplane-"));
    holdBaseDir(baseDir);
    let store: StoreCluster;
    try {
      store = await StoreCluster.start({ target, memberCount: options.storeMemberCount ?? 3, baseDir: join(baseDir, "store"), repoRoot, log });
    } catch (err) {
      releaseBaseDir(baseDir);
      throw err;
    }
    let plane: ControlPlane;
    try {
      const ports = await freePorts(apiServerCount);
      const admin = await makePki(repoRoot, join(baseDir, "pki"), join(baseDir, "kubeconfig"), ports.map(serverUrl));
      plane = new ControlPlane(baseDir, store, ports, admin, options.apiServerFlags ?? [], repoRoot, log);
    } catch (err) {
      await store.stop({ keepData: true });
      releaseBaseDir(baseDir);
      throw err;
    }
    try {
      for (const server of plane.apiServers) plane.spawnApiServer(server);
      await Promise.all(plane.apiServers.map((s) => plane.waitReady(s.index)));
      log(`control plane up in ${baseDir}: store ${store.endpoints().join(",")}, API servers ${plane.serverUrls.join(",")}`);
    } catch (err) {
      await plane.stop({ keepData: true });
      throw err;
    }
    return plane;
  }

  get serverUrls(): string[] {
    return this.apiServers.map((s) => s.url);
  }

  apiServer(index: number): ApiServerProcess {
    const server = this.apiServers[index];
    assert(server !== undefined, "API server index within the control plane");
    return server;
  }

  /** Exits nobody asked for: store members and API servers. */
  get unexpectedExits(): UnexpectedExit[] {
    return [...this.store.unexpectedExits, ...this.unexpectedApiServerExits];
  }

  /** Raw HTTPS to API server `index` as the admin (or `credentials`); closed by `stop()`. */
  client(index = 0, credentials: ClientCredentials = this.admin): HttpsClient {
    const client = new HttpsClient(this.apiServer(index).url, credentials);
    this.clients.push(client);
    return client;
  }

  /** kubectl with the admin kubeconfig, against API server `index` (default: the kubeconfig's, the first). */
  kubectl(index?: number): Kubectl {
    return new Kubectl(this.kubeconfigPath, this.kubectlCacheDir, index === undefined ? undefined : this.apiServer(index).url);
  }

  /** A user `name` in `groups` with a client certificate from the cluster CA and a kubeconfig for API server 0. */
  async addUser(name: string, groups: readonly string[] = []): Promise<TestUser> {
    const dir = join(this.baseDir, "users");
    const cert = await issueClientCertificate({
      caCertPath: join(this.pkiDir, "ca.crt"),
      caKeyPath: join(this.pkiDir, "ca.key"),
      dir,
      fileStem: name.replace(/[^A-Za-z0-9._-]/g, "_"),
      user: name,
      groups,
    });
    const kubeconfigPath = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, "_")}.kubeconfig`);
    writeKubeconfigFile(kubeconfigPath, { server: this.apiServer(0).url, caPem: this.admin.caPem, certPem: cert.certPem, keyPem: cert.keyPem, user: name });
    return {
      name,
      groups,
      credentials: { caPem: this.admin.caPem, certPem: cert.certPem, keyPem: cert.keyPem },
      kubeconfigPath,
      kubectl: new Kubectl(kubeconfigPath, this.kubectlCacheDir),
    };
  }

  /** kill -9 of API server `index`: no chance to finish requests or say goodbye. */
  killApiServer(index: number): void {
    const server = this.apiServer(index);
    server.kill();
    this.log(`kill -9 ${server.name} (pid ${server.pid})`);
  }

  /** Starts a killed API server again on the same port and waits until it is ready. */
  async restartApiServer(index: number): Promise<void> {
    const server = this.apiServer(index);
    assert(server.state === "killed", "restart a killed API server");
    await server.exited;
    this.spawnApiServer(server);
    this.log(`restart ${server.name} (pid ${server.pid})`);
    await this.waitReady(index);
  }

  /** Waits until API server `index` answers GET /readyz with 200 (its watch cache is synced). */
  async waitReady(index: number, timeoutMs = API_SERVER_READY_TIMEOUT_MS): Promise<void> {
    const server = this.apiServer(index);
    const probe = new HttpsClient(server.url, { caPem: this.admin.caPem });
    try {
      await waitFor(
        `${server.name} ready (log ${server.logPath})`,
        async () => {
          const crash = this.unexpectedApiServerExits.find((e) => e.name === server.name);
          if (crash !== undefined) throw new ClusterStartError(`${server.name} exited (code ${crash.code}, signal ${crash.signal}):\n${crash.logTail}`);
          const response = await probe.request({ method: "GET", path: "/readyz", accept: "text/plain", timeoutMs: 2000 });
          return response.status === 200 ? true : undefined;
        },
        { timeoutMs, intervalMs: READY_POLL_INTERVAL_MS },
      );
    } finally {
      probe.close();
    }
  }

  /** Kills every process; removes the directory unless `keepData`. Idempotent. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const client of this.clients) client.close();
      await Promise.all(this.apiServers.map((s) => s.stop()));
      await this.store.stop({ keepData: options.keepData === true });
      releaseBaseDir(this.baseDir);
    }
    if (options.keepData === true) this.log(`data and logs kept in ${this.baseDir}`);
    else rmSync(this.baseDir, { recursive: true, force: true });
  }

  private spawnApiServer(server: ApiServerProcess): void {
    const pki = (name: string): string => join(this.pkiDir, name);
    const args = [
      "apiserver",
      "--bind-address=127.0.0.1",
      `--secure-port=${server.port}`,
      `--store-endpoints=${this.store.endpoints().join(",")}`,
      `--tls-cert-file=${pki("apiserver.crt")}`,
      `--tls-private-key-file=${pki("apiserver.key")}`,
      `--client-ca-file=${pki("ca.crt")}`,
      `--service-account-key-file=${pki("sa.pub")}`,
      `--service-account-signing-key-file=${pki("sa.key")}`,
      ...this.apiServerFlags,
    ];
    server.start(coxswainBinary(this.repoRoot), args, {
      env: { ...process.env, COXSWAIN_LOG_LEVEL: process.env["COXSWAIN_LOG_LEVEL"] ?? "info" },
      onUnexpectedExit: (exit) => {
        this.unexpectedApiServerExits.push(exit);
        this.log(`${server.name} exited on its own (code ${exit.code}, signal ${exit.signal}); log ${server.logPath}`);
      },
    });
  }
}
