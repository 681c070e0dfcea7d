/** Kubernetes protobuf request bodies: decoding to the JSON shape. See README.md. */
export {
  KUBERNETES_PROTOBUF_MAGIC,
  KUBERNETES_PROTOBUF_MEDIA_TYPE,
  ProtobufKindUnsupportedError,
  ProtobufMalformedError,
  ProtobufUnsupportedError,
  decodeKubernetesProtobuf,
  decodeProtobufRequestBody,
} from "./decode.js";
export { SUPPORTED_KINDS, type SupportedKind } from "./kinds.js";
