/**
 * NamespaceLifecycle (k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle): nothing is
 * created in a namespace that does not exist or is being terminated, nothing is changed in a
 * namespace that does not exist, and the namespaces the system lives in cannot be deleted.
 *
 *   create in missing namespace      → 404 `namespaces "x" not found`
 *   update in missing namespace      → 404 `namespaces "x" not found`
 *   create in terminating namespace  → 403 `... is forbidden: unable to create new content in namespace x because it is being terminated`
 *   delete default/kube-system/kube-public → 403 `namespaces "default" is forbidden: this namespace may not be deleted`
 *   any delete inside a namespace    → allowed (so a terminating namespace can be emptied)
 */
import { ApiStatusError, statusNotFound, type Namespace } from "@coxswain/api";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./chain.js";

export const namespaceLifecyclePluginName = "NamespaceLifecycle";
/** Kubernetes' immortal namespaces: the API server needs them to exist. */
export const immortalNamespaces: readonly string[] = ["default", "kube-system", "kube-public"];
/** The cause type Kubernetes attaches to the "being terminated" refusal (v1.NamespaceTerminatingCause). */
export const namespaceTerminatingCause = "NamespaceTerminating";

/** Access reviews answer questions about a namespace and must not leak whether it exists. */
const accessReviewResources = new Set(["authorization.k8s.io/localsubjectaccessreviews"]);

export interface NamespaceLifecycleOptions {
  /** The current namespace, read from the watch cache or, when missing there, from storage (Kubernetes' live lookup). */
  getNamespace: (name: string) => Namespace | undefined | Promise<Namespace | undefined>;
  immortalNamespaces?: readonly string[];
}

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = namespaceLifecyclePluginName;
  private readonly getNamespace: NamespaceLifecycleOptions["getNamespace"];
  private readonly immortal: ReadonlySet<string>;

  constructor(options: NamespaceLifecycleOptions) {
    this.getNamespace = options.getNamespace;
    this.immortal = new Set(options.immortalNamespaces ?? immortalNamespaces);
  }

  /** Kubernetes runs it in the mutating phase, first, so no other plugin works on a doomed request. */
  async admit(attributes: AdmissionAttributes): Promise<void> {
    const isNamespace = attributes.kind.group === "" && attributes.kind.kind === "Namespace";
    if (isNamespace || (attributes.resource.group === "" && attributes.resource.resource === "namespaces")) {
      if (attributes.operation === "DELETE" && this.immortal.has(attributes.name)) {
        throw new ApiStatusError(admissionForbidden(attributes, "this namespace may not be deleted"));
      }
      return;
    }
    // Cluster-scoped objects, and deletes anywhere, are none of this plugin's business.
    if (attributes.namespace === "" || attributes.operation === "DELETE") return;
    if (accessReviewResources.has(`${attributes.resource.group}/${attributes.resource.resource}`)) return;

    const namespace = await this.getNamespace(attributes.namespace);
    if (namespace === undefined) throw new ApiStatusError(statusNotFound({ group: "", resource: "namespaces" }, attributes.namespace));
    if (attributes.operation !== "CREATE") return;
    // Kubernetes reads the phase; a deletionTimestamp means the same here even before the phase is written.
    const terminating = namespace.status?.phase === "Terminating" || Boolean(namespace.metadata.deletionTimestamp);
    if (!terminating) return;
    const status = admissionForbidden(attributes, `unable to create new content in namespace ${attributes.namespace} because it is being terminated`);
    status.details = {
      ...status.details,
      causes: [{ reason: namespaceTerminatingCause, message: `namespace ${attributes.namespace} is being terminated`, field: "metadata.namespace" }],
    };
    throw new ApiStatusError(status);
  }
}
