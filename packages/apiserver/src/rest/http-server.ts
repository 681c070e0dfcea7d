/**
 * The HTTPS front end: HTTP/2 (with HTTP/1.1 for older clients) on TLS with the cluster CA, then
 * per request: read the body (bounded) → authenticate → authorize → route to discovery or the
 * resource handler → encode JSON (or a Table, or a watch stream) → count and log.
 * Errors are always Kubernetes Status objects with the right code.
 */
import http2 from "node:http2";
import type { TLSSocket } from "node:tls";
import {
  ApiStatusError,
  type KubeObject,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  printTable,
  statusInternalError,
  statusRequestEntityTooLarge,
} from "@coxswain/api";
import type { Logger } from "@coxswain/raft";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { authorizeOrThrow } from "./authorize.js";
import { NotAcceptableError, negotiate } from "./negotiation.js";
import type { Authenticator, Authorizer, UserInfo } from "./ports.js";
import { MalformedPathError, type RequestInfo, requestInfo } from "./request-info.js";
import type { ResourceHandler, RestResponse } from "./resource-handler.js";

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** A response sent as it is (status, headers, body), e.g. OpenAPI documents with their caching headers. */
export class RawResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: string,
  ) {}
}

export interface HttpFrontEndOptions {
  host: string;
  port: number;
  tls: { cert: string | Buffer; key: string | Buffer; ca: string | Buffer };
  authenticator: Authenticator;
  authorizer: Authorizer;
  resources: ResourceHandler;
  version: VersionInfo;
  logger: Logger;
  registry: Registry;
  /** Kubernetes' limit on request bodies (3 MiB); larger bodies get 413. */
  requestBodyBytesMax?: number;
  /** Extra non-resource routes (OpenAPI, ...): a JSON body, a raw response, or undefined to fall through. */
  nonResourceRoutes?: (request: { path: string; query: URLSearchParams; accept?: string; ifNoneMatch?: string }) => Promise<unknown> | RawResponse | undefined;
  /** Readiness beyond "the process runs" (e.g. the watch cache is synced). */
  ready?: () => boolean;
}

const REQUEST_BODY_BYTES_MAX_DEFAULT = 3 * 1024 * 1024;
/** kubectl's --request-timeout for watches is unset: cap server-side watch lifetime like Kubernetes (random 30–60 min). */
const WATCH_TIMEOUT_SECONDS_MAX = 3600;

interface Metrics {
  requests: Counter<string>;
  duration: Histogram<string>;
  watchers: Gauge<string>;
}

function makeMetrics(registry: Registry): Metrics {
  return {
    requests: new Counter({
      name: "apiserver_request_total",
      help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
      labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component", "code"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "apiserver_request_duration_seconds",
      help: "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
      labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component"],
      buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
      registers: [registry],
    }),
    watchers: new Gauge({
      name: "apiserver_longrunning_requests",
      help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.",
      labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component"],
      registers: [registry],
    }),
  };
}

type Req = http2.Http2ServerRequest;
type Res = http2.Http2ServerResponse;

export class HttpFrontEnd {
  private server: http2.Http2SecureServer | null = null;
  private readonly metrics: Metrics;
  private readonly openWatches = new Set<{ close(): void }>();

  constructor(private readonly o: HttpFrontEndOptions) {
    this.metrics = makeMetrics(o.registry);
  }

  async listen(): Promise<void> {
    const server = http2.createSecureServer({
      allowHTTP1: true,
      cert: this.o.tls.cert,
      key: this.o.tls.key,
      ca: this.o.tls.ca,
      // Client certificates are optional (bearer tokens are the other way in); verified when sent.
      requestCert: true,
      rejectUnauthorized: false,
    });
    server.on("request", (req: Req, res: Res) => {
      void this.serve(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === "object" && address !== null ? address.port : this.o.port;
  }

  async close(): Promise<void> {
    for (const w of this.openWatches) w.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async readBody(req: Req): Promise<Buffer> {
    const max = this.o.requestBodyBytesMax ?? REQUEST_BODY_BYTES_MAX_DEFAULT;
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > max) throw new ApiStatusError(statusRequestEntityTooLarge(`the request is too large: limit is ${max} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > max) throw new ApiStatusError(statusRequestEntityTooLarge(`the request is too large: limit is ${max} bytes`));
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  private async serve(req: Req, res: Res): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url, "https://apiserver");
    const path = url.pathname;
    let info: RequestInfo | null = null;
    let user: UserInfo | null = null;
    let code = 200;
    try {
      if (path === "/healthz" || path === "/livez" || path === "/readyz") {
        // Health probes need no credentials, as in Kubernetes' defaults for these paths.
        const ok = path !== "/readyz" || (this.o.ready?.() ?? true);
        code = ok ? 200 : 500;
        res.writeHead(code, { "content-type": "text/plain; charset=utf-8" });
        res.end(ok ? "ok" : "[-]watch-cache not ready\nreadyz check failed");
        return;
      }
      const body = await this.readBody(req);
      const socket = req.socket as unknown as TLSSocket;
      const cert = socket.authorized ? socket.getPeerCertificate(false) : undefined;
      user = await this.o.authenticator.authenticate({
        ...(cert?.raw !== undefined ? { peerCertificateDer: cert.raw } : {}),
        ...(req.headers.authorization !== undefined ? { authorizationHeader: req.headers.authorization } : {}),
      });
      try {
        info = requestInfo(req.method, path, url.searchParams);
      } catch (err) {
        if (err instanceof MalformedPathError)
          throw new ApiStatusError({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            code: 404,
            reason: "NotFound",
            message: "the server could not find the requested resource",
          });
        throw err;
      }
      await authorizeOrThrow(this.o.authorizer, user, info);
      const negotiated = negotiate(req.headers.accept, url.searchParams);
      if (!info.isResourceRequest) {
        const doc = await this.nonResource(path, url.searchParams, req.headers.accept, req.headers["if-none-match"]);
        if (doc instanceof RawResponse) {
          code = doc.status;
          res.writeHead(doc.status, doc.headers);
          res.end(doc.body);
          return;
        }
        this.sendJson(res, 200, doc);
        return;
      }
      const warnings: string[] = [];
      const response = await this.o.resources.handle({ info, query: url.searchParams, contentType: req.headers["content-type"] ?? "", body, user, warnings });
      if (warnings.length > 0)
        res.setHeader(
          "warning",
          warnings.map((w) => `299 - ${JSON.stringify(w)}`),
        );
      if (response.kind === "watch") {
        await this.streamWatch(req, res, response, negotiated.table, url.searchParams);
        return;
      }
      code = response.status;
      this.sendJson(
        res,
        response.status,
        negotiated.table && (info.verb === "get" || info.verb === "list") ? this.toTable(response, negotiated.includeObject) : response.body,
      );
    } catch (err) {
      code = this.sendError(res, err, info, user);
    } finally {
      this.observe(info, code, started, req.method, path, user);
    }
  }

  private notFound(): ApiStatusError {
    return new ApiStatusError({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "the server could not find the requested resource",
      reason: "NotFound",
      details: {},
      code: 404,
    });
  }

  /** Discovery and the other documents outside /api/v1 and /apis/{g}/{v}/... */
  private async nonResource(path: string, query: URLSearchParams, accept?: string, ifNoneMatch?: string): Promise<unknown> {
    const parts = path.split("/").filter((p) => p.length > 0);
    if (path === "/version" || path === "/version/") return this.o.version;
    if (path === "/api" || path === "/api/") return apiVersions(`${this.o.host}:${this.port}`);
    if (path === "/apis" || path === "/apis/") return apiGroupList();
    if (parts[0] === "api" && parts.length === 2) return apiResourceList("", parts[1]!) ?? Promise.reject(this.notFound());
    if (parts[0] === "apis" && parts.length === 2) return apiGroupDocument(parts[1]!) ?? Promise.reject(this.notFound());
    if (parts[0] === "apis" && parts.length === 3) return apiResourceList(parts[1]!, parts[2]!) ?? Promise.reject(this.notFound());
    const extra = this.o.nonResourceRoutes?.({
      path,
      query,
      ...(accept !== undefined ? { accept } : {}),
      ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}),
    });
    if (extra !== undefined) return extra;
    throw this.notFound();
  }

  private toTable(response: Extract<RestResponse, { kind: "object" }>, includeObject: "None" | "Metadata" | "Object"): unknown {
    const body = response.body as KubeObject & { items?: KubeObject[]; metadata: Record<string, unknown> };
    // The resource's printer lives on its descriptor; find it from the body's kind.
    const items = Array.isArray(body.items) ? body.items : [body];
    const printer = this.o.resources.printerFor(body.apiVersion ?? "", Array.isArray(body.items) ? (body.kind ?? "").replace(/List$/, "") : (body.kind ?? ""));
    const listMeta = Array.isArray(body.items)
      ? (body.metadata as { resourceVersion?: string; continue?: string })
      : { resourceVersion: (body.metadata as { resourceVersion?: string }).resourceVersion ?? "" };
    return printTable(printer, items, { nowMs: Date.now(), includeObject, listMeta });
  }

  private async streamWatch(req: Req, res: Res, response: Extract<RestResponse, { kind: "watch" }>, asTable: boolean, query: URLSearchParams): Promise<void> {
    const { stream, resource } = response;
    this.openWatches.add(stream);
    const labels = {
      verb: "WATCH",
      group: resource.group,
      version: resource.version,
      resource: resource.plural,
      subresource: "",
      scope: resource.namespaced ? "namespace" : "cluster",
      component: "apiserver",
    };
    this.metrics.watchers.inc(labels);
    const timeoutSeconds = Math.min(Number(query.get("timeoutSeconds") ?? WATCH_TIMEOUT_SECONDS_MAX) || WATCH_TIMEOUT_SECONDS_MAX, WATCH_TIMEOUT_SECONDS_MAX);
    const timer = setTimeout(() => stream.close(), timeoutSeconds * 1000);
    const onClose = (): void => stream.close();
    req.on("close", onClose);
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private" });
    // HTTP/1.1 responses hold their headers until the first write; a watch may have no event for
    // a long time, and clients (client-node's Watch, informers) wait for the headers before they
    // report the watch as started. Kubernetes flushes them at once too. (HTTP/2 sends them already.)
    (res as unknown as { flushHeaders?: () => void }).flushHeaders?.();
    let first = true;
    try {
      for await (const event of stream) {
        let line: string;
        if (!asTable && event.json !== undefined && resource.storageVersion === resource.version) {
          // The cache encoded this event once for every watcher.
          line = `${event.json}\n`;
        } else {
          let object: unknown = event.object;
          if (event.type !== "ERROR" && event.type !== "BOOKMARK") object = resource.fromStorageVersion(event.object);
          if (asTable && event.type !== "ERROR" && event.type !== "BOOKMARK") {
            object = printTable(resource.printer, [object as KubeObject], { nowMs: Date.now(), includeObject: "Metadata", omitColumnDefinitions: !first });
            first = false;
          }
          line = `${JSON.stringify({ type: event.type, object })}\n`;
        }
        if (!res.write(line)) await new Promise<void>((resolve) => res.once("drain", () => resolve()));
        if (res.destroyed) break;
      }
    } finally {
      clearTimeout(timer);
      req.off("close", onClose);
      stream.close();
      this.openWatches.delete(stream);
      this.metrics.watchers.dec(labels);
      if (!res.destroyed) res.end();
    }
  }

  private sendJson(res: Res, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: Res, err: unknown, info: RequestInfo | null, user: UserInfo | null): number {
    let status;
    if (err instanceof ApiStatusError) {
      status = err.status;
    } else if (err instanceof NotAcceptableError) {
      status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: err.message, reason: "NotAcceptable" as const, code: 406 };
    } else {
      this.o.logger.error({ err, path: info && !info.isResourceRequest ? info.path : undefined, user: user?.name }, "internal error serving a request");
      status = statusInternalError(`an internal error occurred: ${(err as Error)?.message ?? String(err)}`);
    }
    const code = status.code ?? 500;
    if (!res.headersSent) this.sendJson(res, code, status);
    else res.end();
    return code;
  }

  private observe(info: RequestInfo | null, code: number, startedMs: number, method: string, path: string, user: UserInfo | null): void {
    const seconds = (performance.now() - startedMs) / 1000;
    const labels = info?.isResourceRequest
      ? {
          verb: info.verb.toUpperCase(),
          group: info.apiGroup,
          version: info.apiVersion,
          resource: info.resource,
          subresource: info.subresource,
          scope: info.name !== "" ? "resource" : info.namespace !== "" ? "namespace" : "cluster",
          component: "apiserver",
        }
      : { verb: method, group: "", version: "", resource: "", subresource: "", scope: "", component: "apiserver" };
    this.metrics.requests.inc({ ...labels, code: String(code) });
    if (info?.verb !== "watch") this.metrics.duration.observe(labels, seconds);
    this.o.logger.info({ verb: labels.verb, path, user: user?.name ?? "", code, ms: Math.round(seconds * 10000) / 10 }, "request");
  }
}
