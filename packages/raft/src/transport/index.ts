/** Raft transports: the interface the node loop uses, gRPC for real clusters, in-memory for tests. */
export { emptyTransportStats, type Transport, type TransportHandler, type TransportStats } from "./transport.js";
export { GrpcTransport, GRPC_TRANSPORT_DEFAULTS, TransportListenError, type GrpcTransportOptions, type GrpcTransportTls } from "./grpc-transport.js";
export {
  MemoryNetwork,
  MemoryTransport,
  MEMORY_TRANSPORT_DEFAULTS,
  type MemoryDropRule,
  type MemoryNetworkStats,
  type MemoryTransportOptions,
} from "./memory-transport.js";
export {
  ClusterTokenMismatchError,
  SnapshotTooLargeError,
  TransportDecodeError,
  messageFromWire,
  messagesFromWire,
  messageSizeBytesEstimate,
  type MessageFromWireOptions,
} from "./wire.js";
export { RAFT_TRANSPORT_SERVICE_NAME, RaftTransportClient, raftTransportServiceDefinition, type RaftTransportServer } from "./service.js";
export {
  createTransportLogger,
  silentTransportLogger,
  type TransportLogFields,
  type TransportLogger,
  type TransportLoggerOptions,
  type TransportLogLevel,
} from "./log.js";
