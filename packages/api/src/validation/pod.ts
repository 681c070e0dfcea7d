/** Pod and PodSpec validation (k8s pkg/apis/core/validation ValidatePodSpec / ValidatePodUpdate). */
import type { ObjectMeta } from "../types/meta/v1.js";
import type { Affinity, Container, EnvVar, PodSpec, PodTemplateSpec, Probe, Toleration, Volume, Pod } from "../types/core/pod.js";
import { volumeSourceFields } from "../types/core/pod.js";
import type { NodeSelectorTerm } from "../types/core/common.js";
import { isValidQuantity, parseQuantity, quantityFormatMessage } from "../quantity.js";
import { deepClone, deepEqual } from "../util/json.js";
import { fieldErrors, FieldPath, type FieldError } from "./field.js";
import {
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDnsSubdomain,
} from "./names.js";
import {
  inRange,
  nonNegative,
  oneOf,
  validateAnnotations,
  validateLabels,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "./common.js";

export const restartPolicies = ["Always", "OnFailure", "Never"] as const;
export const dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"] as const;
export const pullPolicies = ["Always", "IfNotPresent", "Never"] as const;
export const protocols = ["TCP", "UDP", "SCTP"] as const;
export const taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export const hostPathTypes = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"] as const;

/** Downward API paths an env var's fieldRef may read (validEnvDownwardAPIFieldPathExpressions). */
const envFieldPaths = new Set([
  "metadata.name",
  "metadata.namespace",
  "metadata.uid",
  "spec.nodeName",
  "spec.serviceAccountName",
  "status.hostIP",
  "status.hostIPs",
  "status.podIP",
  "status.podIPs",
]);

function validateEnvFieldPath(errors: FieldError[], path: FieldPath, fieldPath: string): void {
  if (envFieldPaths.has(fieldPath)) return;
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript !== null) {
    for (const msg of isQualifiedName((subscript[2] ?? "").toLowerCase())) errors.push(fieldErrors.invalid(path, fieldPath, msg));
    return;
  }
  errors.push(fieldErrors.notSupported(path, fieldPath, [...envFieldPaths, "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']"]));
}

function validateEnv(errors: FieldError[], path: FieldPath, env: EnvVar[] | undefined): void {
  (env ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (!e.name) errors.push(fieldErrors.required(p.child("name")));
    else for (const msg of isEnvVarName(e.name)) errors.push(fieldErrors.invalid(p.child("name"), e.name, msg));
    const from = e.valueFrom;
    if (from === undefined) return;
    const sources = (["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"] as const).filter((k) => from[k] !== undefined);
    if (e.value) errors.push(fieldErrors.invalid(p.child("valueFrom"), "", "may not be specified when `value` is not empty"));
    if (sources.length === 0)
      errors.push(fieldErrors.invalid(p.child("valueFrom"), "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if (sources.length > 1) errors.push(fieldErrors.invalid(p.child("valueFrom"), "", "may not have more than one field specified at a time"));
    const vp = p.child("valueFrom");
    if (from.fieldRef) {
      if (!from.fieldRef.fieldPath) errors.push(fieldErrors.required(vp.child("fieldRef", "fieldPath")));
      else validateEnvFieldPath(errors, vp.child("fieldRef", "fieldPath"), from.fieldRef.fieldPath);
    }
    if (from.resourceFieldRef && !from.resourceFieldRef.resource) errors.push(fieldErrors.required(vp.child("resourceFieldRef", "resource")));
    for (const refName of ["configMapKeyRef", "secretKeyRef"] as const) {
      const ref = from[refName];
      if (!ref) continue;
      if (!ref.name) errors.push(fieldErrors.required(vp.child(refName, "name")));
      if (!ref.key) errors.push(fieldErrors.required(vp.child(refName, "key")));
      else for (const msg of isConfigMapKey(ref.key)) errors.push(fieldErrors.invalid(vp.child(refName, "key"), ref.key, msg));
    }
  });
}

const standardResources = new Set(["cpu", "memory", "ephemeral-storage", "pods", "storage"]);

function validateResourceName(errors: FieldError[], path: FieldPath, name: string): void {
  if (standardResources.has(name) || name.startsWith("hugepages-")) return;
  if (!name.includes("/")) {
    errors.push(fieldErrors.invalid(path, name, "must be a standard resource type or fully qualified"));
    return;
  }
  for (const msg of isQualifiedName(name)) errors.push(fieldErrors.invalid(path, name, msg));
}

function validateResources(errors: FieldError[], path: FieldPath, container: Container): void {
  const { limits = {}, requests = {} } = container.resources ?? {};
  for (const [kind, list] of [
    ["limits", limits],
    ["requests", requests],
  ] as const) {
    for (const [name, quantity] of Object.entries(list)) {
      const p = path.child(kind).key(name);
      validateResourceName(errors, p, name);
      if (!isValidQuantity(quantity)) errors.push(fieldErrors.invalid(p, quantity, quantityFormatMessage));
      else if (parseQuantity(quantity) < 0) errors.push(fieldErrors.invalid(p, quantity, "must be greater than or equal to 0"));
    }
  }
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined || !isValidQuantity(limit) || !isValidQuantity(request)) continue;
    if (parseQuantity(request) > parseQuantity(limit))
      errors.push(fieldErrors.invalid(path.child("requests").key(name), request, `must be less than or equal to ${name} limit of ${limit}`));
  }
}

function validatePortRef(errors: FieldError[], path: FieldPath, port: number | string | undefined): void {
  if (port === undefined || port === "" || port === 0) {
    errors.push(fieldErrors.required(path));
    return;
  }
  if (typeof port === "number") for (const msg of isValidPortNum(port)) errors.push(fieldErrors.invalid(path, port, msg));
  else for (const msg of isValidPortName(port)) errors.push(fieldErrors.invalid(path, port, msg));
}

function validateProbe(errors: FieldError[], path: FieldPath, probe: Probe | undefined, successMustBeOne: boolean): void {
  if (probe === undefined) return;
  const handlers = (["exec", "httpGet", "tcpSocket", "grpc"] as const).filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) errors.push(fieldErrors.required(path, "must specify a handler type"));
  for (const extra of handlers.slice(1)) errors.push(fieldErrors.forbidden(path.child(extra), "may not specify more than 1 handler type"));
  if (probe.httpGet) validatePortRef(errors, path.child("httpGet", "port"), probe.httpGet.port);
  if (probe.tcpSocket) validatePortRef(errors, path.child("tcpSocket", "port"), probe.tcpSocket.port);
  if (probe.grpc) for (const msg of isValidPortNum(probe.grpc.port)) errors.push(fieldErrors.invalid(path.child("grpc", "port"), probe.grpc.port, msg));
  if (probe.exec && (probe.exec.command ?? []).length === 0) errors.push(fieldErrors.required(path.child("exec", "command")));
  nonNegative(errors, path.child("initialDelaySeconds"), probe.initialDelaySeconds);
  nonNegative(errors, path.child("timeoutSeconds"), probe.timeoutSeconds);
  nonNegative(errors, path.child("periodSeconds"), probe.periodSeconds);
  nonNegative(errors, path.child("successThreshold"), probe.successThreshold);
  nonNegative(errors, path.child("failureThreshold"), probe.failureThreshold);
  if (successMustBeOne && probe.successThreshold !== undefined && probe.successThreshold !== 1)
    errors.push(fieldErrors.invalid(path.child("successThreshold"), probe.successThreshold, "must be 1"));
}

function validateContainer(errors: FieldError[], path: FieldPath, c: Container, volumes: Set<string>, hostNetwork: boolean, isInit: boolean): void {
  if (!c.name) errors.push(fieldErrors.required(path.child("name")));
  else for (const msg of isDns1123Label(c.name)) errors.push(fieldErrors.invalid(path.child("name"), c.name, msg));
  if (!c.image) errors.push(fieldErrors.required(path.child("image")));
  else if (c.image.trim() !== c.image) errors.push(fieldErrors.invalid(path.child("image"), c.image, "must not have leading or trailing whitespace"));
  oneOf(errors, path.child("imagePullPolicy"), c.imagePullPolicy, pullPolicies);
  if (c.terminationMessagePolicy !== undefined)
    oneOf(errors, path.child("terminationMessagePolicy"), c.terminationMessagePolicy, ["File", "FallbackToLogsOnError"]);
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const p = path.child("ports").index(i);
    if (port.name) {
      for (const msg of isValidPortName(port.name)) errors.push(fieldErrors.invalid(p.child("name"), port.name, msg));
      if (portNames.has(port.name)) errors.push(fieldErrors.duplicate(p.child("name"), port.name));
      portNames.add(port.name);
    }
    if (port.containerPort === undefined || port.containerPort === 0) errors.push(fieldErrors.required(p.child("containerPort")));
    else for (const msg of isValidPortNum(port.containerPort)) errors.push(fieldErrors.invalid(p.child("containerPort"), port.containerPort, msg));
    if (port.hostPort !== undefined && port.hostPort !== 0) {
      for (const msg of isValidPortNum(port.hostPort)) errors.push(fieldErrors.invalid(p.child("hostPort"), port.hostPort, msg));
      if (hostNetwork && port.hostPort !== port.containerPort)
        errors.push(fieldErrors.invalid(p.child("hostPort"), port.hostPort, "must match `containerPort` when `hostNetwork` is true"));
    }
    oneOf(errors, p.child("protocol"), port.protocol, protocols);
  });
  validateEnv(errors, path.child("env"), c.env);
  validateResources(errors, path.child("resources"), c);
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((mount, i) => {
    const p = path.child("volumeMounts").index(i);
    if (!mount.name) errors.push(fieldErrors.required(p.child("name")));
    else if (!volumes.has(mount.name)) errors.push(fieldErrors.notFound(p.child("name"), mount.name));
    if (!mount.mountPath) errors.push(fieldErrors.required(p.child("mountPath")));
    else if (mountPaths.has(mount.mountPath)) errors.push(fieldErrors.invalid(p.child("mountPath"), mount.mountPath, "must be unique"));
    if (mount.mountPath) mountPaths.add(mount.mountPath);
    if (mount.subPath && (mount.subPath.startsWith("/") || mount.subPath.split("/").includes("..")))
      errors.push(fieldErrors.invalid(p.child("subPath"), mount.subPath, "must be a relative path without '..'"));
  });
  if (isInit) {
    if (c.lifecycle) errors.push(fieldErrors.forbidden(path.child("lifecycle"), "may not be set for init containers without restartPolicy=Always"));
    if (c.readinessProbe) errors.push(fieldErrors.forbidden(path.child("readinessProbe"), "may not be set for init containers without restartPolicy=Always"));
    if (c.restartPolicy !== undefined && c.restartPolicy !== "Always")
      errors.push(fieldErrors.notSupported(path.child("restartPolicy"), c.restartPolicy, ["Always"]));
  } else if (c.restartPolicy !== undefined) {
    errors.push(fieldErrors.forbidden(path.child("restartPolicy"), "may not be set for non-init containers"));
  }
  validateProbe(errors, path.child("livenessProbe"), c.livenessProbe, true);
  validateProbe(errors, path.child("readinessProbe"), c.readinessProbe, false);
  validateProbe(errors, path.child("startupProbe"), c.startupProbe, true);
}

function validateVolumes(errors: FieldError[], path: FieldPath, volumes: Volume[] | undefined): Set<string> {
  const names = new Set<string>();
  (volumes ?? []).forEach((v, i) => {
    const p = path.index(i);
    if (!v.name) errors.push(fieldErrors.required(p.child("name")));
    else {
      for (const msg of isDns1123Label(v.name)) errors.push(fieldErrors.invalid(p.child("name"), v.name, msg));
      if (names.has(v.name)) errors.push(fieldErrors.duplicate(p.child("name"), v.name));
      names.add(v.name);
    }
    const sources = volumeSourceFields.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) errors.push(fieldErrors.required(p, "must specify a volume type"));
    for (const extra of sources.slice(1)) errors.push(fieldErrors.forbidden(p.child(extra), "may not specify more than 1 volume type"));
    if (v.hostPath) {
      if (!v.hostPath.path) errors.push(fieldErrors.required(p.child("hostPath", "path")));
      if (v.hostPath.type !== undefined && !(hostPathTypes as readonly string[]).includes(v.hostPath.type))
        errors.push(fieldErrors.notSupported(p.child("hostPath", "type"), v.hostPath.type, hostPathTypes.slice(1)));
    }
    if (v.configMap && !v.configMap.name) errors.push(fieldErrors.required(p.child("configMap", "name")));
    if (v.secret && !v.secret.secretName) errors.push(fieldErrors.required(p.child("secret", "secretName")));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errors.push(fieldErrors.required(p.child("persistentVolumeClaim", "claimName")));
    if (v.emptyDir?.medium !== undefined && v.emptyDir.medium !== "" && v.emptyDir.medium !== "Memory")
      errors.push(fieldErrors.notSupported(p.child("emptyDir", "medium"), v.emptyDir.medium, ["", "Memory"]));
    for (const source of ["configMap", "secret"] as const) {
      const items = v[source]?.items ?? [];
      items.forEach((item, j) => {
        const ip = p.child(source, "items").index(j);
        if (!item.key) errors.push(fieldErrors.required(ip.child("key")));
        if (!item.path) errors.push(fieldErrors.required(ip.child("path")));
        else if (item.path.startsWith("/") || item.path.split("/").includes(".."))
          errors.push(fieldErrors.invalid(ip.child("path"), item.path, "must be a relative path without '..'"));
      });
      const mode = v[source]?.defaultMode;
      if (mode !== undefined) inRange(errors, p.child(source, "defaultMode"), mode, 0, 0o777);
    }
  });
  return names;
}

function validateTolerations(errors: FieldError[], path: FieldPath, tolerations: Toleration[] | undefined): void {
  (tolerations ?? []).forEach((t, i) => {
    const p = path.index(i);
    if (t.key) for (const msg of isQualifiedName(t.key)) errors.push(fieldErrors.invalid(p.child("key"), t.key, msg));
    if (!t.key && t.operator !== "Exists")
      errors.push(
        fieldErrors.invalid(p.child("operator"), t.operator ?? "", 'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
      );
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute")
      errors.push(fieldErrors.invalid(p.child("effect"), t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (t.operator) {
      case undefined:
      case "Equal":
        if (t.value) for (const msg of isValidLabelValue(t.value)) errors.push(fieldErrors.invalid(p.child("value"), t.value, msg));
        break;
      case "Exists":
        if (t.value) errors.push(fieldErrors.invalid(p.child("operator"), t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errors.push(fieldErrors.notSupported(p.child("operator"), t.operator, ["Equal", "Exists"]));
    }
    if (t.effect) oneOf(errors, p.child("effect"), t.effect, taintEffects);
  });
}

function validateNodeSelectorTerm(errors: FieldError[], path: FieldPath, term: NodeSelectorTerm): void {
  for (const listName of ["matchExpressions", "matchFields"] as const) {
    (term[listName] ?? []).forEach((r, i) => {
      const p = path.child(listName).index(i);
      const values = r.values ?? [];
      switch (r.operator) {
        case "In":
        case "NotIn":
          if (values.length === 0) errors.push(fieldErrors.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
          break;
        case "Exists":
        case "DoesNotExist":
          if (values.length > 0) errors.push(fieldErrors.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
          break;
        case "Gt":
        case "Lt":
          if (values.length !== 1 || !/^-?[0-9]+$/.test(values[0] ?? ""))
            errors.push(fieldErrors.required(p.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
          break;
        default:
          errors.push(fieldErrors.invalid(p.child("operator"), r.operator, "not a valid selector operator"));
      }
      if (listName === "matchExpressions") for (const msg of isQualifiedName(r.key)) errors.push(fieldErrors.invalid(p.child("key"), r.key, msg));
      else if (r.key !== "metadata.name") errors.push(fieldErrors.invalid(p.child("key"), r.key, "not a valid field selector key"));
    });
  }
}

function validateAffinity(errors: FieldError[], path: FieldPath, affinity: Affinity | undefined): void {
  const nodeAffinity = affinity?.nodeAffinity;
  if (nodeAffinity) {
    const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    const rp = path.child("nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution");
    if (required) {
      if ((required.nodeSelectorTerms ?? []).length === 0)
        errors.push(fieldErrors.required(rp.child("nodeSelectorTerms"), "must have at least one node selector term"));
      (required.nodeSelectorTerms ?? []).forEach((term, i) => validateNodeSelectorTerm(errors, rp.child("nodeSelectorTerms").index(i), term));
    }
    (nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((pref, i) => {
      const pp = path.child("nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution").index(i);
      inRange(errors, pp.child("weight"), pref.weight, 1, 100);
      validateNodeSelectorTerm(errors, pp.child("preference"), pref.preference ?? {});
    });
  }
  for (const kind of ["podAffinity", "podAntiAffinity"] as const) {
    const a = affinity?.[kind];
    if (!a) continue;
    (a.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
      const tp = path.child(kind, "requiredDuringSchedulingIgnoredDuringExecution").index(i);
      if (!term.topologyKey) errors.push(fieldErrors.required(tp.child("topologyKey"), "can not be empty"));
      validateLabelSelector(errors, tp.child("labelSelector"), term.labelSelector);
    });
    (a.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((w, i) => {
      const wp = path.child(kind, "preferredDuringSchedulingIgnoredDuringExecution").index(i);
      inRange(errors, wp.child("weight"), w.weight, 1, 100);
      if (!w.podAffinityTerm?.topologyKey) errors.push(fieldErrors.required(wp.child("podAffinityTerm", "topologyKey"), "can not be empty"));
    });
  }
}

export interface PodSpecRules {
  /** Restart policies this owner accepts (workloads narrow it: Deployments "Always", Jobs "OnFailure"/"Never"). */
  restartPolicies?: readonly string[];
}

/** ValidatePodSpec. `path` is `spec` for pods and `spec.template.spec` for workloads. */
export function validatePodSpec(spec: PodSpec | undefined, path: FieldPath, rules: PodSpecRules = {}): FieldError[] {
  const errors: FieldError[] = [];
  if (spec === undefined) {
    errors.push(fieldErrors.required(path));
    return errors;
  }
  const volumes = validateVolumes(errors, path.child("volumes"), spec.volumes);
  const hostNetwork = spec.hostNetwork === true;
  const containerNames = new Set<string>();
  const checkUnique = (c: Container, p: FieldPath): void => {
    if (!c.name) return;
    if (containerNames.has(c.name)) errors.push(fieldErrors.duplicate(p.child("name"), c.name));
    containerNames.add(c.name);
  };
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = path.child("initContainers").index(i);
    validateContainer(errors, p, c, volumes, hostNetwork, true);
    checkUnique(c, p);
  });
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errors.push(fieldErrors.required(path.child("containers")));
  (spec.containers ?? []).forEach((c, i) => {
    const p = path.child("containers").index(i);
    validateContainer(errors, p, c, volumes, hostNetwork, false);
    checkUnique(c, p);
  });
  const allowedRestart = rules.restartPolicies ?? restartPolicies;
  if (!spec.restartPolicy)
    errors.push(
      fieldErrors.required(
        path.child("restartPolicy"),
        rules.restartPolicies ? `valid values: ${allowedRestart.map((r) => JSON.stringify(r)).join(", ")}` : "",
      ),
    );
  else if (!allowedRestart.includes(spec.restartPolicy)) errors.push(fieldErrors.notSupported(path.child("restartPolicy"), spec.restartPolicy, allowedRestart));
  oneOf(errors, path.child("dnsPolicy"), spec.dnsPolicy, dnsPolicies);
  nonNegative(errors, path.child("terminationGracePeriodSeconds"), spec.terminationGracePeriodSeconds);
  inRange(errors, path.child("activeDeadlineSeconds"), spec.activeDeadlineSeconds, 1, 2147483647);
  validateLabels(errors, path.child("nodeSelector"), spec.nodeSelector);
  if (spec.nodeName) for (const msg of nameIsDnsSubdomain(spec.nodeName, false)) errors.push(fieldErrors.invalid(path.child("nodeName"), spec.nodeName, msg));
  if (spec.serviceAccountName)
    for (const msg of isDns1123Subdomain(spec.serviceAccountName))
      errors.push(fieldErrors.invalid(path.child("serviceAccountName"), spec.serviceAccountName, msg));
  if (spec.hostname) for (const msg of isDns1123Label(spec.hostname)) errors.push(fieldErrors.invalid(path.child("hostname"), spec.hostname, msg));
  if (spec.subdomain) for (const msg of isDns1123Label(spec.subdomain)) errors.push(fieldErrors.invalid(path.child("subdomain"), spec.subdomain, msg));
  (spec.imagePullSecrets ?? []).forEach((s, i) => {
    if (!s.name) errors.push(fieldErrors.required(path.child("imagePullSecrets").index(i).child("name")));
  });
  validateTolerations(errors, path.child("tolerations"), spec.tolerations);
  validateAffinity(errors, path.child("affinity"), spec.affinity);
  (spec.readinessGates ?? []).forEach((g, i) => {
    for (const msg of isQualifiedName(g.conditionType ?? ""))
      errors.push(fieldErrors.invalid(path.child("readinessGates").index(i).child("conditionType"), g.conditionType, msg));
  });
  return errors;
}

/** A pod template inside a workload: its labels and annotations, and its spec. */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: FieldPath, rules: PodSpecRules = {}): FieldError[] {
  const errors: FieldError[] = [];
  if (template === undefined) {
    errors.push(fieldErrors.required(path));
    return errors;
  }
  const meta: ObjectMeta = template.metadata ?? {};
  validateLabels(errors, path.child("metadata", "labels"), meta.labels);
  validateAnnotations(errors, path.child("metadata", "annotations"), meta.annotations);
  errors.push(...validatePodSpec(template.spec, path.child("spec"), rules));
  return errors;
}

export function validatePod(pod: Pod): FieldError[] {
  return [...validateObjectMeta(pod.metadata, { namespaced: true, validateName: nameIsDnsSubdomain }), ...validatePodSpec(pod.spec, FieldPath.root("spec"))];
}

/** What Kubernetes lets a pod update change in spec (ValidatePodUpdate's forbidden message). */
export const podUpdateForbiddenMessage =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

function changedPaths(a: unknown, b: unknown, path: string, out: string[]): void {
  if (out.length >= 5 || deepEqual(a, b)) return;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const child = Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`;
      changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], child, out);
    }
    return;
  }
  out.push(path);
}

/** ValidatePodUpdate: metadata rules plus the short list of spec fields a running pod may change. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errors = [...validateObjectMetaUpdate(pod.metadata, old.metadata), ...validatePodSpec(pod.spec, FieldPath.root("spec"))];
  const spec = pod.spec;
  const oldSpec = old.spec;
  if (spec === undefined || oldSpec === undefined) return errors;
  const specPath = FieldPath.root("spec");
  const newDeadline = spec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (oldDeadline !== undefined) {
    if (newDeadline === undefined)
      errors.push(fieldErrors.invalid(specPath.child("activeDeadlineSeconds"), null, "must not update from a positive integer to nil value"));
    else if (newDeadline > oldDeadline)
      errors.push(fieldErrors.invalid(specPath.child("activeDeadlineSeconds"), newDeadline, "must be less than or equal to previous value"));
  }
  // Compare with the mutable fields copied from the old spec: whatever still differs was not allowed.
  const comparable = deepClone(spec);
  comparable.containers.forEach((c, i) => {
    const oldImage = oldSpec.containers[i]?.image;
    if (oldImage !== undefined && oldSpec.containers[i]?.name === c.name) c.image = oldImage;
  });
  (comparable.initContainers ?? []).forEach((c, i) => {
    const oldInit = oldSpec.initContainers?.[i];
    if (oldInit?.image !== undefined && oldInit.name === c.name) c.image = oldInit.image;
  });
  if (oldDeadline === undefined) delete comparable.activeDeadlineSeconds;
  else comparable.activeDeadlineSeconds = oldDeadline;
  if (newDeadline === undefined && oldDeadline === undefined) delete comparable.activeDeadlineSeconds;
  const oldTolerations = oldSpec.tolerations ?? [];
  const keepsOld = oldTolerations.every((t) =>
    (spec.tolerations ?? []).some((n) => deepEqual(n, t) || (n.key === t.key && n.effect === t.effect && n.operator === t.operator && n.value === t.value)),
  );
  if (keepsOld) {
    if (oldSpec.tolerations === undefined) delete comparable.tolerations;
    else comparable.tolerations = oldSpec.tolerations;
  }
  if ((oldSpec.terminationGracePeriodSeconds ?? 0) < 0 && spec.terminationGracePeriodSeconds === 1)
    comparable.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  if (!deepEqual(comparable, oldSpec)) {
    const changed: string[] = [];
    changedPaths(comparable, oldSpec, "spec", changed);
    errors.push(fieldErrors.forbidden(specPath, `${podUpdateForbiddenMessage}\n  changed: ${changed.join(", ")}`));
  }
  return errors;
}
