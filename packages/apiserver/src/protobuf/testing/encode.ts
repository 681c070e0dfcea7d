/**
 * Builds request bodies the way kubectl does (magic "k8s\0" + runtime.Unknown around the object's
 * message), from messages encoded with the codecs generated from proto/k8s.
 */
import { k8spb } from "@coxswain/proto";
import { KUBERNETES_PROTOBUF_MAGIC } from "../decode.js";

const { Unknown } = k8spb.apimachinery.pkg.runtime;

export interface EnvelopeOptions {
  contentEncoding?: string;
  contentType?: string;
}

/** Wraps an encoded object message in the envelope kubectl sends. */
export function kubectlBody(apiVersion: string, kind: string, raw: Uint8Array, options: EnvelopeOptions = {}): Buffer {
  const envelope = Unknown.encode({
    typeMeta: { apiVersion, kind },
    raw,
    contentEncoding: options.contentEncoding ?? "",
    contentType: options.contentType ?? "",
  }).finish();
  return Buffer.concat([KUBERNETES_PROTOBUF_MAGIC, envelope]);
}

/** A field Coxswain's .proto files do not declare, appended to a message: tag + payload. */
export function withExtraField(message: Uint8Array, fieldNumber: number, payload: { varint: number } | { bytes: Uint8Array }): Buffer {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    let v = n;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  const field =
    "varint" in payload
      ? [...varint(fieldNumber * 8), ...varint(payload.varint)]
      : [...varint(fieldNumber * 8 + 2), ...varint(payload.bytes.length), ...payload.bytes];
  return Buffer.concat([message, Uint8Array.from(field)]);
}
