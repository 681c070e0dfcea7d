/**
 * One API server: the store connection and watch cache, authentication (client certificates,
 * static tokens, ServiceAccount tokens), RBAC fed from the watch cache, the admission chain, the
 * REST front end over HTTPS, and the objects every cluster starts with (system namespaces,
 * bootstrap RBAC policy). Stateless: any number run against the same store.
 */
import { readFileSync } from "node:fs";
import { ApiStatusError, type ClusterRole, type ClusterRoleBinding, type KubeObject, type Namespace, type ServiceAccount, findResource } from "@coxswain/api";
import { type Logger, createLogger } from "@coxswain/raft";
import { Registry, collectDefaultMetrics } from "prom-client";
import { defaultAdmissionChain } from "../admission/index.js";
import { ensureBootstrapPolicy } from "../auth/bootstrap-policy.js";
import { RequestAuthenticator } from "../auth/authenticate.js";
import { RbacAuthorizer } from "../auth/rbac.js";
import { authorizationAttributesOf } from "../auth/request-info.js";
import { ServiceAccountTokenAuthenticator } from "../auth/serviceaccount-token.js";
import { StaticTokenAuthenticator } from "../auth/token-file.js";
import { X509Authenticator } from "../auth/x509-authenticator.js";
import * as grpc from "@grpc/grpc-js";
import { ApiServiceDefinition, apiServiceImplementation } from "../grpc/api-service.js";
import { HttpFrontEnd, RawResponse, type VersionInfo } from "../rest/http-server.js";
import { OpenApiRoutes } from "../openapi/routes.js";
import type { Admission, Authenticator, Authorizer } from "../rest/ports.js";
import { ResourceHandler } from "../rest/resource-handler.js";
import { Cacher } from "../storage/cacher.js";
import { EtcdClient } from "../storage/etcd-client.js";
import { Store } from "../storage/store.js";
import { WatchCache } from "../storage/watch-cache.js";
import type { ApiServerConfig } from "./config.js";
import { RbacCache } from "./rbac-cache.js";
import { CacherStorage } from "./storage-adapter.js";

/** The Kubernetes release whose API this serves (kubectl picks its behaviour from it). */
export const KUBERNETES_VERSION: VersionInfo = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0",
  gitCommit: "coxswain",
  gitTreeState: "clean",
  buildDate: "2026-11-25T00:00:00Z",
  goVersion: `node${process.versions.node}`,
  compiler: "tsc",
  platform: `${process.platform}/${process.arch}`,
};

/** Namespaces every cluster has (Kubernetes' system namespaces controller creates them). */
const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
const WATCH_CACHE_READY_TIMEOUT_MS = 30_000;
/** kube-apiserver compacts the store every 5 minutes, keeping one interval of history. */
const COMPACTION_INTERVAL_MS = 5 * 60 * 1000;

export class ApiServer {
  readonly logger: Logger;
  readonly registry = new Registry();
  private readonly client: EtcdClient;
  private readonly cache: WatchCache;
  readonly cacher: Cacher;
  private readonly rbac: RbacCache;
  readonly http: HttpFrontEnd;
  private grpcServer: grpc.Server | null = null;
  private compactionTimer: NodeJS.Timeout | null = null;
  private readonly resources: ResourceHandler;
  private readonly authn: Authenticator;
  private readonly authz: Authorizer;

  constructor(private readonly config: ApiServerConfig) {
    this.logger = createLogger("apiserver", { address: `${config.advertiseAddress}:${config.securePort}` });
    collectDefaultMetrics({ register: this.registry });
    const tls =
      config.storeCaFile !== "" || config.storeCertFile !== ""
        ? {
            ...(config.storeCaFile !== "" ? { caPem: readFileSync(config.storeCaFile) } : {}),
            ...(config.storeCertFile !== "" ? { certPem: readFileSync(config.storeCertFile), keyPem: readFileSync(config.storeKeyFile) } : {}),
          }
        : undefined;
    this.client = new EtcdClient({ endpoints: config.storeEndpoints, logger: this.logger, ...(tls !== undefined ? { tls } : {}) });
    const store = new Store(this.client, { prefix: config.storePrefix });
    this.cache = new WatchCache(this.client, { prefix: config.storePrefix, watchCacheEventsMax: config.watchCacheEventsMax, logger: this.logger });
    this.cacher = new Cacher(store, this.cache);
    this.rbac = new RbacCache(this.cacher, this.logger);
    const storage = new CacherStorage(this.cacher);
    const resources = new ResourceHandler({ storage, admission: this.admission() });
    this.resources = resources;
    this.authn = this.authenticator();
    this.authz = this.authorizer();
    const openApi = new OpenApiRoutes();
    this.http = new HttpFrontEnd({
      host: config.bindAddress,
      port: config.securePort,
      tls: { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsPrivateKeyFile), ca: readFileSync(config.clientCaFile) },
      authenticator: this.authn,
      authorizer: this.authz,
      resources,
      version: KUBERNETES_VERSION,
      logger: this.logger,
      registry: this.registry,
      ready: () => this.cache.ready,
      nonResourceRoutes: (request) => {
        if (request.path === "/metrics")
          return this.registry.metrics().then((text) => new RawResponse(200, { "content-type": this.registry.contentType }, text));
        const doc = openApi.respond(request);
        return doc === undefined ? undefined : new RawResponse(doc.status, doc.headers, doc.body);
      },
    });
  }

  private cached<T extends KubeObject>(group: string, plural: string, namespace: string | undefined, name: string): Promise<T | undefined> {
    const r = findResource(group, "v1", plural);
    if (r === undefined) return Promise.resolve(undefined);
    return this.cacher.get(r, namespace, name, { resourceVersion: "0" }).then(
      (o) => o as T,
      (err: unknown) => {
        if (err instanceof ApiStatusError && err.code === 404) return undefined;
        throw err;
      },
    );
  }

  private authenticator(): Authenticator {
    const c = this.config;
    const saKeys = [
      ...c.serviceAccountKeyFiles.map((f) => readFileSync(f, "utf8")),
      ...(c.serviceAccountSigningKeyFile !== "" ? [readFileSync(c.serviceAccountSigningKeyFile, "utf8")] : []),
    ];
    const inner = new RequestAuthenticator({
      x509: new X509Authenticator([readFileSync(c.clientCaFile, "utf8")]),
      ...(c.tokenAuthFile !== "" ? { tokenFile: StaticTokenAuthenticator.fromCsv(readFileSync(c.tokenAuthFile, "utf8"), c.tokenAuthFile) } : {}),
      ...(saKeys.length > 0
        ? {
            serviceAccountTokens: new ServiceAccountTokenAuthenticator({
              publicKeyPems: saKeys,
              issuers: [c.serviceAccountIssuer],
              lookups: { getServiceAccount: (ns, name) => this.cached<ServiceAccount>("", "serviceaccounts", ns, name) },
            }),
          }
        : {}),
    });
    return {
      authenticate: async (request) => {
        const result = await inner.authenticate({
          ...(request.peerCertificateDer !== undefined ? { peerCertificate: request.peerCertificateDer } : {}),
          ...(request.authorizationHeader !== undefined ? { authorizationHeader: request.authorizationHeader } : {}),
        });
        if (!result.authenticated) throw new ApiStatusError(result.status);
        return result.user;
      },
    };
  }

  private authorizer(): Authorizer {
    const rbac = new RbacAuthorizer(this.rbac);
    return {
      authorize: async (a) => {
        const info = a.isResourceRequest
          ? {
              isResourceRequest: true as const,
              verb: a.verb,
              apiGroup: a.apiGroup,
              apiVersion: a.apiVersion,
              namespace: a.namespace,
              resource: a.resource,
              subresource: a.subresource,
              name: a.name,
            }
          : { isResourceRequest: false as const, verb: a.verb, path: a.path };
        const decision = rbac.authorize(authorizationAttributesOf(a.user, info));
        return { allowed: decision.allowed, reason: decision.allowed ? "" : decision.reason };
      },
    };
  }

  private admission(): Admission {
    const chain = defaultAdmissionChain({
      getNamespace: (name) => this.cached<Namespace>("", "namespaces", undefined, name),
      getServiceAccount: (ns, name) => this.cached<ServiceAccount>("", "serviceaccounts", ns, name),
      // Until the ServiceAccount controller and the agent's token volumes exist (issue 5), pods
      // do not require a ServiceAccount object and get no token volume.
      requireServiceAccount: false,
      mountServiceAccountToken: false,
    });
    return {
      admit: async (req) => {
        const attributes = {
          operation: req.operation,
          resource: { group: req.resource.group, version: req.resource.version, resource: req.resource.plural },
          subresource: req.subresource,
          kind: { group: req.resource.group, version: req.resource.version, kind: req.resource.kind },
          namespace: req.namespace,
          name: req.name,
          ...(req.object !== null ? { object: req.object } : {}),
          ...(req.oldObject !== null ? { oldObject: req.oldObject } : {}),
          user: req.user,
          dryRun: false,
        };
        await chain.admit(attributes);
        await chain.validate(attributes);
      },
    };
  }

  async start(): Promise<void> {
    this.cache.start();
    this.rbac.start();
    if (!(await this.cache.whenReady(WATCH_CACHE_READY_TIMEOUT_MS))) this.logger.warn("watch cache not ready yet; serving from the store meanwhile");
    await this.bootstrapObjects();
    await this.http.listen();
    if (this.config.grpcPort !== 0) await this.listenGrpc();
    this.scheduleCompaction();
    this.logger.info({ port: this.http.port, grpcPort: this.config.grpcPort, store: this.config.storeEndpoints }, "API server listening");
  }

  /**
   * Compacts the store's history as kube-apiserver does: every interval, up to the revision seen
   * at the previous tick, so watchers and paged lists keep at least one interval of history. Every
   * API server does it; a second compaction at the same revision fails harmlessly.
   */
  private scheduleCompaction(): void {
    let previous = 0;
    this.compactionTimer = setInterval(() => {
      void (async () => {
        try {
          const current = await this.client.currentRevision();
          if (previous > 0) await this.client.compact(previous);
          previous = current;
        } catch (err) {
          this.logger.debug({ err }, "compaction skipped");
        }
      })();
    }, COMPACTION_INTERVAL_MS);
    this.compactionTimer.unref();
  }

  /** The gRPC API for components, on mutual TLS with the cluster CA (client certificates required). */
  private async listenGrpc(): Promise<void> {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 3 * 1024 * 1024 });
    server.addService(
      ApiServiceDefinition,
      apiServiceImplementation({ authenticator: this.authn, authorizer: this.authz, resources: this.resources, logger: this.logger }),
    );
    const c = this.config;
    const creds = grpc.ServerCredentials.createSsl(
      readFileSync(c.clientCaFile),
      [{ cert_chain: readFileSync(c.tlsCertFile), private_key: readFileSync(c.tlsPrivateKeyFile) }],
      true,
    );
    await new Promise<void>((resolve, reject) => server.bindAsync(`${c.bindAddress}:${c.grpcPort}`, creds, (err) => (err ? reject(err) : resolve())));
    this.grpcServer = server;
  }

  /** System namespaces and the bootstrap RBAC policy; safe from several API servers at once. */
  private async bootstrapObjects(): Promise<void> {
    const nsResource = findResource("", "v1", "namespaces")!;
    for (const name of SYSTEM_NAMESPACES) {
      const exists = await this.cacher.get(nsResource, undefined, name).then(
        () => true,
        () => false,
      );
      if (exists) continue;
      await this.cacher
        .create(nsResource, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name,
            uid: crypto.randomUUID(),
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            labels: { "kubernetes.io/metadata.name": name },
          },
          spec: { finalizers: ["kubernetes"] },
          status: { phase: "Active" },
        } as KubeObject)
        .catch((err: unknown) => {
          if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
        });
    }
    const clusterRoles = findResource("rbac.authorization.k8s.io", "v1", "clusterroles")!;
    const clusterRoleBindings = findResource("rbac.authorization.k8s.io", "v1", "clusterrolebindings")!;
    const stamp = (o: KubeObject): KubeObject => ({
      ...o,
      metadata: { ...o.metadata, uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
    });
    const created = await ensureBootstrapPolicy({
      getClusterRole: (name) =>
        this.cacher.get(clusterRoles, undefined, name).then(
          (o) => o as ClusterRole,
          () => undefined,
        ),
      createClusterRole: async (role) => void (await this.cacher.create(clusterRoles, stamp(role))),
      getClusterRoleBinding: (name) =>
        this.cacher.get(clusterRoleBindings, undefined, name).then(
          (o) => o as ClusterRoleBinding,
          () => undefined,
        ),
      createClusterRoleBinding: async (binding) => void (await this.cacher.create(clusterRoleBindings, stamp(binding))),
    });
    if (created.clusterRoles.length + created.clusterRoleBindings.length > 0) this.logger.info(created, "created bootstrap RBAC policy");
  }

  async stop(): Promise<void> {
    if (this.compactionTimer !== null) clearInterval(this.compactionTimer);
    await this.http.close();
    if (this.grpcServer !== null) await new Promise<void>((resolve) => this.grpcServer!.tryShutdown(() => resolve()));
    this.rbac.stop();
    this.cache.stop();
    this.client.close();
  }
}
