/**
 * Puts etcd's six v3 services on a grpc-js server. The caller owns the server (ports, TLS,
 * message size limits: give grpc.max_receive_message_length the request limit plus etcd's 512 KiB
 * of gRPC overhead) and starts the WatchService's timers.
 */
import type { Server } from "@grpc/grpc-js";
import { authService, clusterService, maintenanceService } from "./admin-services.js";
import type { StoreServerContext } from "./context.js";
import {
  AuthServiceDefinition,
  ClusterServiceDefinition,
  KVServiceDefinition,
  LeaseServiceDefinition,
  MaintenanceServiceDefinition,
  WatchServiceDefinition,
} from "./definitions.js";
import { kvService } from "./kv-service.js";
import { leaseService } from "./lease-service.js";
import { WatchService, type WatchServiceOptions } from "./watch-service.js";

/** etcd adds this much to --max-request-bytes for the gRPC receive limit. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export function addStoreServices(server: Server, ctx: StoreServerContext, watchOptions: Partial<WatchServiceOptions> = {}): WatchService {
  const watch = new WatchService(ctx, watchOptions);
  server.addService(KVServiceDefinition, kvService(ctx));
  server.addService(WatchServiceDefinition, watch.implementation());
  server.addService(LeaseServiceDefinition, leaseService(ctx));
  server.addService(ClusterServiceDefinition, clusterService(ctx));
  server.addService(MaintenanceServiceDefinition, maintenanceService(ctx));
  server.addService(AuthServiceDefinition, authService(ctx));
  return watch;
}
