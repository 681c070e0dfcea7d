/**
 * Raw HTTPS to an API server with a client certificate: exactly the bytes a test chooses, and the
 * status, headers and body the server answered — no client library in between to retry, validate
 * or reshape. Watches are read as the newline-delimited JSON stream they are.
 */
import { Agent, request as httpsRequest } from "node:https";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { assert } from "@coxswain/raft";

/** PEM text of the cluster CA and of a client certificate and its key. */
export interface ClientCredentials {
  caPem: string;
  /** Omitted for an anonymous client (no certificate). */
  certPem?: string;
  keyPem?: string;
}

export interface RawRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/namespaces/default/configmaps?labelSelector=a%3Db`. */
  path: string;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /** Default `application/json` when there is a body. */
  contentType?: string;
  /** Default `application/json`. */
  accept?: string;
  headers?: Record<string, string>;
  /** Send the body chunked, without a Content-Length (the server learns the size only by reading). */
  chunked?: boolean;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export class HttpsClientError extends Error {
  override readonly name = "HttpsClientError";
}

/** A response body larger than this is a test bug (or a server one); the request fails. */
const RESPONSE_BYTES_MAX = 64 * 1024 * 1024;
const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;
/** One watch stream's undelivered events; a test that reads slower than this is broken. */
const WATCH_EVENTS_BUFFERED_MAX = 100_000;

/** The parsed JSON of a response, failing with the status and body when it is not JSON. */
export function jsonOf<T = Record<string, unknown>>(response: Pick<RawResponse, "status" | "text">): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new HttpsClientError(`expected JSON, got ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

export interface WatchEvent<T = Record<string, unknown>> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** An open watch: events in arrival order; `next()` waits for the next one. */
export class WatchStream<T = Record<string, unknown>> {
  private readonly buffered: Array<WatchEvent<T>> = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  private endError: Error | null = null;

  constructor(
    readonly status: number,
    private readonly response: IncomingMessage,
  ) {
    let partial = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      partial += chunk;
      let newline: number;
      while ((newline = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, newline).trim();
        partial = partial.slice(newline + 1);
        if (line === "") continue;
        if (this.buffered.length >= WATCH_EVENTS_BUFFERED_MAX) {
          this.finish(new HttpsClientError(`watch: more than ${WATCH_EVENTS_BUFFERED_MAX} unread events`));
          return;
        }
        try {
          this.buffered.push(JSON.parse(line) as WatchEvent<T>);
        } catch {
          this.finish(new HttpsClientError(`watch: a line that is not JSON: ${line.slice(0, 200)}`));
          return;
        }
        this.wake();
      }
    });
    response.on("end", () => this.finish(null));
    response.on("error", (err) => this.finish(err));
    response.on("close", () => this.finish(null));
  }

  /** Whether the server (or `close()`) ended the stream. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** The next event; undefined once the stream ended and every event was read. */
  async next(timeoutMs: number): Promise<WatchEvent<T> | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.buffered.shift();
      if (event !== undefined) return event;
      if (this.ended) {
        if (this.endError !== null) throw this.endError;
        return undefined;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new HttpsClientError(`watch: no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  /** Reads events until `match` accepts one (returned), failing when the stream ends first. */
  async until(what: string, match: (event: WatchEvent<T>) => boolean, timeoutMs: number): Promise<WatchEvent<T>> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    for (;;) {
      let event: WatchEvent<T> | undefined;
      try {
        event = await this.next(Math.max(1, deadline - Date.now()));
      } catch (err) {
        throw new HttpsClientError(`watch: waiting for ${what}: ${(err as Error).message}; saw ${seen.join(", ") || "nothing"}`);
      }
      if (event === undefined) throw new HttpsClientError(`watch: ended while waiting for ${what}; saw ${seen.join(", ") || "nothing"}`);
      if (match(event)) return event;
      seen.push(`${event.type} ${(event.object as { metadata?: { name?: string } }).metadata?.name ?? ""}`);
    }
  }

  close(): void {
    this.response.destroy();
    this.finish(null);
  }

  private finish(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.endError = err;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

/** Requests to one API server (by base URL) as one user. */
export class HttpsClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    readonly credentials: ClientCredentials,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      ca: credentials.caPem,
      ...(credentials.certPem !== undefined ? { cert: credentials.certPem } : {}),
      ...(credentials.keyPem !== undefined ? { key: credentials.keyPem } : {}),
    });
  }

  /** The same user against another API server. */
  withBaseUrl(baseUrl: string): HttpsClient {
    return new HttpsClient(baseUrl, this.credentials);
  }

  async request(req: RawRequest): Promise<RawResponse> {
    const response = await this.open(req);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > RESPONSE_BYTES_MAX) {
        response.destroy();
        throw new HttpsClientError(`${req.method} ${req.path}: response larger than ${RESPONSE_BYTES_MAX} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") };
  }

  /** GET and parse; fails unless the status is 200. */
  async getJson<T = Record<string, unknown>>(path: string): Promise<T> {
    const response = await this.request({ method: "GET", path });
    if (response.status !== 200) throw new HttpsClientError(`GET ${path}: ${response.status}: ${response.text.slice(0, 500)}`);
    return jsonOf<T>(response);
  }

  /**
   * Opens a watch (`path` should carry `watch=1` or `watch=true`); when the server answers with
   * anything but 200 the body is read and returned instead of a stream.
   */
  async watch<T = Record<string, unknown>>(path: string): Promise<WatchStream<T> | RawResponse> {
    const response = await this.open({ method: "GET", path, timeoutMs: 0 });
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const chunks: Buffer[] = [];
      for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
      return { status, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") };
    }
    return new WatchStream<T>(status, response);
  }

  close(): void {
    this.agent.destroy();
  }

  private open(req: RawRequest): Promise<IncomingMessage> {
    assert(req.path.startsWith("/"), "request paths are absolute");
    let payload: Buffer | undefined;
    if (req.body !== undefined)
      payload =
        typeof req.body === "string" ? Buffer.from(req.body, "utf8") : Buffer.isBuffer(req.body) ? req.body : Buffer.from(JSON.stringify(req.body), "utf8");
    const url = new URL(req.path, this.baseUrl);
    const headers: Record<string, string> = { accept: req.accept ?? "application/json", ...(req.headers ?? {}) };
    if (payload !== undefined) {
      headers["content-type"] = req.contentType ?? "application/json";
      if (req.chunked === true) headers["transfer-encoding"] = "chunked";
      else headers["content-length"] = String(payload.byteLength);
    }
    const timeoutMs = req.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = httpsRequest(url, { method: req.method, headers, agent: this.agent }, resolve);
      outgoing.on("error", reject);
      if (timeoutMs > 0) {
        outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new HttpsClientError(`${req.method} ${req.path}: no answer within ${timeoutMs} ms`)));
      }
      if (payload !== undefined && req.chunked === true) {
        // Several writes, so that the body really goes out in chunks.
        const chunkBytes = 64 * 1024;
        for (let at = 0; at < payload.byteLength; at += chunkBytes) outgoing.write(payload.subarray(at, at + chunkBytes));
        outgoing.end();
      } else {
        outgoing.end(payload);
      }
    });
  }
}
