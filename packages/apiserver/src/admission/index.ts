/** The admission chain and its plugins. See ../auth/README.md, section "Admission". */
import type { Namespace, ServiceAccount } from "@coxswain/api";
import { AdmissionChain, type AdmissionPlugin } from "./chain.js";
import { NamespaceLifecycle } from "./namespace-lifecycle.js";
import { RequestSizeLimit } from "./request-size.js";
import { ServiceAccountAdmission } from "./service-account.js";

export * from "./chain.js";
export * from "./namespace-lifecycle.js";
export * from "./request-size.js";
export * from "./service-account.js";

export interface DefaultAdmissionOptions {
  getNamespace: (name: string) => Namespace | undefined | Promise<Namespace | undefined>;
  getServiceAccount: (namespace: string, name: string) => ServiceAccount | undefined | Promise<ServiceAccount | undefined>;
  /** See ServiceAccountAdmissionOptions; both default to Kubernetes' behaviour (true). */
  requireServiceAccount?: boolean;
  mountServiceAccountToken?: boolean;
  requestBodySizeBytesMax?: number;
  objectSizeBytesMax?: number;
  /** More plugins, run after the built-in ones in each phase. */
  extraPlugins?: readonly AdmissionPlugin[];
}

/**
 * The chain in Kubernetes' order: NamespaceLifecycle first (nothing else works on a request for a
 * doomed namespace), then ServiceAccount, then the size limit on the final object.
 */
export function defaultAdmissionChain(options: DefaultAdmissionOptions): AdmissionChain {
  const serviceAccount: ConstructorParameters<typeof ServiceAccountAdmission>[0] = { getServiceAccount: options.getServiceAccount };
  if (options.requireServiceAccount !== undefined) serviceAccount.requireServiceAccount = options.requireServiceAccount;
  if (options.mountServiceAccountToken !== undefined) serviceAccount.mountToken = options.mountServiceAccountToken;
  const sizes: ConstructorParameters<typeof RequestSizeLimit>[0] = {};
  if (options.requestBodySizeBytesMax !== undefined) sizes.requestBodySizeBytesMax = options.requestBodySizeBytesMax;
  if (options.objectSizeBytesMax !== undefined) sizes.objectSizeBytesMax = options.objectSizeBytesMax;
  return new AdmissionChain([
    new NamespaceLifecycle({ getNamespace: options.getNamespace }),
    new ServiceAccountAdmission(serviceAccount),
    new RequestSizeLimit(sizes),
    ...(options.extraPlugins ?? []),
  ]);
}
