/** Validation of Ingress, Lease, HorizontalPodAutoscaler and the RBAC kinds. */
import type { Ingress, IngressBackend } from "../types/networking/v1.js";
import type { Lease } from "../types/coordination/v1.js";
import type { HorizontalPodAutoscaler, HPAScalingRules, MetricTarget } from "../types/autoscaling/hpa.js";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from "../types/rbac/v1.js";
import { isValidQuantity, quantityFormatMessage } from "../quantity.js";
import { fieldErrors, FieldPath, GoValue, type FieldError } from "./field.js";
import { isDns1035Label, isDns1123Subdomain, isValidPortNum, nameIsDnsSubdomain, nameIsPathSegment } from "./names.js";
import { immutable, inRange, nonNegative, oneOf, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from "./common.js";

const spec = FieldPath.root("spec");

function withoutMeta(errors: FieldError[]): FieldError[] {
  return errors.filter((e) => !e.field.startsWith("metadata."));
}

// ---- Ingress ----

const wildcardHostRe = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateIngressBackend(errors: FieldError[], path: FieldPath, backend: IngressBackend | undefined): void {
  if (backend === undefined) {
    errors.push(fieldErrors.required(path));
    return;
  }
  if (backend.service && backend.resource) errors.push(fieldErrors.invalid(path, "", "cannot set both resource and service backends"));
  else if (!backend.service && !backend.resource) errors.push(fieldErrors.invalid(path, "", "resource or service backend is required"));
  if (backend.service) {
    const sp = path.child("service");
    if (!backend.service.name) errors.push(fieldErrors.required(sp.child("name")));
    else for (const msg of isDns1035Label(backend.service.name)) errors.push(fieldErrors.invalid(sp.child("name"), backend.service.name, msg));
    const port = backend.service.port;
    const hasName = port?.name !== undefined && port.name !== "";
    const hasNumber = port?.number !== undefined && port.number !== 0;
    if (hasName && hasNumber) errors.push(fieldErrors.invalid(sp.child("port"), "", "cannot set both port name & port number"));
    else if (!hasName && !hasNumber) errors.push(fieldErrors.invalid(sp.child("port"), "", "port name or number is required"));
    if (hasNumber) for (const msg of isValidPortNum(port?.number ?? 0)) errors.push(fieldErrors.invalid(sp.child("port", "number"), port?.number, msg));
  }
}

export function validateIngress(ingress: Ingress): FieldError[] {
  const errors = validateObjectMeta(ingress.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const s = ingress.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  if (s.ingressClassName)
    for (const msg of isDns1123Subdomain(s.ingressClassName)) errors.push(fieldErrors.invalid(spec.child("ingressClassName"), s.ingressClassName, msg));
  if (s.defaultBackend !== undefined) validateIngressBackend(errors, spec.child("defaultBackend"), s.defaultBackend);
  if (s.defaultBackend === undefined && (s.rules ?? []).length === 0)
    errors.push(fieldErrors.invalid(spec, "", "either `defaultBackend` or `rules` must be specified"));
  (s.rules ?? []).forEach((rule, i) => {
    const rp = spec.child("rules").index(i);
    if (rule.host) {
      const problems = rule.host.startsWith("*")
        ? wildcardHostRe.test(rule.host)
          ? []
          : ["a wildcard DNS-1123 subdomain must start with '*.'"]
        : isDns1123Subdomain(rule.host);
      for (const msg of problems) errors.push(fieldErrors.invalid(rp.child("host"), rule.host, msg));
    }
    (rule.http?.paths ?? []).forEach((path, j) => {
      const pp = rp.child("http", "paths").index(j);
      oneOf(errors, pp.child("pathType"), path.pathType, ["Exact", "ImplementationSpecific", "Prefix"]);
      if (path.pathType !== "ImplementationSpecific" && (!path.path || !path.path.startsWith("/")))
        errors.push(fieldErrors.invalid(pp.child("path"), path.path ?? "", "must be an absolute path"));
      validateIngressBackend(errors, pp.child("backend"), path.backend);
    });
    if (rule.http !== undefined && (rule.http.paths ?? []).length === 0) errors.push(fieldErrors.required(rp.child("http", "paths")));
  });
  (s.tls ?? []).forEach((tls, i) => {
    if (tls.secretName)
      for (const msg of isDns1123Subdomain(tls.secretName))
        errors.push(fieldErrors.invalid(spec.child("tls").index(i).child("secretName"), tls.secretName, msg));
  });
  return errors;
}

export function validateIngressUpdate(ingress: Ingress, old: Ingress): FieldError[] {
  return [...validateObjectMetaUpdate(ingress.metadata, old.metadata), ...withoutMeta(validateIngress(ingress))];
}

// ---- Lease ----

export function validateLease(lease: Lease): FieldError[] {
  const errors = validateObjectMeta(lease.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  if (lease.spec?.leaseDurationSeconds !== undefined && lease.spec.leaseDurationSeconds <= 0) {
    errors.push(fieldErrors.invalid(spec.child("leaseDurationSeconds"), lease.spec.leaseDurationSeconds, "must be greater than 0"));
  }
  nonNegative(errors, spec.child("leaseTransitions"), lease.spec?.leaseTransitions);
  return errors;
}

export function validateLeaseUpdate(lease: Lease, old: Lease): FieldError[] {
  return [...validateObjectMetaUpdate(lease.metadata, old.metadata), ...withoutMeta(validateLease(lease))];
}

// ---- HorizontalPodAutoscaler ----

function validateMetricTarget(errors: FieldError[], path: FieldPath, target: MetricTarget | undefined, allowUtilization: boolean): void {
  if (target === undefined) {
    errors.push(fieldErrors.required(path));
    return;
  }
  oneOf(errors, path.child("type"), target.type, allowUtilization ? ["AverageValue", "Utilization", "Value"] : ["AverageValue", "Value"]);
  if (target.type === "Utilization") {
    if (target.averageUtilization === undefined)
      errors.push(fieldErrors.required(path.child("averageUtilization"), "must set either a target raw value or a target utilization"));
    else if (target.averageUtilization <= 0)
      errors.push(fieldErrors.invalid(path.child("averageUtilization"), target.averageUtilization, "must be greater than 0"));
  }
  for (const field of ["value", "averageValue"] as const) {
    const value = target[field];
    if (value !== undefined && !isValidQuantity(value)) errors.push(fieldErrors.invalid(path.child(field), value, quantityFormatMessage));
  }
  if (target.type === "Value" && target.value === undefined) errors.push(fieldErrors.required(path.child("value"), "must set a target value"));
  if (target.type === "AverageValue" && target.averageValue === undefined)
    errors.push(fieldErrors.required(path.child("averageValue"), "must set a target averageValue"));
}

function validateScalingRules(errors: FieldError[], path: FieldPath, rules: HPAScalingRules | undefined): void {
  if (rules === undefined) return;
  inRange(errors, path.child("stabilizationWindowSeconds"), rules.stabilizationWindowSeconds, 0, 3600);
  if (rules.selectPolicy !== undefined) oneOf(errors, path.child("selectPolicy"), rules.selectPolicy, ["Disabled", "Max", "Min"]);
  (rules.policies ?? []).forEach((policy, i) => {
    const p = path.child("policies").index(i);
    oneOf(errors, p.child("type"), policy.type, ["Percent", "Pods"]);
    if (!(policy.value > 0)) errors.push(fieldErrors.invalid(p.child("value"), policy.value, "must be greater than zero"));
    inRange(errors, p.child("periodSeconds"), policy.periodSeconds, 1, 1800);
  });
}

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): FieldError[] {
  const errors = validateObjectMeta(hpa.metadata, { namespaced: true, validateName: nameIsPathSegment });
  const s = hpa.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  const ref = spec.child("scaleTargetRef");
  if (!s.scaleTargetRef?.kind) errors.push(fieldErrors.required(ref.child("kind")));
  if (!s.scaleTargetRef?.name) errors.push(fieldErrors.required(ref.child("name")));
  else for (const msg of nameIsPathSegment(s.scaleTargetRef.name, false)) errors.push(fieldErrors.invalid(ref.child("name"), s.scaleTargetRef.name, msg));
  const min = s.minReplicas ?? 1;
  if (min < 1) errors.push(fieldErrors.invalid(spec.child("minReplicas"), min, "must be greater than or equal to 1"));
  if (s.maxReplicas === undefined || s.maxReplicas < 1)
    errors.push(fieldErrors.invalid(spec.child("maxReplicas"), s.maxReplicas ?? 0, "must be greater than 0"));
  else if (s.maxReplicas < min) errors.push(fieldErrors.invalid(spec.child("maxReplicas"), s.maxReplicas, "must be greater than or equal to `minReplicas`"));
  (s.metrics ?? []).forEach((metric, i) => {
    const mp = spec.child("metrics").index(i);
    oneOf(errors, mp.child("type"), metric.type, ["ContainerResource", "External", "Object", "Pods", "Resource"]);
    switch (metric.type) {
      case "Resource":
        if (!metric.resource) errors.push(fieldErrors.required(mp.child("resource"), "must populate information for the given metric source"));
        else {
          if (!metric.resource.name) errors.push(fieldErrors.required(mp.child("resource", "name")));
          validateMetricTarget(errors, mp.child("resource", "target"), metric.resource.target, true);
        }
        break;
      case "ContainerResource":
        if (!metric.containerResource)
          errors.push(fieldErrors.required(mp.child("containerResource"), "must populate information for the given metric source"));
        else {
          if (!metric.containerResource.container) errors.push(fieldErrors.required(mp.child("containerResource", "container")));
          validateMetricTarget(errors, mp.child("containerResource", "target"), metric.containerResource.target, true);
        }
        break;
      case "Pods":
        if (!metric.pods) errors.push(fieldErrors.required(mp.child("pods"), "must populate information for the given metric source"));
        else validateMetricTarget(errors, mp.child("pods", "target"), metric.pods.target, false);
        break;
      case "Object":
        if (!metric.object) errors.push(fieldErrors.required(mp.child("object"), "must populate information for the given metric source"));
        else validateMetricTarget(errors, mp.child("object", "target"), metric.object.target, true);
        break;
      case "External":
        if (!metric.external) errors.push(fieldErrors.required(mp.child("external"), "must populate information for the given metric source"));
        else {
          validateLabelSelector(errors, mp.child("external", "metric", "selector"), metric.external.metric?.selector);
          validateMetricTarget(errors, mp.child("external", "target"), metric.external.target, false);
        }
        break;
    }
  });
  validateScalingRules(errors, spec.child("behavior", "scaleUp"), s.behavior?.scaleUp);
  validateScalingRules(errors, spec.child("behavior", "scaleDown"), s.behavior?.scaleDown);
  return errors;
}

export function validateHorizontalPodAutoscalerUpdate(hpa: HorizontalPodAutoscaler, old: HorizontalPodAutoscaler): FieldError[] {
  return [...validateObjectMetaUpdate(hpa.metadata, old.metadata), ...withoutMeta(validateHorizontalPodAutoscaler(hpa))];
}

// ---- RBAC ----

const rbacGroup = "rbac.authorization.k8s.io";

function validatePolicyRule(errors: FieldError[], path: FieldPath, rule: PolicyRule, namespaced: boolean): void {
  if ((rule.verbs ?? []).length === 0) errors.push(fieldErrors.required(path.child("verbs"), "verbs must contain at least one value"));
  if ((rule.nonResourceURLs ?? []).length > 0) {
    if (namespaced) errors.push(fieldErrors.invalid(path.child("nonResourceURLs"), rule.nonResourceURLs, "namespaced rules cannot apply to non-resource URLs"));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0) {
      errors.push(
        fieldErrors.invalid(path.child("nonResourceURLs"), rule.nonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"),
      );
    }
    return;
  }
  if ((rule.apiGroups ?? []).length === 0) errors.push(fieldErrors.required(path.child("apiGroups"), "resource rules must supply at least one api group"));
  if ((rule.resources ?? []).length === 0) errors.push(fieldErrors.required(path.child("resources"), "resource rules must supply at least one resource"));
}

export function validateRole(role: Role): FieldError[] {
  const errors = validateObjectMeta(role.metadata, { namespaced: true, validateName: nameIsPathSegment });
  (role.rules ?? []).forEach((rule, i) => validatePolicyRule(errors, FieldPath.root("rules").index(i), rule, true));
  return errors;
}

export function validateRoleUpdate(role: Role, old: Role): FieldError[] {
  return [...validateObjectMetaUpdate(role.metadata, old.metadata), ...withoutMeta(validateRole(role))];
}

export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errors = validateObjectMeta(role.metadata, { namespaced: false, validateName: nameIsPathSegment });
  (role.rules ?? []).forEach((rule, i) => validatePolicyRule(errors, FieldPath.root("rules").index(i), rule, false));
  (role.aggregationRule?.clusterRoleSelectors ?? []).forEach((selector, i) =>
    validateLabelSelector(errors, FieldPath.root("aggregationRule", "clusterRoleSelectors").index(i), selector),
  );
  return errors;
}

export function validateClusterRoleUpdate(role: ClusterRole, old: ClusterRole): FieldError[] {
  return [...validateObjectMetaUpdate(role.metadata, old.metadata), ...withoutMeta(validateClusterRole(role))];
}

function validateSubject(errors: FieldError[], path: FieldPath, subject: Subject, clusterScoped: boolean): void {
  if (!subject.name) errors.push(fieldErrors.required(path.child("name")));
  switch (subject.kind) {
    case "ServiceAccount":
      if (subject.name) for (const msg of nameIsDnsSubdomain(subject.name, false)) errors.push(fieldErrors.invalid(path.child("name"), subject.name, msg));
      if (subject.apiGroup) errors.push(fieldErrors.notSupported(path.child("apiGroup"), subject.apiGroup, [""]));
      if (clusterScoped && !subject.namespace) errors.push(fieldErrors.required(path.child("namespace")));
      break;
    case "User":
    case "Group":
      if (subject.apiGroup !== rbacGroup) errors.push(fieldErrors.notSupported(path.child("apiGroup"), subject.apiGroup ?? "", [rbacGroup]));
      break;
    default:
      errors.push(fieldErrors.notSupported(path.child("kind"), subject.kind, ["ServiceAccount", "User", "Group"]));
  }
}

function validateRoleRef(errors: FieldError[], roleRef: RoleRef | undefined, kinds: readonly string[]): void {
  const path = FieldPath.root("roleRef");
  if (roleRef === undefined) {
    errors.push(fieldErrors.required(path));
    return;
  }
  if (roleRef.apiGroup !== rbacGroup) errors.push(fieldErrors.notSupported(path.child("apiGroup"), roleRef.apiGroup ?? "", [rbacGroup]));
  if (!kinds.includes(roleRef.kind)) errors.push(fieldErrors.notSupported(path.child("kind"), roleRef.kind ?? "", kinds));
  if (!roleRef.name) errors.push(fieldErrors.required(path.child("name")));
  else for (const msg of nameIsPathSegment(roleRef.name, false)) errors.push(fieldErrors.invalid(path.child("name"), roleRef.name, msg));
}

export function validateRoleBinding(binding: RoleBinding): FieldError[] {
  const errors = validateObjectMeta(binding.metadata, { namespaced: true, validateName: nameIsPathSegment });
  validateRoleRef(errors, binding.roleRef, ["Role", "ClusterRole"]);
  (binding.subjects ?? []).forEach((s, i) => validateSubject(errors, FieldPath.root("subjects").index(i), s, false));
  return errors;
}

function roleRefGo(ref: RoleRef | undefined): GoValue {
  return new GoValue(
    `rbac.RoleRef{APIGroup:${JSON.stringify(ref?.apiGroup ?? "")}, Kind:${JSON.stringify(ref?.kind ?? "")}, Name:${JSON.stringify(ref?.name ?? "")}}`,
  );
}

export function validateRoleBindingUpdate(binding: RoleBinding, old: RoleBinding): FieldError[] {
  const errors = [...validateObjectMetaUpdate(binding.metadata, old.metadata), ...withoutMeta(validateRoleBinding(binding))];
  const before = errors.length;
  immutable(errors, FieldPath.root("roleRef"), binding.roleRef, old.roleRef, roleRefGo(binding.roleRef));
  if (errors.length > before) {
    const last = errors[errors.length - 1];
    if (last) last.detail = "cannot change roleRef";
  }
  return errors;
}

export function validateClusterRoleBinding(binding: ClusterRoleBinding): FieldError[] {
  const errors = validateObjectMeta(binding.metadata, { namespaced: false, validateName: nameIsPathSegment });
  validateRoleRef(errors, binding.roleRef, ["ClusterRole"]);
  (binding.subjects ?? []).forEach((s, i) => validateSubject(errors, FieldPath.root("subjects").index(i), s, true));
  return errors;
}

export function validateClusterRoleBindingUpdate(binding: ClusterRoleBinding, old: ClusterRoleBinding): FieldError[] {
  const errors = [...validateObjectMetaUpdate(binding.metadata, old.metadata), ...withoutMeta(validateClusterRoleBinding(binding))];
  const before = errors.length;
  immutable(errors, FieldPath.root("roleRef"), binding.roleRef, old.roleRef, roleRefGo(binding.roleRef));
  if (errors.length > before) {
    const last = errors[errors.length - 1];
    if (last) last.detail = "cannot change roleRef";
  }
  return errors;
}
