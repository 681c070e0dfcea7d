/**
 * Strategic-merge-patch metadata: for each field, the `patchStrategy` and `patchMergeKey` that
 * Kubernetes' Go types declare in their struct tags (e.g. containers merge by name, ports by
 * containerPort). Fields not listed merge as maps and replace as lists, like a JSON merge patch.
 */

export interface FieldPatchMeta {
  /** "merge" for merging lists, "replace" for atomic maps, "retainKeys" to clear keys not in the patch's $retainKeys. */
  strategies?: readonly ("merge" | "replace" | "retainKeys")[];
  mergeKey?: string;
  /** The value's own schema: of the map, or of each element of the list. */
  schema?: PatchSchema;
}

export interface PatchSchema {
  fields?: Readonly<Record<string, FieldPatchMeta>>;
}

const mergeBy = (mergeKey: string, schema?: PatchSchema): FieldPatchMeta => ({ strategies: ["merge"], mergeKey, ...(schema ? { schema } : {}) });
const mergePrimitives: FieldPatchMeta = { strategies: ["merge"] };
const child = (schema: PatchSchema): FieldPatchMeta => ({ schema });
const conditionsByType = mergeBy("type");

export const objectMetaPatchSchema: PatchSchema = {
  fields: { finalizers: mergePrimitives, ownerReferences: mergeBy("uid") },
};

export const containerPatchSchema: PatchSchema = {
  fields: { ports: mergeBy("containerPort"), env: mergeBy("name"), volumeMounts: mergeBy("mountPath"), volumeDevices: mergeBy("devicePath") },
};

export const podSpecPatchSchema: PatchSchema = {
  fields: {
    volumes: { strategies: ["merge", "retainKeys"], mergeKey: "name" },
    initContainers: mergeBy("name", containerPatchSchema),
    containers: mergeBy("name", containerPatchSchema),
    ephemeralContainers: mergeBy("name", containerPatchSchema),
    imagePullSecrets: mergeBy("name"),
    hostAliases: mergeBy("ip"),
    topologySpreadConstraints: mergeBy("topologyKey"),
    schedulingGates: mergeBy("name"),
    resourceClaims: { strategies: ["merge", "retainKeys"], mergeKey: "name" },
  },
};

export const podTemplatePatchSchema: PatchSchema = { fields: { metadata: child(objectMetaPatchSchema), spec: child(podSpecPatchSchema) } };

/** Root schemas start at the object: every kind shares metadata's. */
function root(fields: Record<string, FieldPatchMeta> = {}): PatchSchema {
  return { fields: { metadata: child(objectMetaPatchSchema), ...fields } };
}

const statusWithConditions = child({ fields: { conditions: conditionsByType } });

export const patchSchemas: Readonly<Record<string, PatchSchema>> = {
  Pod: root({
    spec: child(podSpecPatchSchema),
    status: child({ fields: { conditions: conditionsByType, podIPs: mergeBy("ip"), hostIPs: mergeBy("ip") } }),
  }),
  Node: root({
    spec: child({ fields: { podCIDRs: mergePrimitives } }),
    status: child({ fields: { conditions: conditionsByType, addresses: mergeBy("type") } }),
  }),
  Namespace: root({ status: statusWithConditions }),
  Service: root({ spec: child({ fields: { ports: mergeBy("port") } }), status: statusWithConditions }),
  Deployment: root({
    spec: child({ fields: { template: child(podTemplatePatchSchema), strategy: { strategies: ["retainKeys"] } } }),
    status: statusWithConditions,
  }),
  ReplicaSet: root({ spec: child({ fields: { template: child(podTemplatePatchSchema) } }), status: statusWithConditions }),
  DaemonSet: root({ spec: child({ fields: { template: child(podTemplatePatchSchema) } }), status: statusWithConditions }),
  Job: root({ spec: child({ fields: { template: child(podTemplatePatchSchema) } }), status: statusWithConditions }),
  HorizontalPodAutoscaler: root({ status: statusWithConditions }),
};

/** The schema for `kind`; kinds without list merge keys get the metadata-only schema. */
export function patchSchemaFor(kind: string): PatchSchema {
  return patchSchemas[kind] ?? root();
}
