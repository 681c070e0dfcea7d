/**
 * ServiceAccount admission (plugin/pkg/admission/serviceaccount): every pod runs as a
 * ServiceAccount. packages/api's defaulting already sets `serviceAccountName: default`; this
 * plugin does the rest Kubernetes does on pod create:
 *
 * - the ServiceAccount must exist: `pods "web" is forbidden: error looking up service account
 *   default/default: serviceaccount "default" not found` (the serviceaccounts controller makes
 *   `default` in every namespace);
 * - the ServiceAccount's imagePullSecrets are copied to a pod that lists none;
 * - unless `automountServiceAccountToken` is false (pod first, then ServiceAccount), a projected
 *   volume `kube-api-access-xxxxx` (token, ca.crt, namespace) is added and mounted read-only at
 *   /var/run/secrets/kubernetes.io/serviceaccount in every container that has nothing there;
 * - mirror pods (static pods a node reports) may not use ServiceAccounts at all.
 */
import { randomInt } from "node:crypto";
import { ApiStatusError, generateNameFromPrefix, type Pod, type ServiceAccount, type Volume } from "@coxswain/api";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./chain.js";

export const serviceAccountPluginName = "ServiceAccount";
export const defaultServiceAccountName = "default";
export const serviceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
export const serviceAccountVolumeNamePrefix = "kube-api-access-";
/** The ConfigMap every namespace holds with the cluster CA (the root-ca-cert-publisher controller makes it). */
export const rootCaConfigMapName = "kube-root-ca.crt";
/** Kubernetes' projected token lifetime: an hour plus seven seconds, so it is recognizably the default. */
export const projectedTokenExpirationSeconds = 3607;
export const mirrorPodAnnotation = "kubernetes.io/config.mirror";

export interface ServiceAccountAdmissionOptions {
  getServiceAccount: (namespace: string, name: string) => ServiceAccount | undefined | Promise<ServiceAccount | undefined>;
  /** Refuse pods whose ServiceAccount does not exist (Kubernetes: yes). */
  requireServiceAccount?: boolean;
  /** Add the token volume (Kubernetes: yes). Off until the node agent serves projected volumes. */
  mountToken?: boolean;
  /** Randomness for the volume name suffix; injectable so tests are deterministic. */
  randomInt?: (exclusiveMax: number) => number;
}

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = serviceAccountPluginName;
  private readonly options: Required<ServiceAccountAdmissionOptions>;

  constructor(options: ServiceAccountAdmissionOptions) {
    this.options = { requireServiceAccount: true, mountToken: true, randomInt: (max) => randomInt(max), ...options };
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (!isPodCreate(attributes)) return;
    const pod = attributes.object as Pod;
    if (pod.spec === undefined) return; // validation will refuse it with a field error

    if (pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined) {
      if (pod.spec.serviceAccountName) {
        throw new ApiStatusError(admissionForbidden(attributes, "a mirror pod may not reference service accounts"));
      }
      return;
    }

    pod.spec.serviceAccountName ||= defaultServiceAccountName;
    pod.spec.serviceAccount = pod.spec.serviceAccountName;
    const serviceAccount = await this.options.getServiceAccount(attributes.namespace, pod.spec.serviceAccountName);
    if (serviceAccount === undefined) {
      if (!this.options.requireServiceAccount) return;
      throw new ApiStatusError(
        admissionForbidden(
          attributes,
          `error looking up service account ${attributes.namespace}/${pod.spec.serviceAccountName}: serviceaccount ${JSON.stringify(pod.spec.serviceAccountName)} not found`,
        ),
      );
    }

    if ((pod.spec.imagePullSecrets ?? []).length === 0 && (serviceAccount.imagePullSecrets ?? []).length > 0) {
      pod.spec.imagePullSecrets = (serviceAccount.imagePullSecrets ?? []).map((s) => ({ ...s }));
    }
    if (this.options.mountToken && shouldAutomount(serviceAccount, pod)) this.mountToken(pod);
  }

  private mountToken(pod: Pod): void {
    const spec = pod.spec;
    if (spec === undefined) return;
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    const needing = containers.filter((c) => !(c.volumeMounts ?? []).some((m) => m.mountPath === serviceAccountTokenMountPath));
    if (needing.length === 0) return;
    // Reuse a token volume the pod already has (a re-submitted pod), else make one.
    let volumeName = (spec.volumes ?? []).find((v) => v.name.startsWith(serviceAccountVolumeNamePrefix) && v.projected !== undefined)?.name;
    if (volumeName === undefined) {
      const taken = new Set((spec.volumes ?? []).map((v) => v.name));
      do volumeName = generateNameFromPrefix(serviceAccountVolumeNamePrefix, this.options.randomInt);
      while (taken.has(volumeName));
      spec.volumes = [...(spec.volumes ?? []), tokenVolume(volumeName)];
    }
    for (const container of needing) {
      container.volumeMounts = [...(container.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: serviceAccountTokenMountPath }];
    }
  }
}

function isPodCreate(attributes: AdmissionAttributes): boolean {
  return (
    attributes.operation === "CREATE" &&
    attributes.subresource === "" &&
    attributes.resource.group === "" &&
    attributes.resource.resource === "pods" &&
    attributes.object !== undefined
  );
}

/** The pod's own setting wins over the ServiceAccount's; both absent means mount. */
function shouldAutomount(serviceAccount: ServiceAccount, pod: Pod): boolean {
  if (pod.spec?.automountServiceAccountToken !== undefined) return pod.spec.automountServiceAccountToken;
  if (serviceAccount.automountServiceAccountToken !== undefined) return serviceAccount.automountServiceAccountToken;
  return true;
}

/** The projected volume Kubernetes adds: a bound token, the cluster CA, and the namespace. */
export function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: projectedTokenExpirationSeconds, path: "token" } },
        { configMap: { name: rootCaConfigMapName, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  };
}
