/**
 * The schema description of every served kind: field names and types as Kubernetes defines them,
 * for the OpenAPI documents, strict field validation and pruning. See README.md in this folder.
 */
export type { SchemaType, SchemaDefinition, LeafSchema } from "./model.js";
export { schemaDefinitions, definitionNameOf, bodyDefinitionOf, referencedDefinitions, type GroupVersionKind } from "./definitions.js";
export { fieldPatchExtensions, type FieldPatchExtensions } from "./patch-meta.js";
export { unknownFieldPaths, pruneUnknownFields, lookupObjectKey, lookupListElement, joinPath, STRICT_ERRORS_MAX, type ObjectKeyLookup } from "./walk.js";
