/** Small checks shared by every kind's validation, each worded as Kubernetes words it. */
import type { LabelSelector, ObjectMeta, OwnerReference } from "../types/meta/v1.js";
import { deepEqual, byteLength } from "../util/json.js";
import { fieldErrors, FieldPath, GoValue, type FieldError } from "./field.js";
import { annotationsTotalSizeBytesMax, isDns1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from "./names.js";

export function nonNegative(errors: FieldError[], path: FieldPath, value: number | undefined): void {
  if (value !== undefined && value < 0) errors.push(fieldErrors.invalid(path, value, "must be greater than or equal to 0"));
}

export function positive(errors: FieldError[], path: FieldPath, value: number | undefined): void {
  if (value !== undefined && value <= 0) errors.push(fieldErrors.invalid(path, value, "must be greater than 0"));
}

export function inRange(errors: FieldError[], path: FieldPath, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (value < min || value > max || !Number.isInteger(value)))
    errors.push(fieldErrors.invalid(path, value, `must be between ${min} and ${max}, inclusive`));
}

export function oneOf<T extends string>(errors: FieldError[], path: FieldPath, value: string | undefined, supported: readonly T[], required = true): void {
  if (value === undefined || value === "") {
    if (required) errors.push(fieldErrors.required(path));
    return;
  }
  if (!(supported as readonly string[]).includes(value)) errors.push(fieldErrors.notSupported(path, value, [...supported].sort()));
}

/** apimachinery ValidateImmutableField. */
export function immutable(errors: FieldError[], path: FieldPath, newValue: unknown, oldValue: unknown, shown: unknown = newValue): void {
  if (!deepEqual(newValue ?? null, oldValue ?? null)) errors.push(fieldErrors.invalid(path, shown ?? null, "field is immutable"));
}

export function validateLabels(errors: FieldError[], path: FieldPath, labels: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const msg of isQualifiedName(key)) errors.push(fieldErrors.invalid(path, key, msg));
    if (typeof value !== "string") errors.push(fieldErrors.invalid(path.key(key), value, "must be a string"));
    else for (const msg of isValidLabelValue(value)) errors.push(fieldErrors.invalid(path, value, msg));
  }
}

export function validateAnnotations(errors: FieldError[], path: FieldPath, annotations: Record<string, string> | undefined): void {
  let totalBytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    for (const msg of isQualifiedName(key.toLowerCase())) errors.push(fieldErrors.invalid(path, key, msg));
    if (typeof value !== "string") errors.push(fieldErrors.invalid(path.key(key), value, "must be a string"));
    else totalBytes += byteLength(key) + byteLength(value);
  }
  if (totalBytes > annotationsTotalSizeBytesMax) errors.push(fieldErrors.tooLong(path, "", annotationsTotalSizeBytesMax));
}

/** Finalizer names Kubernetes itself uses without a domain prefix. */
export const standardFinalizers = ["kubernetes", "orphan", "foregroundDeletion"] as const;

function validateFinalizers(errors: FieldError[], path: FieldPath, finalizers: string[] | undefined): void {
  const seen = new Set<string>();
  for (const finalizer of finalizers ?? []) {
    const problems = isQualifiedName(finalizer);
    for (const msg of problems) errors.push(fieldErrors.invalid(path, finalizer, msg));
    if (problems.length === 0 && !finalizer.includes("/") && !(standardFinalizers as readonly string[]).includes(finalizer)) {
      errors.push(fieldErrors.invalid(path, finalizer, "name is neither a standard finalizer name nor is it fully qualified"));
    }
    if (seen.has(finalizer)) errors.push(fieldErrors.duplicate(path, finalizer));
    seen.add(finalizer);
  }
}

function validateOwnerReferences(errors: FieldError[], path: FieldPath, references: OwnerReference[] | undefined): void {
  const controllers: string[] = [];
  for (const ref of references ?? []) {
    const version = (ref.apiVersion ?? "").split("/").at(-1) ?? "";
    if (version === "") errors.push(fieldErrors.invalid(path.child("apiVersion"), ref.apiVersion ?? "", "version must not be empty"));
    if (!ref.kind) errors.push(fieldErrors.invalid(path.child("kind"), ref.kind ?? "", "kind must not be empty"));
    if (!ref.name) errors.push(fieldErrors.invalid(path.child("name"), ref.name ?? "", "name must not be empty"));
    if (!ref.uid) errors.push(fieldErrors.invalid(path.child("uid"), ref.uid ?? "", "uid must not be empty"));
    if (ref.controller === true) controllers.push(`${ref.kind}/${ref.name}`);
  }
  if (controllers.length > 1) {
    errors.push(
      fieldErrors.invalid(
        path,
        new GoValue(`[]v1.OwnerReference{...}`),
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(" and ")}`,
      ),
    );
  }
}

export interface MetaRules {
  namespaced: boolean;
  validateName: NameValidator;
}

/** apimachinery ValidateObjectMeta: name (or generateName), namespace, labels, annotations, owners, finalizers. */
export function validateObjectMeta(meta: ObjectMeta | undefined, rules: MetaRules, path = FieldPath.root("metadata")): FieldError[] {
  const errors: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName)
    for (const msg of rules.validateName(m.generateName, true)) errors.push(fieldErrors.invalid(path.child("generateName"), m.generateName, msg));
  if (!m.name) errors.push(fieldErrors.required(path.child("name"), "name or generateName is required"));
  else for (const msg of rules.validateName(m.name, false)) errors.push(fieldErrors.invalid(path.child("name"), m.name, msg));
  if (rules.namespaced) {
    if (!m.namespace) errors.push(fieldErrors.required(path.child("namespace")));
    else for (const msg of isDns1123Label(m.namespace)) errors.push(fieldErrors.invalid(path.child("namespace"), m.namespace, msg));
  } else if (m.namespace) {
    errors.push(fieldErrors.forbidden(path.child("namespace"), "not allowed on this type"));
  }
  nonNegative(errors, path.child("generation"), m.generation);
  validateLabels(errors, path.child("labels"), m.labels);
  validateAnnotations(errors, path.child("annotations"), m.annotations);
  validateOwnerReferences(errors, path.child("ownerReferences"), m.ownerReferences);
  validateFinalizers(errors, path.child("finalizers"), m.finalizers);
  return errors;
}

/**
 * apimachinery ValidateObjectMetaUpdate: identity fields never change, generation never goes
 * back, and an object being deleted takes no new finalizers. (The apiserver fills an omitted
 * resourceVersion from the stored object before this runs.)
 */
export function validateObjectMetaUpdate(meta: ObjectMeta | undefined, old: ObjectMeta | undefined, path = FieldPath.root("metadata")): FieldError[] {
  const errors: FieldError[] = [];
  const m = meta ?? {};
  const o = old ?? {};
  if (o.deletionTimestamp) {
    const before = new Set(o.finalizers ?? []);
    for (const f of m.finalizers ?? [])
      if (!before.has(f))
        errors.push(
          fieldErrors.forbidden(
            path.child("finalizers"),
            `no new finalizers can be added if the object is being deleted, found new finalizers []string{${JSON.stringify(f)}}`,
          ),
        );
  }
  if ((m.generation ?? 0) < (o.generation ?? 0)) errors.push(fieldErrors.invalid(path.child("generation"), m.generation ?? 0, "must not be decremented"));
  immutable(errors, path.child("name"), m.name, o.name);
  immutable(errors, path.child("namespace"), m.namespace, o.namespace);
  immutable(errors, path.child("uid"), m.uid, o.uid);
  immutable(errors, path.child("creationTimestamp"), m.creationTimestamp, o.creationTimestamp);
  immutable(errors, path.child("deletionTimestamp"), m.deletionTimestamp, o.deletionTimestamp);
  immutable(errors, path.child("deletionGracePeriodSeconds"), m.deletionGracePeriodSeconds, o.deletionGracePeriodSeconds);
  validateLabels(errors, path.child("labels"), m.labels);
  validateAnnotations(errors, path.child("annotations"), m.annotations);
  validateOwnerReferences(errors, path.child("ownerReferences"), m.ownerReferences);
  validateFinalizers(errors, path.child("finalizers"), m.finalizers);
  return errors;
}

/** Go-syntax rendering of a LabelSelector, as Kubernetes prints it in "field is immutable" errors. */
export function goLabelSelector(selector: LabelSelector | undefined): GoValue {
  if (selector === undefined) return new GoValue("(*v1.LabelSelector)(nil)");
  const labels = selector.matchLabels
    ? `map[string]string{${Object.entries(selector.matchLabels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(", ")}}`
    : "map[string]string(nil)";
  const expressions = selector.matchExpressions
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v) => JSON.stringify(v)).join(", ")}}}`,
        )
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return new GoValue(`v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${expressions}}`);
}

/** metav1validation.ValidateLabelSelector. */
export function validateLabelSelector(errors: FieldError[], path: FieldPath, selector: LabelSelector | undefined): void {
  if (selector === undefined) return;
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const p = path.child("matchExpressions").index(i);
    switch (expression.operator) {
      case "In":
      case "NotIn":
        if ((expression.values ?? []).length === 0)
          errors.push(fieldErrors.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case "Exists":
      case "DoesNotExist":
        if ((expression.values ?? []).length > 0)
          errors.push(fieldErrors.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errors.push(fieldErrors.invalid(p.child("operator"), expression.operator, "not a valid selector operator"));
    }
    for (const msg of isQualifiedName(expression.key ?? "")) errors.push(fieldErrors.invalid(p.child("key"), expression.key, msg));
    (expression.values ?? []).forEach((v, j) => {
      for (const msg of isValidLabelValue(v)) errors.push(fieldErrors.invalid(p.child("values").index(j), v, msg));
    });
  });
  validateLabels(errors, path.child("matchLabels"), selector.matchLabels);
}
