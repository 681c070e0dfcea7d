/**
 * @coxswain/api: Kubernetes-shaped API objects and the API machinery that needs no storage.
 * See README.md for the vocabulary and how the apiserver uses the registry.
 */
export * from "./types/index.js";
export * from "./util/json.js";
export * from "./quantity.js";
export * from "./intstr.js";
export * from "./errors.js";
export * from "./validation/field.js";
export * from "./validation/names.js";
export {
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateLabels,
  validateAnnotations,
  validateLabelSelector,
  standardFinalizers,
  type MetaRules,
} from "./validation/common.js";
export * from "./validation/pod.js";
export * from "./validation/core.js";
export * from "./validation/workloads.js";
export * from "./validation/other.js";
export * from "./defaulting/index.js";
export * from "./selectors/labels.js";
export * from "./selectors/fields.js";
export * from "./patch/errors.js";
export * from "./patch/merge.js";
export * from "./patch/json.js";
export * from "./patch/schema.js";
export * from "./patch/strategic.js";
export * from "./patch/apply.js";
export * from "./printing/duration.js";
export * from "./printing/columns.js";
export * from "./printing/table.js";
export * from "./strategy.js";
export * from "./scale.js";
export * from "./conversion/hpa.js";
export * from "./registry.js";
export * from "./schema/index.js";
