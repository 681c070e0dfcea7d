/**
 * Request bodies in Kubernetes protobuf (`Content-Type: application/vnd.kubernetes.protobuf`),
 * which kubectl 1.32 sends for its imperative commands (`kubectl create configmap ...`).
 *
 * The format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the 4-byte magic "k8s\0",
 * then a runtime.Unknown whose typeMeta names the apiVersion and kind and whose `raw` holds the
 * object's own message (proto/k8s/). The object is decoded with the codec of its kind and turned
 * into the JSON Kubernetes would write for it (./to-json.ts), so everything after decoding is the
 * same path as a JSON body.
 *
 * Failures are typed: an unsupported kind, field or encoding is a ProtobufUnsupportedError (415:
 * send JSON, which works for every kind); bytes that are not valid protobuf are a
 * ProtobufMalformedError (400). decodeProtobufRequestBody maps them to Kubernetes Status errors.
 */
import { ApiStatusError, type KubeObject, statusBadRequest } from "@coxswain/api";
import { k8spb, protobuf } from "@coxswain/proto";
import { findSupportedKind, supportedKindsText } from "./kinds.js";
import { ProtobufFieldUnsupportedError, ProtobufValueInvalidError, messageToJson } from "./to-json.js";

export const KUBERNETES_PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

/** "k8s\0": the prefix of every Kubernetes protobuf body. */
export const KUBERNETES_PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** What every 415 says: the way around it. */
const USE_JSON_HINT =
  "send the object as JSON instead, which works for every kind: `kubectl create -f file.yaml`, or " +
  "`kubectl create <what> ... --dry-run=client -o json | kubectl create -f -`";

/** The body is protobuf this server does not decode (kind, field or encoding): answered 415. */
export class ProtobufUnsupportedError extends Error {
  override readonly name: string = "ProtobufUnsupportedError";
}

/** The envelope names a kind this server has no protobuf codec for. */
export class ProtobufKindUnsupportedError extends ProtobufUnsupportedError {
  override readonly name = "ProtobufKindUnsupportedError";

  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(`this server decodes Kubernetes protobuf request bodies only for ${supportedKindsText()}, not for ${apiVersion} ${kind}; ${USE_JSON_HINT}`);
  }
}

/** The bytes are not a valid Kubernetes protobuf body: answered 400. */
export class ProtobufMalformedError extends Error {
  override readonly name = "ProtobufMalformedError";
}

const { Unknown } = k8spb.apimachinery.pkg.runtime;

function startsWithMagic(body: Uint8Array): boolean {
  return body.length >= KUBERNETES_PROTOBUF_MAGIC.length && KUBERNETES_PROTOBUF_MAGIC.every((b, i) => body[i] === b);
}

function malformed(what: string, err: unknown): ProtobufMalformedError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ProtobufMalformedError(`the request body is not valid Kubernetes protobuf: ${what}: ${detail}`, { cause: err });
}

/** Decodes a whole body (magic + runtime.Unknown) into the object's Kubernetes JSON shape. */
export function decodeKubernetesProtobuf(body: Uint8Array): KubeObject {
  if (!startsWithMagic(body)) {
    throw new ProtobufMalformedError('the request body is not valid Kubernetes protobuf: it does not start with the magic bytes "k8s\\0"');
  }
  let envelope: InstanceType<typeof Unknown>;
  try {
    envelope = Unknown.decode(body.subarray(KUBERNETES_PROTOBUF_MAGIC.length));
  } catch (err) {
    throw malformed("cannot decode the runtime.Unknown envelope", err);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? "";
  const kind = envelope.typeMeta?.kind ?? "";
  if (apiVersion === "" || kind === "") {
    throw new ProtobufMalformedError("the request body is not valid Kubernetes protobuf: the envelope does not name the object's apiVersion and kind");
  }
  if (envelope.contentEncoding !== "") {
    throw new ProtobufUnsupportedError(
      `the object inside the protobuf envelope is encoded as ${JSON.stringify(envelope.contentEncoding)}, which this server does not decode; ${USE_JSON_HINT}`,
    );
  }
  if (envelope.contentType !== "" && envelope.contentType !== KUBERNETES_PROTOBUF_MEDIA_TYPE) {
    throw new ProtobufUnsupportedError(
      `the object inside the protobuf envelope is ${envelope.contentType}, which this server does not decode there; ${USE_JSON_HINT}`,
    );
  }
  const supported = findSupportedKind(apiVersion, kind);
  if (supported === undefined) throw new ProtobufKindUnsupportedError(apiVersion, kind);

  const reader = protobuf.Reader.create(envelope.raw);
  // Keep unknown fields so that messageToJson can refuse them instead of losing them silently.
  reader.discardUnknown = false;
  let message: object;
  try {
    message = supported.codec.decode(reader);
  } catch (err) {
    // Truncated or mistyped bytes, or an int64 beyond 2^53 (UnsafeIntegerError, docs/decisions/64-bit-integers.md).
    throw malformed(`cannot decode ${apiVersion} ${kind}`, err);
  }
  let json;
  try {
    json = messageToJson(message, "");
  } catch (err) {
    if (err instanceof ProtobufFieldUnsupportedError)
      throw new ProtobufUnsupportedError(`${apiVersion} ${kind}: ${err.message}; ${USE_JSON_HINT}`, { cause: err });
    if (err instanceof ProtobufValueInvalidError) throw malformed(`${apiVersion} ${kind}`, err);
    throw err;
  }
  // TypeMeta comes first, as Kubernetes writes it; metadata is a plain struct, so always present.
  return { kind, apiVersion, ...json, metadata: json["metadata"] ?? {} } as unknown as KubeObject;
}

/**
 * For the REST handler: the decoded object as a JSON object, or an ApiStatusError carrying 415
 * (UnsupportedMediaType, with what to do) or 400 (BadRequest).
 */
export function decodeProtobufRequestBody(body: Uint8Array): Record<string, unknown> {
  try {
    return decodeKubernetesProtobuf(body) as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ProtobufUnsupportedError) {
      throw new ApiStatusError(
        { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 415, reason: "UnsupportedMediaType", message: err.message },
        { cause: err },
      );
    }
    if (err instanceof ProtobufMalformedError) throw new ApiStatusError(statusBadRequest(err.message), { cause: err });
    throw err;
  }
}
