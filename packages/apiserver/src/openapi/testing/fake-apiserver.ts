/**
 * A small HTTPS server that speaks just enough of the Kubernetes API for kubectl to create, get,
 * replace and patch objects, with discovery from the registry, the OpenAPI routes and field
 * validation from this folder, and objects in memory. It exists to prove, with the real kubectl
 * binary, that the OpenAPI documents and strict field validation are what kubectl expects,
 * independently of the real apiserver's storage and admission. No defaulting, no validation beyond
 * fields, no watch.
 */
import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ApiStatusError,
  type KubeObject,
  type ResourceDescriptor,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  applyPatch,
  findResource,
  patchTypeOf,
  statusAlreadyExists,
  statusBadRequest,
  statusInternalError,
  statusNotFound,
} from "@coxswain/api";
import { createCa, issueServerCertificate } from "../../auth/pki.js";
import { OpenApiRoutes } from "../routes.js";
import { type PatchKind, checkBodyFields, checkPatchedFields, fieldValidationDirective, warningHeaderValue } from "../strict.js";

export interface RecordedRequest {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

/** Caps what the fake remembers: it serves a few kubectl commands per test. */
const RECORDED_REQUESTS_MAX = 1000;
const BODY_BYTES_MAX = 3 * 1024 * 1024;

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, KubeObject>();
  private server: https.Server | null = null;
  private readonly openapi = new OpenApiRoutes({ serverVersion: "v1.32.0" });
  private resourceVersion = 1;
  /** Answers for paths a test wants to break (e.g. to see kubectl without OpenAPI v3). */
  readonly overrides = new Map<string, number>();

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `https://127.0.0.1:${address?.port ?? 0}`;
  }

  async start(): Promise<void> {
    const ca = await createCa("fake-apiserver-ca");
    const serving = await issueServerCertificate(ca, { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A kubeconfig for this server: any bearer token is accepted, the certificate is not checked. */
  kubeconfig(): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- cluster: {server: "${this.url}", insecure-skip-tls-verify: true}`,
      "  name: fake",
      "users:",
      "- name: tester",
      "  user: {token: fake-token}",
      "contexts:",
      "- context: {cluster: fake, user: tester, namespace: default}",
      "  name: fake",
      "current-context: fake",
      "",
    ].join("\n");
  }

  objectAt(apiVersion: string, plural: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(`${apiVersion}/${plural}/${namespace}/${name}`);
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > BODY_BYTES_MAX) throw new ApiStatusError(statusBadRequest("request body too large"));
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private send(res: ServerResponse, status: number, body: unknown, warnings: readonly string[] = []): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string | string[]> = { "content-type": "application/json" };
    if (warnings.length > 0) headers["warning"] = warnings.map(warningHeaderValue);
    res.writeHead(status, headers);
    res.end(text);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://fake");
    const method = req.method ?? "GET";
    try {
      const body = await this.readBody(req);
      if (this.requests.length < RECORDED_REQUESTS_MAX)
        this.requests.push({ method, url: req.url ?? "", contentType: req.headers["content-type"] ?? "", body });
      const override = this.overrides.get(url.pathname);
      if (override !== undefined) {
        this.send(res, override, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          code: override,
          message: "the server could not find the requested resource",
          reason: "NotFound",
        });
        return;
      }
      const openapi = this.openapi.respond({
        path: url.pathname,
        query: url.searchParams,
        ...(req.headers.accept !== undefined ? { accept: req.headers.accept } : {}),
        ...(typeof req.headers["if-none-match"] === "string" ? { ifNoneMatch: req.headers["if-none-match"] } : {}),
      });
      if (openapi !== undefined) {
        res.writeHead(openapi.status, openapi.headers);
        res.end(openapi.body);
        return;
      }
      const discovery = this.discovery(url.pathname);
      if (discovery !== undefined) {
        this.send(res, 200, discovery);
        return;
      }
      await this.resource(method, url, req.headers["content-type"] ?? "", body, res);
    } catch (err) {
      const status = err instanceof ApiStatusError ? err.status : statusInternalError(String(err));
      this.send(res, status.code ?? 500, status);
    }
  }

  private discovery(path: string): unknown {
    const parts = path.split("/").filter((p) => p !== "");
    if (path === "/version")
      return {
        major: "1",
        minor: "32",
        gitVersion: "v1.32.0",
        gitCommit: "",
        gitTreeState: "clean",
        buildDate: "",
        goVersion: "",
        compiler: "",
        platform: "linux/amd64",
      };
    if (path === "/api") return apiVersions("127.0.0.1");
    if (path === "/apis") return apiGroupList();
    if (parts[0] === "api" && parts.length === 2) return apiResourceList("", parts[1] ?? "");
    if (parts[0] === "apis" && parts.length === 2) return apiGroupDocument(parts[1] ?? "");
    if (parts[0] === "apis" && parts.length === 3) return apiResourceList(parts[1] ?? "", parts[2] ?? "");
    return undefined;
  }

  private async resource(method: string, url: URL, contentType: string, body: string, res: ServerResponse): Promise<void> {
    const parts = url.pathname.split("/").filter((p) => p !== "");
    const [group, version, rest] = parts[0] === "api" ? ["", parts[1] ?? "", parts.slice(2)] : [parts[1] ?? "", parts[2] ?? "", parts.slice(3)];
    let namespace = "";
    let tail = rest;
    if (tail[0] === "namespaces" && tail.length >= 3) {
      namespace = tail[1] ?? "";
      tail = tail.slice(2);
    }
    const [plural = "", name = "", subresource = ""] = tail;
    const r = findResource(group, version, plural);
    if (r === undefined || subresource !== "")
      throw new ApiStatusError({ ...statusNotFound({ group, resource: plural }, name), message: "the server could not find the requested resource" });
    const key = `${r.apiVersion}/${r.plural}/${namespace}/${name}`;
    const current = this.objects.get(key);
    const notFound = (): ApiStatusError => new ApiStatusError(statusNotFound({ group: r.group, resource: r.plural }, name));
    if (method === "GET" && name !== "") {
      if (current === undefined) throw notFound();
      this.send(res, 200, current);
      return;
    }
    if (method === "POST" && name === "") {
      const directive = fieldValidationDirective(url.searchParams, "CreateOptions");
      const object = JSON.parse(body) as KubeObject;
      const { warnings } = checkBodyFields({ resource: r, subresource: "", directive, bodyText: body, object });
      const objectName = object.metadata.name ?? "";
      const objectKey = `${r.apiVersion}/${r.plural}/${namespace}/${objectName}`;
      if (this.objects.has(objectKey)) throw new ApiStatusError(statusAlreadyExists({ group: r.group, resource: r.plural }, objectName));
      this.store(r, namespace, object, undefined);
      this.send(res, 201, this.objects.get(objectKey), warnings);
      return;
    }
    if (method === "PUT" && name !== "") {
      if (current === undefined) throw notFound();
      const directive = fieldValidationDirective(url.searchParams, "UpdateOptions");
      const object = JSON.parse(body) as KubeObject;
      const { warnings } = checkBodyFields({ resource: r, subresource: "", directive, bodyText: body, object });
      this.store(r, namespace, object, current);
      this.send(res, 200, this.objects.get(key), warnings);
      return;
    }
    if (method === "PATCH" && name !== "") {
      if (current === undefined) throw notFound();
      const directive = fieldValidationDirective(url.searchParams, "PatchOptions");
      const type = patchTypeOf(contentType);
      if (type === undefined || type === "apply") throw new ApiStatusError(statusBadRequest(`unsupported patch type ${contentType}`));
      const patched = applyPatch(type, structuredClone(current) as never, JSON.parse(body) as never, r.patchSchema) as unknown as KubeObject;
      const patchKind: PatchKind = type;
      const { warnings } = checkPatchedFields({ resource: r, subresource: "", directive, patchType: patchKind, patchText: body, current, patched });
      this.store(r, namespace, patched, current);
      this.send(res, 200, this.objects.get(key), warnings);
      return;
    }
    throw new ApiStatusError(statusBadRequest(`the fake apiserver does not serve ${method} ${url.pathname}`));
  }

  private store(r: ResourceDescriptor, namespace: string, object: KubeObject, current: KubeObject | undefined): void {
    object.metadata ??= {};
    if (r.namespaced) object.metadata.namespace = namespace;
    object.metadata.uid = current?.metadata.uid ?? `uid-${this.resourceVersion}`;
    object.metadata.creationTimestamp = current?.metadata.creationTimestamp ?? "2025-01-01T00:00:00Z";
    object.metadata.resourceVersion = String(++this.resourceVersion);
    this.objects.set(`${r.apiVersion}/${r.plural}/${namespace}/${object.metadata.name ?? ""}`, object);
  }
}
