/**
 * Request size limits. Kubernetes refuses a request body over 3 MiB (`--max-request-body-bytes`'s
 * default, checked while reading) with 413 "Request entity too large: limit is 3145728", before
 * decoding; objects themselves must also fit the store's request limit (etcd's 1.5 MiB). The body
 * check belongs where the body is read (`checkContentLength`, `readBodyWithLimit`); the
 * RequestSizeLimit plugin repeats both checks on what reached admission, for paths (gRPC) that
 * read bodies elsewhere.
 */
import { ApiStatusError, statusRequestEntityTooLarge } from "@coxswain/api";
import type { AdmissionAttributes, AdmissionPlugin } from "./chain.js";

/** Kubernetes' MaxRequestBodyBytes default: 3 MiB. */
export const requestBodySizeBytesMax = 3 * 1024 * 1024;
/** etcd's default `--max-request-bytes`: a stored object larger than this could not be written. */
export const objectSizeBytesMax = 1.5 * 1024 * 1024;

export const requestSizeLimitPluginName = "RequestSizeLimit";

function tooLarge(limitBytes: number): ApiStatusError {
  return new ApiStatusError(statusRequestEntityTooLarge(`limit is ${limitBytes}`));
}

/** Refuse early on a `Content-Length` over the limit, without reading the body. */
export function checkContentLength(contentLength: string | undefined, limitBytes = requestBodySizeBytesMax): void {
  if (contentLength === undefined || contentLength === "") return;
  const length = Number(contentLength);
  if (Number.isFinite(length) && length > limitBytes) throw tooLarge(limitBytes);
}

/**
 * Read a body (an http.IncomingMessage is an AsyncIterable of Buffers) up to `limitBytes`;
 * stops reading and throws 413 at the first byte past it, so a huge body never sits in memory.
 */
export async function readBodyWithLimit(body: AsyncIterable<Uint8Array | string>, limitBytes = requestBodySizeBytesMax): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += buffer.length;
    if (total > limitBytes) throw tooLarge(limitBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

export class RequestSizeLimit implements AdmissionPlugin {
  readonly name = requestSizeLimitPluginName;
  private readonly bodyBytesMax: number;
  private readonly objectBytesMax: number;

  constructor(options: { requestBodySizeBytesMax?: number; objectSizeBytesMax?: number } = {}) {
    this.bodyBytesMax = options.requestBodySizeBytesMax ?? requestBodySizeBytesMax;
    this.objectBytesMax = options.objectSizeBytesMax ?? objectSizeBytesMax;
  }

  validate(attributes: AdmissionAttributes): void {
    if (attributes.requestBodySizeBytes !== undefined && attributes.requestBodySizeBytes > this.bodyBytesMax) throw tooLarge(this.bodyBytesMax);
    if (attributes.operation !== "CREATE" && attributes.operation !== "UPDATE") return;
    if (attributes.object === undefined) return;
    // The object as it would be stored (a patch can grow a small body into a large object).
    const size = Buffer.byteLength(JSON.stringify(attributes.object), "utf8");
    if (size > this.objectBytesMax) throw tooLarge(this.objectBytesMax);
  }
}
