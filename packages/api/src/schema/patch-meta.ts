/**
 * The strategic-merge-patch metadata of each definition's fields, taken from the registry's patch
 * schemas (patch/schema.ts, the Go struct tags) rather than written twice: the apiserver's own
 * strategic merge patch and the `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`
 * extensions kubectl reads from the OpenAPI documents must agree, or `kubectl apply` computes
 * patches the server merges differently (kubectl 1.32 trusts the v3 document over its built-in
 * types whenever the document describes the kind).
 */
import { assert } from "@coxswain/raft";
import { resources } from "../registry.js";
import type { PatchSchema } from "../patch/schema.js";
import { definitionNameOf, schemaDefinitions } from "./definitions.js";
import type { SchemaType } from "./model.js";

export interface FieldPatchExtensions {
  /** `merge`, `replace`, `retainKeys` or `merge,retainKeys`, as the extension's value. */
  strategy?: string;
  mergeKey?: string;
}

/** The struct a field's value (or each element of it) is an instance of. */
function elementDefinition(type: SchemaType): string | undefined {
  if (type.type === "ref") return type.name;
  if (type.type === "array" && type.items.type === "ref") return type.items.name;
  return undefined;
}

function build(): Map<string, FieldPatchExtensions> {
  const out = new Map<string, FieldPatchExtensions>();
  // `lenient`: the registry gives a converted version (autoscaling/v1 HPA) the patch schema of its
  // storage version, whose fields this version may not have; those are skipped, not errors.
  const walk = (definition: string, schema: PatchSchema, lenient: boolean): void => {
    const def = schemaDefinitions.get(definition);
    assert(def?.properties !== undefined, `patch metadata: ${definition} is not an object definition`);
    for (const [field, meta] of Object.entries(schema.fields ?? {})) {
      const type = def.properties[field];
      if (type === undefined && lenient) continue;
      assert(type !== undefined, `patch metadata: ${definition} has no field ${field}`);
      const ext: FieldPatchExtensions = {};
      if (meta.strategies !== undefined && meta.strategies.length > 0) ext.strategy = meta.strategies.join(",");
      if (meta.mergeKey !== undefined) ext.mergeKey = meta.mergeKey;
      if (ext.strategy !== undefined || ext.mergeKey !== undefined) {
        const key = `${definition}.${field}`;
        const before = out.get(key);
        // Definitions are shared (PodSpec sits in Pod, Deployment, Job...): every kind must agree.
        assert(before === undefined || (before.strategy === ext.strategy && before.mergeKey === ext.mergeKey), `patch metadata: kinds disagree on ${key}`);
        out.set(key, ext);
      }
      if (meta.schema !== undefined) {
        const child = elementDefinition(type);
        assert(child !== undefined, `patch metadata: ${definition}.${field} has a nested patch schema but no struct type`);
        walk(child, meta.schema, lenient);
      }
    }
  };
  for (const r of resources) {
    const name = definitionNameOf(r);
    assert(name !== undefined, `patch metadata: no definition for ${r.apiVersion} ${r.kind}`);
    walk(name, r.patchSchema, r.storageVersion !== r.version);
  }
  return out;
}

const extensions = build();

/** The patch extensions of `definition.field`, if the field has any. */
export function fieldPatchExtensions(definition: string, field: string): FieldPatchExtensions | undefined {
  return extensions.get(`${definition}.${field}`);
}
