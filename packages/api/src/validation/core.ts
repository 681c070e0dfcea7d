/** Validation of the core/v1 kinds other than Pod. */
import type { Binding } from "../types/core/pod.js";
import type { Namespace } from "../types/core/namespace.js";
import type { Node } from "../types/core/node.js";
import type { Endpoints, Service } from "../types/core/service.js";
import type { ConfigMap, Secret, ServiceAccount } from "../types/core/config.js";
import type { Event } from "../types/core/event.js";
import { byteLength, deepEqual } from "../util/json.js";
import { fieldErrors, FieldPath, GoValue, type FieldError } from "./field.js";
import {
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidIp,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDns1035Label,
  nameIsDnsLabel,
  nameIsDnsSubdomain,
} from "./names.js";
import { immutable, inRange, oneOf, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from "./common.js";
import { protocols, taintEffects } from "./pod.js";

const spec = FieldPath.root("spec");

export function validateNamespace(ns: Namespace): FieldError[] {
  const errors = validateObjectMeta(ns.metadata, { namespaced: false, validateName: nameIsDnsLabel });
  (ns.spec?.finalizers ?? []).forEach((f) => {
    for (const msg of isQualifiedName(f)) errors.push(fieldErrors.invalid(spec.child("finalizers"), f, msg));
  });
  return errors;
}

export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return [...validateObjectMetaUpdate(ns.metadata, old.metadata), ...validateNamespace(ns).filter((e) => !e.field.startsWith("metadata."))];
}

export function validateNode(node: Node): FieldError[] {
  const errors = validateObjectMeta(node.metadata, { namespaced: false, validateName: nameIsDnsSubdomain });
  const seen = new Set<string>();
  (node.spec?.taints ?? []).forEach((t, i) => {
    const p = spec.child("taints").index(i);
    if (!t.key) errors.push(fieldErrors.required(p.child("key")));
    else for (const msg of isQualifiedName(t.key)) errors.push(fieldErrors.invalid(p.child("key"), t.key, msg));
    if (t.value) for (const msg of isValidLabelValue(t.value)) errors.push(fieldErrors.invalid(p.child("value"), t.value, msg));
    oneOf(errors, p.child("effect"), t.effect, taintEffects);
    const id = `${t.key}:${t.effect}`;
    if (seen.has(id)) errors.push(fieldErrors.duplicate(p, new GoValue(`core.Taint{Key:${JSON.stringify(t.key)}, Effect:${JSON.stringify(t.effect)}}`)));
    seen.add(id);
  });
  return errors;
}

export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errors = [...validateObjectMetaUpdate(node.metadata, old.metadata), ...validateNode(node).filter((e) => !e.field.startsWith("metadata."))];
  if (old.spec?.podCIDR && node.spec?.podCIDR !== old.spec.podCIDR)
    errors.push(fieldErrors.forbidden(spec.child("podCIDR"), 'node updates may not change podCIDR except from "" to valid'));
  return errors;
}

export const serviceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] as const;

export function validateService(svc: Service): FieldError[] {
  const errors = validateObjectMeta(svc.metadata, { namespaced: true, validateName: nameIsDns1035Label });
  const s = svc.spec;
  if (s === undefined) return [...errors, fieldErrors.required(spec)];
  oneOf(errors, spec.child("type"), s.type, serviceTypes);
  const type = s.type ?? "ClusterIP";
  const headless = s.clusterIP === "None";
  if (type === "ExternalName") {
    if (!s.externalName) errors.push(fieldErrors.required(spec.child("externalName")));
    else
      for (const msg of isDns1123Subdomain(s.externalName.replace(/\.$/, "")))
        errors.push(fieldErrors.invalid(spec.child("externalName"), s.externalName, msg));
    if (s.clusterIP && s.clusterIP !== "") errors.push(fieldErrors.forbidden(spec.child("clusterIPs"), "may not be set for ExternalName services"));
  } else if (!headless && (s.ports ?? []).length === 0) {
    errors.push(fieldErrors.required(spec.child("ports")));
  }
  if (s.clusterIP && s.clusterIP !== "None" && !isValidIp(s.clusterIP))
    errors.push(fieldErrors.invalid(spec.child("clusterIPs").index(0), s.clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  if (headless && type !== "ClusterIP" && type !== "ExternalName")
    errors.push(fieldErrors.invalid(spec.child("clusterIPs").index(0), "None", `may not be set to 'None' for ${type} services`));
  const ports = s.ports ?? [];
  const names = new Set<string>();
  const seenPorts = new Set<string>();
  ports.forEach((port, i) => {
    const p = spec.child("ports").index(i);
    if (ports.length > 1 && !port.name) errors.push(fieldErrors.required(p.child("name")));
    if (port.name) {
      for (const msg of isDns1123Label(port.name)) errors.push(fieldErrors.invalid(p.child("name"), port.name, msg));
      if (names.has(port.name)) errors.push(fieldErrors.duplicate(p.child("name"), port.name));
      names.add(port.name);
    }
    for (const msg of isValidPortNum(port.port)) errors.push(fieldErrors.invalid(p.child("port"), port.port, msg));
    oneOf(errors, p.child("protocol"), port.protocol, protocols);
    const target = port.targetPort;
    if (target !== undefined && target !== 0 && target !== "") {
      if (typeof target === "number") for (const msg of isValidPortNum(target)) errors.push(fieldErrors.invalid(p.child("targetPort"), target, msg));
      else for (const msg of isValidPortName(target)) errors.push(fieldErrors.invalid(p.child("targetPort"), target, msg));
    }
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type !== "NodePort" && type !== "LoadBalancer") errors.push(fieldErrors.forbidden(p.child("nodePort"), `may not be used when \`type\` is '${type}'`));
      for (const msg of isValidPortNum(port.nodePort)) errors.push(fieldErrors.invalid(p.child("nodePort"), port.nodePort, msg));
    }
    const id = `${port.port}/${port.protocol ?? "TCP"}`;
    if (seenPorts.has(id))
      errors.push(fieldErrors.duplicate(p, new GoValue(`core.ServicePort{Port:${port.port}, Protocol:${JSON.stringify(port.protocol ?? "TCP")}}`)));
    seenPorts.add(id);
  });
  if (s.sessionAffinity !== undefined) oneOf(errors, spec.child("sessionAffinity"), s.sessionAffinity, ["ClientIP", "None"]);
  inRange(errors, spec.child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), s.sessionAffinityConfig?.clientIP?.timeoutSeconds, 1, 86400);
  if (type !== "ExternalName") validateLabels(errors, spec.child("selector"), s.selector);
  (s.externalIPs ?? []).forEach((ip, i) => {
    if (!isValidIp(ip))
      errors.push(fieldErrors.invalid(spec.child("externalIPs").index(i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  if (s.externalTrafficPolicy !== undefined && type !== "NodePort" && type !== "LoadBalancer") {
    errors.push(
      fieldErrors.invalid(spec.child("externalTrafficPolicy"), s.externalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"),
    );
  }
  return errors;
}

/** Services keep their cluster IP for life (type changes to/from ExternalName aside). */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errors = [...validateObjectMetaUpdate(svc.metadata, old.metadata), ...validateService(svc).filter((e) => !e.field.startsWith("metadata."))];
  const oldIp = old.spec?.clusterIP;
  const newIp = svc.spec?.clusterIP;
  const typeChangeToOrFromExternalName = (old.spec?.type === "ExternalName") !== (svc.spec?.type === "ExternalName");
  if (oldIp && !typeChangeToOrFromExternalName && newIp !== oldIp) {
    errors.push(fieldErrors.invalid(spec.child("clusterIPs").index(0), svc.spec?.clusterIPs ?? [newIp ?? ""], "may not change once set"));
  }
  return errors;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errors = validateObjectMeta(ep.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  (ep.subsets ?? []).forEach((subset, i) => {
    const p = FieldPath.root("subsets").index(i);
    for (const listName of ["addresses", "notReadyAddresses"] as const) {
      (subset[listName] ?? []).forEach((a, j) => {
        if (!isValidIp(a.ip)) errors.push(fieldErrors.invalid(p.child(listName).index(j).child("ip"), a.ip, "must be a valid IP address"));
      });
    }
    const ports = subset.ports ?? [];
    ports.forEach((port, j) => {
      const pp = p.child("ports").index(j);
      if (ports.length > 1 && !port.name) errors.push(fieldErrors.required(pp.child("name")));
      for (const msg of isValidPortNum(port.port)) errors.push(fieldErrors.invalid(pp.child("port"), port.port, msg));
      oneOf(errors, pp.child("protocol"), port.protocol, protocols);
    });
  });
  return errors;
}

export function validateEndpointsUpdate(ep: Endpoints, old: Endpoints): FieldError[] {
  return [...validateObjectMetaUpdate(ep.metadata, old.metadata), ...validateEndpoints(ep).filter((e) => !e.field.startsWith("metadata."))];
}

/** ConfigMaps and Secrets are limited to 1 MiB of data, as in Kubernetes. */
export const configDataSizeBytesMax = 1024 * 1024;

function validateDataKeys(errors: FieldError[], data: Record<string, string> | undefined, field: string, other?: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(data ?? {})) {
    for (const msg of isConfigMapKey(key)) errors.push(fieldErrors.invalid(FieldPath.root(field).key(key), key, msg));
    if (other !== undefined && Object.hasOwn(other, key))
      errors.push(fieldErrors.invalid(FieldPath.root(field).key(key), key, "duplicate of key present in binaryData"));
    total += byteLength(value);
  }
  return total;
}

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errors = validateObjectMeta(cm.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const total = validateDataKeys(errors, cm.data, "data", cm.binaryData) + validateDataKeys(errors, cm.binaryData, "binaryData");
  if (total > configDataSizeBytesMax) errors.push(fieldErrors.tooLong(FieldPath.root(""), "", configDataSizeBytesMax));
  return errors;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errors = [...validateObjectMetaUpdate(cm.metadata, old.metadata), ...validateConfigMap(cm).filter((e) => !e.field.startsWith("metadata."))];
  if (old.immutable === true) {
    if (cm.immutable !== true) errors.push(fieldErrors.forbidden(FieldPath.root("immutable"), "field is immutable when `immutable` is set"));
    if (!deepEqual(cm.data ?? {}, old.data ?? {})) errors.push(fieldErrors.forbidden(FieldPath.root("data"), "field is immutable when `immutable` is set"));
    if (!deepEqual(cm.binaryData ?? {}, old.binaryData ?? {}))
      errors.push(fieldErrors.forbidden(FieldPath.root("binaryData"), "field is immutable when `immutable` is set"));
  }
  return errors;
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Keys that typed Secrets must carry (Kubernetes ValidateSecret). */
const requiredSecretKeys: Record<string, string[]> = {
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/basic-auth": [],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
};

export function validateSecret(secret: Secret): FieldError[] {
  const errors = validateObjectMeta(secret.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const total = validateDataKeys(errors, secret.data, "data");
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    if (!base64Re.test(value)) errors.push(fieldErrors.invalid(FieldPath.root("data").key(key), "<secret data>", "illegal base64 data"));
  }
  if (total > configDataSizeBytesMax) errors.push(fieldErrors.tooLong(FieldPath.root("data"), "", configDataSizeBytesMax));
  const type = secret.type ?? "Opaque";
  for (const key of requiredSecretKeys[type] ?? []) {
    if (!Object.hasOwn(secret.data ?? {}, key)) errors.push(fieldErrors.required(FieldPath.root("data").key(key)));
  }
  if (type === "kubernetes.io/service-account-token" && !secret.metadata.annotations?.["kubernetes.io/service-account.name"]) {
    errors.push(fieldErrors.required(FieldPath.root("metadata", "annotations").key("kubernetes.io/service-account.name")));
  }
  return errors;
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errors = [...validateObjectMetaUpdate(secret.metadata, old.metadata), ...validateSecret(secret).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, FieldPath.root("type"), secret.type ?? "Opaque", old.type ?? "Opaque");
  if (old.immutable === true) {
    if (secret.immutable !== true) errors.push(fieldErrors.forbidden(FieldPath.root("immutable"), "field is immutable when `immutable` is set"));
    if (!deepEqual(secret.data ?? {}, old.data ?? {})) errors.push(fieldErrors.forbidden(FieldPath.root("data"), "field is immutable when `immutable` is set"));
  }
  return errors;
}

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  const errors = validateObjectMeta(sa.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  (sa.secrets ?? []).forEach((s, i) => {
    if (!s.name) errors.push(fieldErrors.required(FieldPath.root("secrets").index(i).child("name")));
  });
  return errors;
}

export function validateServiceAccountUpdate(sa: ServiceAccount, old: ServiceAccount): FieldError[] {
  return [...validateObjectMetaUpdate(sa.metadata, old.metadata), ...validateServiceAccount(sa).filter((e) => !e.field.startsWith("metadata."))];
}

export function validateEvent(event: Event): FieldError[] {
  const errors = validateObjectMeta(event.metadata, { namespaced: true, validateName: nameIsDnsSubdomain });
  const involved = event.involvedObject;
  if (involved === undefined) {
    errors.push(fieldErrors.required(FieldPath.root("involvedObject")));
    return errors;
  }
  if (involved.namespace && event.metadata.namespace && involved.namespace !== event.metadata.namespace) {
    errors.push(fieldErrors.invalid(FieldPath.root("involvedObject", "namespace"), involved.namespace, "does not match event.namespace"));
  }
  if (event.type !== undefined && event.type !== "" && event.type !== "Normal" && event.type !== "Warning") {
    errors.push(fieldErrors.notSupported(FieldPath.root("type"), event.type, ["Normal", "Warning"]));
  }
  if (event.count !== undefined && event.count < 0)
    errors.push(fieldErrors.invalid(FieldPath.root("count"), event.count, "must be greater than or equal to 0"));
  return errors;
}

export function validateEventUpdate(event: Event, old: Event): FieldError[] {
  const errors = [...validateObjectMetaUpdate(event.metadata, old.metadata), ...validateEvent(event).filter((e) => !e.field.startsWith("metadata."))];
  immutable(errors, FieldPath.root("involvedObject"), event.involvedObject, old.involvedObject, new GoValue("core.ObjectReference{...}"));
  return errors;
}

/** pods/binding: the scheduler names a node. */
export function validateBinding(binding: Binding): FieldError[] {
  const errors: FieldError[] = [];
  if (!binding.target?.name) errors.push(fieldErrors.required(FieldPath.root("target", "name")));
  else
    for (const msg of nameIsDnsSubdomain(binding.target.name, false))
      errors.push(fieldErrors.invalid(FieldPath.root("target", "name"), binding.target.name, msg));
  if (binding.target?.kind && binding.target.kind !== "Node")
    errors.push(fieldErrors.notSupported(FieldPath.root("target", "kind"), binding.target.kind, ["Node", "<empty>"]));
  return errors;
}
