/** Validation of apps/v1 Deployment, ReplicaSet, DaemonSet and batch/v1 Job. */
import type { IntOrString, LabelSelector } from "../types/meta/v1.js";
import type { PodTemplateSpec } from "../types/core/pod.js";
import type { DaemonSet, Deployment, ReplicaSet } from "../types/apps/v1.js";
import type { Job } from "../types/batch/v1.js";
import { isPercent } from "../intstr.js";
import { labelSelectorToSelector } from "../selectors/labels.js";
import { fieldErrors, FieldPath, GoValue, type FieldError } from "./field.js";
import { nameIsDnsSubdomain } from "./names.js";
import { goLabelSelector, immutable, nonNegative, oneOf, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from "./common.js";
import { validatePodTemplateSpec } from "./pod.js";

const spec = FieldPath.root("spec");

function goTemplateLabels(labels: Record<string, string> | undefined): GoValue {
  if (labels === undefined) return new GoValue("map[string]string(nil)");
  const body = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(", ");
  return new GoValue(`map[string]string{${body}}`);
}

/**
 * The selector must be present and non-empty, and the pod template's labels must match it
 * (otherwise the controller would never see the pods it creates).
 */
function validateSelectorAndTemplate(errors: FieldError[], selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, kind: string): void {
  const selectorPath = spec.child("selector");
  if (selector === undefined) {
    errors.push(fieldErrors.required(selectorPath));
    return;
  }
  validateLabelSelector(errors, selectorPath, selector);
  const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) {
    errors.push(fieldErrors.invalid(selectorPath, goLabelSelector(selector), `empty selector is invalid for ${kind}`));
    return;
  }
  let matches: boolean;
  try {
    matches = labelSelectorToSelector(selector).matches(template?.metadata?.labels);
  } catch (error) {
    errors.push(fieldErrors.invalid(selectorPath, goLabelSelector(selector), `invalid label selector: ${(error as Error).message}`));
    return;
  }
  if (template !== undefined && !matches) {
    errors.push(
      fieldErrors.invalid(
        spec.child("template", "metadata", "labels"),
        goTemplateLabels(template.metadata?.labels),
        "`selector` does not match template `labels`",
      ),
    );
  }
}

/** maxSurge/maxUnavailable: a non-negative count or a percentage no larger than 100%. */
function validateIntOrPercent(errors: FieldError[], path: FieldPath, value: IntOrString | undefined): void {
  if (value === undefined) return;
  if (typeof value === "number") {
    nonNegative(errors, path, value);
    return;
  }
  if (!isPercent(value)) {
    errors.push(
      fieldErrors.invalid(
        path,
        value,
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ),
    );
    return;
  }
  if (Number(value.slice(0, -1)) > 100) errors.push(fieldErrors.invalid(path, value, "must not be greater than 100%"));
}

const isZero = (v: IntOrString | undefined): boolean => v === undefined || v === 0 || v === "0%" || v === "0";

function validateRollingUpdate(errors: FieldError[], path: FieldPath, maxUnavailable: IntOrString | undefined, maxSurge: IntOrString | undefined): void {
  validateIntOrPercent(errors, path.child("maxUnavailable"), maxUnavailable);
  validateIntOrPercent(errors, path.child("maxSurge"), maxSurge);
  if (isZero(maxUnavailable) && isZero(maxSurge))
    errors.push(fieldErrors.invalid(path.child("maxUnavailable"), maxUnavailable ?? 0, "may not be 0 when `maxSurge` is 0"));
}

/** Pods of long-running workloads must restart forever and have no deadline. */
function validateLongRunningTemplate(errors: FieldError[], template: PodTemplateSpec | undefined, kind: string): void {
  errors.push(...validatePodTemplateSpec(template, spec.child("template"), { restartPolicies: ["Always"] }));
  if (template?.spec?.activeDeadlineSeconds !== undefined) {
    errors.push(fieldErrors.forbidden(spec.child("template", "spec", "activeDeadlineSeconds"), `activeDeadlineSeconds in ${kind} is not Supported`));
  }
}

export function validateDeployment(d: Deployment): FieldError[] {
  const errors = validateObjectMeta(d.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const s = d.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  nonNegative(errors, spec.child("replicas"), s.replicas);
  validateSelectorAndTemplate(errors, s.selector, s.template, "deployment");
  validateLongRunningTemplate(errors, s.template, "ReplicaSet");
  const strategy = s.strategy;
  if (strategy !== undefined) {
    oneOf(errors, spec.child("strategy", "type"), strategy.type, ["Recreate", "RollingUpdate"]);
    if (strategy.type === "Recreate" && strategy.rollingUpdate !== undefined) {
      errors.push(fieldErrors.forbidden(spec.child("strategy", "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
    }
    if (strategy.type === "RollingUpdate" && strategy.rollingUpdate !== undefined) {
      validateRollingUpdate(errors, spec.child("strategy", "rollingUpdate"), strategy.rollingUpdate.maxUnavailable, strategy.rollingUpdate.maxSurge);
    }
  }
  nonNegative(errors, spec.child("minReadySeconds"), s.minReadySeconds);
  nonNegative(errors, spec.child("revisionHistoryLimit"), s.revisionHistoryLimit);
  if (s.progressDeadlineSeconds !== undefined) {
    nonNegative(errors, spec.child("progressDeadlineSeconds"), s.progressDeadlineSeconds);
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0))
      errors.push(fieldErrors.invalid(spec.child("progressDeadlineSeconds"), s.progressDeadlineSeconds, "must be greater than minReadySeconds"));
  }
  return errors;
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  const errors = [...validateObjectMetaUpdate(d.metadata, old.metadata), ...validateDeployment(d).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, spec.child("selector"), d.spec?.selector, old.spec?.selector, goLabelSelector(d.spec?.selector));
  return errors;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errors = validateObjectMeta(rs.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const s = rs.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  nonNegative(errors, spec.child("replicas"), s.replicas);
  nonNegative(errors, spec.child("minReadySeconds"), s.minReadySeconds);
  validateSelectorAndTemplate(errors, s.selector, s.template, "deployment");
  validateLongRunningTemplate(errors, s.template, "ReplicaSet");
  return errors;
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  const errors = [...validateObjectMetaUpdate(rs.metadata, old.metadata), ...validateReplicaSet(rs).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, spec.child("selector"), rs.spec?.selector, old.spec?.selector, goLabelSelector(rs.spec?.selector));
  return errors;
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const errors = validateObjectMeta(ds.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const s = ds.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  validateSelectorAndTemplate(errors, s.selector, s.template, "daemonset");
  validateLongRunningTemplate(errors, s.template, "DaemonSet");
  const strategy = s.updateStrategy;
  if (strategy !== undefined) {
    oneOf(errors, spec.child("updateStrategy", "type"), strategy.type, ["OnDelete", "RollingUpdate"]);
    if (strategy.type === "RollingUpdate" && strategy.rollingUpdate !== undefined) {
      validateRollingUpdate(errors, spec.child("updateStrategy", "rollingUpdate"), strategy.rollingUpdate.maxUnavailable, strategy.rollingUpdate.maxSurge);
    }
  }
  nonNegative(errors, spec.child("minReadySeconds"), s.minReadySeconds);
  nonNegative(errors, spec.child("revisionHistoryLimit"), s.revisionHistoryLimit);
  return errors;
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errors = [...validateObjectMetaUpdate(ds.metadata, old.metadata), ...validateDaemonSet(ds).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, spec.child("selector"), ds.spec?.selector, old.spec?.selector, goLabelSelector(ds.spec?.selector));
  return errors;
}

export function validateJob(job: Job): FieldError[] {
  const errors = validateObjectMeta(job.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const s = job.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  nonNegative(errors, spec.child("parallelism"), s.parallelism);
  nonNegative(errors, spec.child("completions"), s.completions);
  nonNegative(errors, spec.child("activeDeadlineSeconds"), s.activeDeadlineSeconds);
  nonNegative(errors, spec.child("backoffLimit"), s.backoffLimit);
  nonNegative(errors, spec.child("ttlSecondsAfterFinished"), s.ttlSecondsAfterFinished);
  if (s.completionMode !== undefined) oneOf(errors, spec.child("completionMode"), s.completionMode, ["NonIndexed", "Indexed"]);
  if (s.completionMode === "Indexed" && s.completions === undefined)
    errors.push(fieldErrors.required(spec.child("completions"), "when completion mode is Indexed"));
  validateSelectorAndTemplate(errors, s.selector, s.template, "job");
  errors.push(...validatePodTemplateSpec(s.template, spec.child("template"), { restartPolicies: ["OnFailure", "Never"] }));
  return errors;
}

export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const errors = [...validateObjectMetaUpdate(job.metadata, old.metadata), ...validateJob(job).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, spec.child("selector"), job.spec?.selector, old.spec?.selector, goLabelSelector(job.spec?.selector));
  immutable(errors, spec.child("template"), job.spec?.template, old.spec?.template, new GoValue("core.PodTemplateSpec{...}"));
  immutable(errors, spec.child("completions"), job.spec?.completions, old.spec?.completions);
  immutable(errors, spec.child("completionMode"), job.spec?.completionMode, old.spec?.completionMode);
  return errors;
}
