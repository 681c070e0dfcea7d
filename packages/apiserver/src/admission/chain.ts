/**
 * The admission chain (k8s.io/apiserver/pkg/admission): after a request is authenticated and
 * authorized and its body decoded and defaulted, every mutating plugin may change the object, in
 * order; then the registry validates it; then every validating plugin may refuse it, in order,
 * seeing the final object. A plugin refuses by throwing ApiStatusError with the Status the client
 * gets. One plugin may take part in both phases, as Kubernetes' NamespaceLifecycle does.
 *
 *   registry.create:  defaults → chain.admit(attrs) → validate → chain.validate(attrs) → store
 */
import { ApiStatusError, statusForbidden, statusInternalError, type KubeObject, type Status } from "@coxswain/api";
import { AssertionFailure, assert } from "@coxswain/raft";
import type { UserInfo } from "../auth/user.js";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** What a plugin knows about a request (admission.Attributes). */
export interface AdmissionAttributes {
  operation: AdmissionOperation;
  /** The resource addressed: `{group: "apps", version: "v1", resource: "deployments"}`. */
  resource: { group: string; version: string; resource: string };
  /** "" or `status`, `scale`, `binding`, `exec`, ... */
  subresource: string;
  kind: { group: string; version: string; kind: string };
  /** "" for cluster-scoped objects. */
  namespace: string;
  /** "" on a create whose object has only a generateName. */
  name: string;
  /** The incoming object (CREATE, UPDATE; the options object on DELETE and CONNECT if any). Mutating plugins change it in place. */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
  /** Bytes of the request body as received; absent when the request had none. */
  requestBodySizeBytes?: number;
}

export interface AdmissionPlugin {
  /** The name Kubernetes' `--enable-admission-plugins` uses for it, e.g. `NamespaceLifecycle`. */
  readonly name: string;
  /** The mutating phase: may change `attributes.object`. */
  admit?(attributes: AdmissionAttributes): void | Promise<void>;
  /** The validating phase: may only refuse. */
  validate?(attributes: AdmissionAttributes): void | Promise<void>;
}

/** The names a chain may hold at most: a guard against a plugin list built in a loop. */
export const admissionPluginsMax = 64;

export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[];

  constructor(plugins: readonly AdmissionPlugin[] = []) {
    this.plugins = [];
    for (const plugin of plugins) this.append(plugin);
  }

  /** The plugin names in order. */
  names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** Add a plugin at the end (the hook point for more plugins). */
  append(plugin: AdmissionPlugin): this {
    this.checkCanAdd(plugin);
    this.plugins.push(plugin);
    return this;
  }

  /** Add a plugin right after the named one, where its order matters (e.g. after NamespaceLifecycle). */
  insertAfter(existingName: string, plugin: AdmissionPlugin): this {
    this.checkCanAdd(plugin);
    const index = this.plugins.findIndex((p) => p.name === existingName);
    assert(index >= 0, `no admission plugin named ${existingName} to insert after`);
    this.plugins.splice(index + 1, 0, plugin);
    return this;
  }

  /** Run every mutating plugin in order; the first refusal stops the chain. */
  async admit(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.plugins) if (plugin.admit !== undefined) await runPlugin(plugin, "admit", () => plugin.admit?.(attributes));
  }

  /** Run every validating plugin in order; the first refusal stops the chain. */
  async validate(attributes: AdmissionAttributes): Promise<void> {
    for (const plugin of this.plugins) if (plugin.validate !== undefined) await runPlugin(plugin, "validate", () => plugin.validate?.(attributes));
  }

  private checkCanAdd(plugin: AdmissionPlugin): void {
    assert(plugin.name !== "", "an admission plugin has a name");
    assert(!this.plugins.some((p) => p.name === plugin.name), `admission plugin ${plugin.name} is in the chain once`);
    assert(this.plugins.length < admissionPluginsMax, "too many admission plugins");
  }
}

async function runPlugin(plugin: AdmissionPlugin, phase: string, run: () => void | Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    // Refusals pass through as they are; a broken plugin is a 500 that names it; a failed
    // assertion is a bug that must stop the process.
    if (error instanceof ApiStatusError || error instanceof AssertionFailure) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiStatusError(statusInternalError(`admission plugin "${plugin.name}" failed to ${phase}: ${message}`), { cause: error });
  }
}

/**
 * admission.NewForbidden: `<resource> "<name>" is forbidden: <message>`, where the name is the
 * request's, else the object's name or generateName, else "Unknown".
 */
export function admissionForbidden(attributes: AdmissionAttributes, message: string): Status {
  let name = attributes.name;
  if (name === "") name = attributes.object?.metadata.name || attributes.object?.metadata.generateName || "Unknown";
  return statusForbidden({ group: attributes.resource.group, resource: attributes.resource.resource }, name, message);
}
