/**
 * @coxswain/scheduler: the scheduling core — plugin framework, cache with assumed pods, default
 * plugins, scheduling queue and the scheduleOne loop body. No network code; see README.md.
 */
export * from "./framework/status.js";
export * from "./framework/cycle-state.js";
export * from "./framework/resources.js";
export * from "./framework/host-ports.js";
export * from "./framework/taints.js";
export * from "./framework/types.js";
export * from "./framework/interfaces.js";
export * from "./framework/normalize.js";
export * from "./framework/registry.js";
export * from "./framework/profile.js";
export * from "./framework/diagnosis.js";
export * from "./framework/framework.js";
export * from "./cache/snapshot.js";
export * from "./cache/cache.js";
export * from "./queue/keyed-heap.js";
export * from "./queue/scheduling-queue.js";
export * from "./plugins/names.js";
export * from "./plugins/registry.js";
export * from "./plugins/node-name/node-name.js";
export * from "./plugins/node-unschedulable/node-unschedulable.js";
export * from "./plugins/node-ready/node-ready.js";
export * from "./plugins/node-affinity/node-affinity.js";
export * from "./plugins/taint-toleration/taint-toleration.js";
export * from "./plugins/node-ports/node-ports.js";
export * from "./plugins/node-resources-fit/node-resources-fit.js";
export * from "./plugins/node-resources-least-allocated/node-resources-least-allocated.js";
export * from "./plugins/node-resources-balanced-allocation/node-resources-balanced-allocation.js";
export * from "./plugins/default-binder/default-binder.js";
export * from "./scheduler.js";
