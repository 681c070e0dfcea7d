/**
 * Every definition of the schema description, by Kubernetes' name, and the definition each served
 * kind (and its List) uses. The List kinds are generated from the registry, one per resource.
 */
import { assert } from "@coxswain/raft";
import { resources, type ResourceDescriptor } from "../registry.js";
import { resolveTables, type PackageTable, type SchemaDefinition, type SchemaType } from "./model.js";
import { intstr, meta, resource, runtime, sharedNames } from "./tables/meta.js";
import { core } from "./tables/core.js";
import { apps, batch } from "./tables/workloads.js";
import { autoscalingV1, autoscalingV2, coordination, metrics, networking, rbac } from "./tables/other.js";

/** Package aliases, as the tables use them in qualified names (`core.PodTemplateSpec`). */
const tables: Readonly<Record<string, PackageTable>> = {
  meta,
  runtime,
  resource,
  intstr,
  core,
  apps,
  batch,
  networking,
  coordination,
  autoscalingV1,
  autoscalingV2,
  rbac,
  metrics,
};

/** The definition-name prefix of each served group-version (`apps/v1` → `io.k8s.api.apps.v1`). */
const packageOfGroupVersion: Readonly<Record<string, string>> = {
  v1: core.prefix,
  "apps/v1": apps.prefix,
  "batch/v1": batch.prefix,
  "networking.k8s.io/v1": networking.prefix,
  "coordination.k8s.io/v1": coordination.prefix,
  "autoscaling/v1": autoscalingV1.prefix,
  "autoscaling/v2": autoscalingV2.prefix,
  "rbac.authorization.k8s.io/v1": rbac.prefix,
  "metrics.k8s.io/v1beta1": metrics.prefix,
};

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const groupVersionOf = (gvk: { group: string; version: string }): string => (gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`);

/** Kubernetes' definition name of a kind: `io.k8s.api.apps.v1.Deployment`; undefined for a group-version Coxswain does not describe. */
export function definitionNameOf(gvk: GroupVersionKind): string | undefined {
  const prefix = packageOfGroupVersion[groupVersionOf(gvk)];
  return prefix === undefined ? undefined : `${prefix}.${gvk.kind}`;
}

function build(): Map<string, SchemaDefinition> {
  const definitions = resolveTables(tables, sharedNames);
  for (const r of resources) {
    const name = definitionNameOf(r);
    assert(name !== undefined && definitions.has(name), `schema: no definition for ${r.apiVersion} ${r.kind}`);
    const listName = `${name}List`;
    if (definitions.has(listName)) continue;
    definitions.set(listName, {
      name: listName,
      description: `${r.listKind} is a list of ${r.kind} objects.`,
      properties: {
        apiVersion: { type: "string" },
        kind: { type: "string" },
        metadata: { type: "ref", name: sharedNames["ListMeta"] ?? "" },
        items: { type: "array", items: { type: "ref", name } },
      },
      required: ["items"],
    });
  }
  return definitions;
}

/** Every definition, by full name. Built once, at load; an unresolvable type name fails here. */
export const schemaDefinitions: ReadonlyMap<string, SchemaDefinition> = build();

/** The definition a request body of this resource (or subresource) must match; undefined when it takes no object body. */
export function bodyDefinitionOf(resource: ResourceDescriptor, subresource = ""): string | undefined {
  if (subresource === "" || subresource === "status") return definitionNameOf(resource);
  const sub = resource.subresources.find((s) => s.name === subresource);
  if (sub === undefined || (subresource !== "scale" && subresource !== "binding")) return undefined;
  return definitionNameOf(sub);
}

/** Names of the definitions `root` refers to, itself included, in a stable order (the closure a document needs). */
export function referencedDefinitions(roots: Iterable<string>): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const def = schemaDefinitions.get(name);
    assert(def !== undefined, `schema: reference to unknown definition ${name}`);
    seen.add(name);
    for (const t of Object.values(def.properties ?? {})) visitType(t);
  };
  const visitType = (t: SchemaType): void => {
    if (t.type === "ref") visit(t.name);
    else if (t.type === "array") visitType(t.items);
    else if (t.type === "map") visitType(t.values);
  };
  for (const r of roots) visit(r);
  return [...seen].sort();
}
