/**
 * Walking a JSON value along the schema: which fields are unknown (what a strict decoder into
 * Kubernetes' Go structs reports), and removing them (what a non-strict decode drops).
 *
 * Paths are written as sigs.k8s.io/json writes them in strict errors: keys joined by `.`, list
 * positions as `[i]`, map keys as keys (`spec.template.spec.containers[0].imagePullPolcy`,
 * `metadata.labels.app`).
 */
import { assert } from "@coxswain/raft";
import { schemaDefinitions } from "./definitions.js";
import type { SchemaType } from "./model.js";

/** At most this many unknown fields are reported, like the Go decoder's cap on saved strict errors. */
export const STRICT_ERRORS_MAX = 100;

/** What a key of a JSON object is, under the schema of that object. */
export type ObjectKeyLookup =
  /** A field the schema does not have. */
  | { known: false }
  /** A known field (or a map key); `type` is the value's schema, undefined when the value is not checked. */
  | { known: true; type: SchemaType | undefined };

/**
 * The schema of `key` inside an object whose schema is `type`. Objects where the schema expects a
 * scalar or a list (a type error the validators report) and `free` or leaf values are not checked.
 */
export function lookupObjectKey(type: SchemaType | undefined, key: string): ObjectKeyLookup {
  if (type === undefined) return { known: true, type: undefined };
  if (type.type === "map") return { known: true, type: type.values };
  if (type.type !== "ref") return { known: true, type: undefined };
  const def = schemaDefinitions.get(type.name);
  assert(def !== undefined, `schema: unknown definition ${type.name}`);
  if (def.properties === undefined) return { known: true, type: undefined };
  const field = def.properties[key];
  return field === undefined ? { known: false } : { known: true, type: field };
}

/** The schema of each element of a list whose schema is `type`; undefined when not checked. */
export function lookupListElement(type: SchemaType | undefined): SchemaType | undefined {
  return type?.type === "array" ? type.items : undefined;
}

export const joinPath = (parent: string, key: string): string => (parent === "" ? key : `${parent}.${key}`);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(
  type: SchemaType | undefined,
  value: unknown,
  path: string,
  onUnknown: (path: string, parent: Record<string, unknown>, key: string) => boolean,
): boolean {
  if (type === undefined) return true;
  if (Array.isArray(value)) {
    const element = lookupListElement(type);
    for (let i = 0; i < value.length; i++) if (!walk(element, value[i], `${path}[${i}]`, onUnknown)) return false;
    return true;
  }
  if (!isObject(value)) return true;
  for (const key of Object.keys(value)) {
    const lookup = lookupObjectKey(type, key);
    const childPath = joinPath(path, key);
    if (!lookup.known) {
      if (!onUnknown(childPath, value, key)) return false;
      continue;
    }
    if (!walk(lookup.type, value[key], childPath, onUnknown)) return false;
  }
  return true;
}

/** The paths of fields in `value` that `definition` does not have, in document order (at most STRICT_ERRORS_MAX). */
export function unknownFieldPaths(definition: string, value: unknown): string[] {
  assert(schemaDefinitions.has(definition), `schema: unknown definition ${definition}`);
  const paths: string[] = [];
  walk({ type: "ref", name: definition }, value, "", (path) => {
    paths.push(path);
    return paths.length < STRICT_ERRORS_MAX;
  });
  return paths;
}

/** Removes every unknown field from `value` (mutating it) and returns their paths. */
export function pruneUnknownFields(definition: string, value: unknown): string[] {
  assert(schemaDefinitions.has(definition), `schema: unknown definition ${definition}`);
  const paths: string[] = [];
  walk({ type: "ref", name: definition }, value, "", (path, parent, key) => {
    paths.push(path);
    delete parent[key];
    return true;
  });
  return paths;
}
