/**
 * The shape of the schema description: every API type as Kubernetes names it
 * (`io.k8s.api.core.v1.Container`) with its JSON fields and their types. The tables in this folder
 * write field types as short Go-like strings (`"[]ContainerPort"`, `"map[string]Quantity"`,
 * `"int32"`); `resolveTable` turns them into `SchemaType` trees once, at load, and fails loudly on a
 * name that does not resolve.
 *
 * One description serves three readers: the OpenAPI v3 documents the apiserver publishes (kubectl
 * computes `apply` patches and decides what to validate from them), unknown-field detection for
 * `?fieldValidation=Strict`, and pruning of unknown fields under `Warn`/`Ignore`.
 */
import { assert } from "@coxswain/raft";

/** A field's type after resolution. `ref` names another definition; `free` is any JSON value, never checked. */
export type SchemaType =
  | { type: "string"; format?: "byte" }
  | { type: "integer"; format: "int32" | "int64" }
  | { type: "number"; format: "double" }
  | { type: "boolean" }
  | { type: "ref"; name: string }
  | { type: "array"; items: SchemaType }
  | { type: "map"; values: SchemaType }
  | { type: "free" };

/** The OpenAPI text of a definition that is a JSON scalar (Time, Quantity, IntOrString, ...). */
export type LeafSchema = Readonly<Record<string, unknown>>;

export interface SchemaDefinition {
  /** Kubernetes' definition name: `io.k8s.api.apps.v1.Deployment`. */
  name: string;
  description?: string;
  /** The fields of an object definition; absent for a leaf. */
  properties?: Readonly<Record<string, SchemaType>>;
  required?: readonly string[];
  /** Set for scalar-like definitions: their OpenAPI schema, and their content is not walked. */
  leaf?: LeafSchema;
}

/** A struct in a table: its fields as type strings. */
export interface StructSpec {
  fields: Readonly<Record<string, string>>;
  required?: readonly string[];
  description?: string;
}

/** One package of definitions: `io.k8s.api.core.v1` with its structs and leaves. */
export interface PackageTable {
  /** The prefix of every definition name in the package. */
  prefix: string;
  structs: Readonly<Record<string, StructSpec>>;
  leaves?: Readonly<Record<string, { schema: LeafSchema; description?: string }>>;
}

const scalars: Readonly<Record<string, SchemaType>> = {
  string: { type: "string" },
  byte: { type: "string", format: "byte" },
  int32: { type: "integer", format: "int32" },
  int64: { type: "integer", format: "int64" },
  double: { type: "number", format: "double" },
  bool: { type: "boolean" },
  free: { type: "free" },
};

/**
 * Resolves every table into definitions keyed by full name. A bare type name is looked up in its
 * own package, then in `shared` (the meta/v1 names every package uses: ObjectMeta, Time, Quantity);
 * a qualified `alias.Name` names a struct of another package by its alias.
 */
export function resolveTables(tables: Readonly<Record<string, PackageTable>>, shared: Readonly<Record<string, string>>): Map<string, SchemaDefinition> {
  const definitions = new Map<string, SchemaDefinition>();
  const known = new Set<string>();
  for (const table of Object.values(tables)) {
    for (const name of [...Object.keys(table.structs), ...Object.keys(table.leaves ?? {})]) {
      const full = `${table.prefix}.${name}`;
      assert(!known.has(full), `schema: ${full} is defined twice`);
      known.add(full);
    }
  }
  const resolveName = (table: PackageTable, name: string, where: string): string => {
    let full: string;
    const dot = name.indexOf(".");
    if (dot >= 0) {
      const other = tables[name.slice(0, dot)];
      assert(other !== undefined, `schema: ${where}: unknown package alias in ${name}`);
      full = `${other.prefix}.${name.slice(dot + 1)}`;
    } else {
      full = known.has(`${table.prefix}.${name}`) ? `${table.prefix}.${name}` : (shared[name] ?? `${table.prefix}.${name}`);
    }
    assert(known.has(full), `schema: ${where}: type ${name} does not resolve`);
    return full;
  };
  const parse = (table: PackageTable, text: string, where: string): SchemaType => {
    if (text.startsWith("[]")) return { type: "array", items: parse(table, text.slice(2), where) };
    if (text.startsWith("map[string]")) return { type: "map", values: parse(table, text.slice("map[string]".length), where) };
    const scalar = scalars[text];
    if (scalar !== undefined) return scalar;
    return { type: "ref", name: resolveName(table, text, where) };
  };
  for (const table of Object.values(tables)) {
    for (const [name, spec] of Object.entries(table.structs)) {
      const full = `${table.prefix}.${name}`;
      const properties: Record<string, SchemaType> = {};
      for (const [field, text] of Object.entries(spec.fields)) properties[field] = parse(table, text, `${full}.${field}`);
      for (const r of spec.required ?? []) assert(properties[r] !== undefined, `schema: ${full} requires ${r}, which it does not have`);
      definitions.set(full, {
        name: full,
        properties,
        ...(spec.required !== undefined && spec.required.length > 0 ? { required: spec.required } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
      });
    }
    for (const [name, leaf] of Object.entries(table.leaves ?? {})) {
      const full = `${table.prefix}.${name}`;
      definitions.set(full, { name: full, leaf: leaf.schema, ...(leaf.description !== undefined ? { description: leaf.description } : {}) });
    }
  }
  return definitions;
}

/** The fields every top-level kind starts with (TypeMeta and ObjectMeta). */
export function objectFields(fields: Readonly<Record<string, string>>): Record<string, string> {
  return { apiVersion: "string", kind: "string", metadata: "ObjectMeta", ...fields };
}
