/**
 * Objects as stored values and back, resource versions, and the Status errors of the storage
 * layer.
 *
 * Values are the object's JSON without `metadata.resourceVersion` (and `selfLink`): the version is
 * the key's mod_revision in the store, set on every object read, as Kubernetes' etcd3 storage does
 * (its versioner clears the field before writing and fills it after reading).
 */
import { Buffer } from "node:buffer";
import {
  ApiStatusError,
  statusBadRequest,
  statusInternalError,
  statusRequestEntityTooLarge,
  statusServiceUnavailable,
  statusTimeout,
  type KubeObject,
  type Status,
} from "@coxswain/api";
import { EtcdRpcError, StoreUnavailableError, type StoreKeyValue } from "./etcd-client.js";

/** A stored value that is not an object's JSON (written by something else, or corrupted). */
export class StoredObjectDecodeError extends Error {
  override readonly name = "StoredObjectDecodeError";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`cannot decode the object stored at ${key}: ${message}`);
  }
}

/** The bytes to store for `obj` (a copy without resourceVersion and selfLink; `obj` is untouched). */
export function encodeForStorage(obj: KubeObject): Buffer {
  const { resourceVersion: _rv, selfLink: _selfLink, ...metadata } = obj.metadata;
  return Buffer.from(JSON.stringify({ ...obj, metadata }), "utf8");
}

/** The object stored in `kv`, with metadata.resourceVersion = `revision` (default: its mod revision). */
export function decodeStored(kv: Pick<StoreKeyValue, "key" | "value" | "modRevision">, revision: number = kv.modRevision): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString("utf8"));
  } catch (err) {
    throw new StoredObjectDecodeError(kv.key, (err as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new StoredObjectDecodeError(kv.key, "not a JSON object");
  const obj = parsed as KubeObject;
  if (typeof obj.metadata !== "object" || obj.metadata === null) throw new StoredObjectDecodeError(kv.key, "no metadata");
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * A resourceVersion from a request as a revision: "" and undefined are 0 (unset). Anything but a
 * decimal uint is a 400, worded as Kubernetes' versioner words it.
 */
export function parseResourceVersion(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new ApiStatusError(
      statusBadRequest(
        `invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(text)}: strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`,
      ),
    );
  }
  return Number(text);
}

/**
 * 504 for a read at a resourceVersion the server has not reached yet, as
 * storage.NewTooLargeResourceVersionError: clients (reflectors) wait and retry.
 */
export function tooLargeResourceVersionError(requested: number, current: number, retryAfterSeconds = 1): ApiStatusError {
  const status: Status = statusTimeout(`Too large resource version: ${requested}, current: ${current}`, retryAfterSeconds);
  status.details = { ...status.details, causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }] };
  return new ApiStatusError(status);
}

/**
 * Every failure of the storage layer as an ApiStatusError (ApiStatusErrors pass through): a store
 * that cannot be reached is 503, a write whose outcome is unknown 504 (as Kubernetes answers an
 * etcd timeout), an oversized object 413, anything else from the store 500.
 */
export function toApiStatusError(err: unknown): ApiStatusError {
  if (err instanceof ApiStatusError) return err;
  if (err instanceof StoreUnavailableError) {
    const status = err.outcomeUnknown
      ? statusTimeout(`request did not complete within requested timeout - ${err.message}`, 1)
      : statusServiceUnavailable(`the storage is unavailable: ${err.message}`);
    return new ApiStatusError(status, { cause: err });
  }
  if (err instanceof EtcdRpcError && err.details === "etcdserver: request is too large") {
    return new ApiStatusError(statusRequestEntityTooLarge("the object is larger than the store accepts (its --max-request-bytes)"), { cause: err });
  }
  if (err instanceof EtcdRpcError || err instanceof StoredObjectDecodeError) return new ApiStatusError(statusInternalError(err.message), { cause: err });
  throw err;
}
