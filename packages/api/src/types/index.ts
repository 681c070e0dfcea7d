/** Every API type, by group. Field names are Kubernetes' JSON names. */
export type * from "./meta/v1.js";
export * from "./core/index.js";
export type * from "./apps/v1.js";
export type * from "./batch/v1.js";
export type * from "./networking/v1.js";
export type * from "./coordination/v1.js";
export type * from "./autoscaling/hpa.js";
export type * from "./rbac/v1.js";
export type * from "./metrics/v1beta1.js";
