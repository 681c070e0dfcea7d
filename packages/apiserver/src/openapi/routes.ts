/**
 * Serving the OpenAPI documents: `GET /openapi/v3` (the index) and `GET /openapi/v3/<gv>?hash=`,
 * with the headers kube-openapi's handler3 sends so clients cache them (client-go keeps them in
 * its HTTP disk cache): an `Etag` (the document hash), `Cache-Control: public, immutable` and a
 * one-year `Expires` when the request names the current hash, a 301 to the current URL when it
 * names an old one, and 304 for a matching `If-None-Match`.
 *
 * `/openapi/v2` is not served (404): kubectl only asks for it when the v3 document does not declare
 * `fieldValidation` (then it would validate client-side), and it wants protobuf there.
 */
import { ApiStatusError, statusNotFound } from "@coxswain/api";
import { OpenApiDocuments, type DocumentOptions, type SerializedDocument } from "./documents.js";

export interface OpenApiResponse {
  status: 200 | 301 | 304 | 406;
  headers: Record<string, string>;
  /** The body text (JSON for 200; empty otherwise). */
  body: string;
}

export interface OpenApiRequest {
  path: string;
  query: URLSearchParams;
  /** The request's `Accept` header. */
  accept?: string;
  /** The request's `If-None-Match` header. */
  ifNoneMatch?: string;
  /** For `Expires`: the current time. */
  nowMs?: number;
}

const PREFIX = "/openapi/v3";
const EXPIRES_AFTER_MS = 365 * 24 * 3600 * 1000;

/** Whether an Accept header admits JSON (absent, `application/json`, `application/*`, `*∕*`). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept
    .split(",")
    .map((part) => (part.split(";")[0] ?? "").trim().toLowerCase())
    .some((type) => type === "application/json" || type === "application/*" || type === "*/*");
}

/** An ETag header value matches If-None-Match (a list, or `*`). */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

function notFound(): ApiStatusError {
  return new ApiStatusError({ ...statusNotFound({ group: "", resource: "" }, ""), message: "the server could not find the requested resource", details: {} });
}

/** The OpenAPI routes of one server; documents are built on first use and kept. */
export class OpenApiRoutes {
  private documents: OpenApiDocuments | null = null;

  constructor(private readonly options: DocumentOptions = {}) {}

  private docs(): OpenApiDocuments {
    this.documents ??= new OpenApiDocuments(this.options);
    return this.documents;
  }

  /** Whether `path` is one of these routes (everything under /openapi/v3). */
  handles(path: string): boolean {
    return path === PREFIX || path === `${PREFIX}/` || path.startsWith(`${PREFIX}/`);
  }

  /**
   * The full response for a request under /openapi/v3, headers included; throws a 404
   * ApiStatusError for an unknown group-version, undefined for paths that are not OpenAPI.
   */
  respond(request: OpenApiRequest): OpenApiResponse | undefined {
    const { path } = request;
    if (!this.handles(path)) return undefined;
    if (path === PREFIX || path === `${PREFIX}/`) return this.send(this.docs().index, request, false);
    const key = path.slice(PREFIX.length + 1).replace(/\/+$/, "");
    const doc = this.docs().document(key);
    if (doc === undefined) throw notFound();
    return this.send(doc, request, true);
  }

  private send(doc: SerializedDocument, request: OpenApiRequest, isGroupVersion: boolean): OpenApiResponse {
    const etag = JSON.stringify(doc.hash);
    const headers: Record<string, string> = { etag };
    if (isGroupVersion) {
      headers["vary"] = "Accept";
      if (!acceptsJson(request.accept)) return { status: 406, headers, body: "" };
      const hash = request.query.get("hash");
      if (hash !== null && hash !== "") {
        if (hash !== doc.hash) {
          // kube-openapi redirects a stale hash to the current document's URL.
          return { status: 301, headers: { ...headers, location: `${PREFIX}/${doc.key}?hash=${doc.hash}` }, body: "" };
        }
        headers["cache-control"] = "public, immutable";
        headers["expires"] = new Date((request.nowMs ?? Date.now()) + EXPIRES_AFTER_MS).toUTCString();
      }
    }
    if (etagMatches(request.ifNoneMatch, etag)) return { status: 304, headers, body: "" };
    return { status: 200, headers: { ...headers, "content-type": "application/json" }, body: doc.text };
  }

  /**
   * For `HttpFrontEndOptions.nonResourceRoutes` as it is today (a JSON body, no headers): the
   * parsed document, or undefined for paths that are not OpenAPI. A 404 is a rejected promise.
   */
  readonly route = (path: string, query: URLSearchParams): Promise<unknown> | undefined => {
    if (!this.handles(path)) return undefined;
    try {
      const response = this.respond({ path, query });
      if (response === undefined) return undefined;
      if (response.status === 301) {
        // Without headers there is no redirect: serve the current document (the hash only names a version).
        return this.route(path, new URLSearchParams());
      }
      return Promise.resolve(JSON.parse(response.body) as unknown);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
}

let defaultRoutes: OpenApiRoutes | null = null;

/**
 * `nonResourceRoutes` for the HTTP front end: the OpenAPI v3 index and documents as JSON bodies,
 * undefined for any other path (so the front end falls through to its 404).
 */
export function openApiRoutes(path: string, query: URLSearchParams): Promise<unknown> | undefined {
  defaultRoutes ??= new OpenApiRoutes();
  return defaultRoutes.route(path, query);
}
