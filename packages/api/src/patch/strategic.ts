/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), applied as
 * k8s.io/apimachinery/pkg/util/strategicpatch applies it on the server (MergeParallelList and
 * IgnoreUnmatchedNulls on). On top of JSON merge patch it knows, per field (schema.ts):
 *   - lists with a merge key merge element by element (containers by name, ports by containerPort);
 *     lists of scalars with the merge strategy take the union (finalizers);
 *   - `$patch: replace | delete | merge` on a map, and `{$patch: delete, <key>: v}` / `{$patch: replace}`
 *     elements in a merging list;
 *   - `$setElementOrder/<list>`: the order of the merged list (kubectl apply and edit send it);
 *   - `$deleteFromPrimitiveList/<list>`: values to remove from a merging list of scalars;
 *   - `$retainKeys`: keys of this map to keep (a union type switching member, e.g. a volume source).
 * Fields the schema does not describe fall back to merge-patch semantics.
 */
import { deepClone, isJsonObject, type JsonObject, type JsonValue } from "../util/json.js";
import { PatchError } from "./errors.js";
import type { FieldPatchMeta, PatchSchema } from "./schema.js";

const directiveMarker = "$patch";
const retainKeysDirective = "$retainKeys";
const setElementOrderPrefix = "$setElementOrder/";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/";

/** Applies `patch` to `original` (neither is modified) and returns the patched document. */
export function applyStrategicMergePatch(original: JsonObject, patch: JsonValue, schema: PatchSchema): JsonObject {
  if (!isJsonObject(patch)) throw new PatchError("strategic merge patch must be a JSON object");
  return mergeMap(deepClone(original), deepClone(patch), schema);
}

function fieldMeta(schema: PatchSchema | undefined, key: string): FieldPatchMeta {
  return schema?.fields?.[key] ?? {};
}

const isMergeList = (meta: FieldPatchMeta): boolean => meta.strategies?.includes("merge") === true;

function describe(value: JsonValue): string {
  return JSON.stringify(value);
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  if (Object.hasOwn(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    delete patch[directiveMarker];
    if (directive === "replace") return mergeMap({}, patch, schema);
    if (directive === "delete") return {};
    if (directive !== "merge") throw new PatchError(`Unknown patch type: ${describe(directive ?? null)} in map: ${describe(patch)}`);
  }
  applyRetainKeys(original, patch);
  applySetElementOrder(original, patch, schema);

  // Deletions from primitive lists run after the additions to the same list.
  const keys = Object.keys(patch).sort((a, b) => Number(a.startsWith(deleteFromPrimitiveListPrefix)) - Number(b.startsWith(deleteFromPrimitiveListPrefix)));
  for (const key of keys) {
    const patchValue = patch[key] ?? null;
    if (key.startsWith(deleteFromPrimitiveListPrefix)) {
      const listKey = key.slice(deleteFromPrimitiveListPrefix.length);
      if (!Array.isArray(patchValue)) throw new PatchError("invalid patch: the $deleteFromPrimitiveList directive must be a list");
      const current = original[listKey];
      if (Array.isArray(current)) original[listKey] = current.filter((item) => !patchValue.some((d) => d === item));
      continue;
    }
    if (key.startsWith("$")) continue; // an unknown directive changes nothing
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const meta = fieldMeta(schema, key);
    const current = original[key];
    if (current === undefined || current === null || kindOf(current) !== kindOf(patchValue)) {
      original[key] = fresh(patchValue, meta);
      continue;
    }
    if (isJsonObject(current) && isJsonObject(patchValue)) {
      original[key] = meta.strategies?.includes("replace") ? fresh(patchValue, { ...meta, strategies: [] }) : mergeMap(current, patchValue, meta.schema);
    } else if (Array.isArray(current) && Array.isArray(patchValue)) {
      original[key] = isMergeList(meta) ? mergeList(current, patchValue, meta) : patchValue;
    } else {
      original[key] = patchValue;
    }
  }
  return original;
}

function kindOf(value: JsonValue): "map" | "list" | "scalar" {
  return Array.isArray(value) ? "list" : isJsonObject(value) ? "map" : "scalar";
}

/** A patch value with nothing to merge into: directives are processed against an empty original. */
function fresh(value: JsonValue, meta: FieldPatchMeta): JsonValue {
  if (isJsonObject(value)) return mergeMap({}, value, meta.schema);
  if (Array.isArray(value) && isMergeList(meta)) return mergeList([], value, meta);
  return value;
}

function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const retain = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retain)) throw new PatchError("invalid patch: the $retainKeys directive must be a list");
  const keep = new Set(retain.filter((k): k is string => typeof k === "string"));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith("$")) continue;
    if (!keep.has(k)) throw new PatchError(`invalid patch: the $retainKeys directive does not list ${JSON.stringify(k)}, which the patch sets`);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

type ListElementKind = "map" | "scalar" | "empty";

function elementKind(...lists: JsonValue[][]): ListElementKind {
  let kind: ListElementKind = "empty";
  for (const list of lists) {
    for (const item of list) {
      if (Array.isArray(item)) throw new PatchError("lists of lists are not supported");
      const k: ListElementKind = isJsonObject(item) ? "map" : "scalar";
      if (kind !== "empty" && kind !== k) throw new PatchError(`list element types are not identical: ${describe(lists.flat())}`);
      kind = k;
    }
  }
  return kind;
}

function keyOf(item: JsonValue, mergeKey: string): JsonValue | undefined {
  return isJsonObject(item) ? item[mergeKey] : undefined;
}

function requireMergeKey(item: JsonValue, mergeKey: string): JsonValue {
  const value = keyOf(item, mergeKey);
  if (value === undefined) throw new PatchError(`map: ${describe(item)} does not contain declared merge key: ${mergeKey}`);
  return value;
}

/** Position of `item` in `list`: by merge key for maps, by value for scalars; -1 when absent. */
function indexIn(list: readonly JsonValue[], item: JsonValue, mergeKey: string | undefined): number {
  if (mergeKey !== undefined && isJsonObject(item)) {
    const key = item[mergeKey];
    return list.findIndex((other) => keyOf(other, mergeKey) === key);
  }
  return list.findIndex((other) => other === item);
}

const isDeleteElement = (item: JsonValue): boolean => isJsonObject(item) && item[directiveMarker] === "delete";

function mergeList(original: JsonValue[], patch: JsonValue[], meta: FieldPatchMeta): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  const mergeKey = meta.mergeKey;
  let merged: JsonValue[];
  let patchItems = patch;
  let base = original;
  if (kind !== "map") {
    merged = [];
    for (const item of [...original, ...patch]) if (!merged.some((m) => m === item)) merged.push(item);
  } else {
    if (mergeKey === undefined) throw new PatchError("cannot merge lists without merge key");
    // Special elements first: deletions by key, or a replace of the whole list.
    const plain: JsonValue[] = [];
    let replace = false;
    for (const item of patch) {
      if (!isJsonObject(item) || !Object.hasOwn(item, directiveMarker)) {
        plain.push(item);
        continue;
      }
      const directive = item[directiveMarker];
      if (directive === "delete") {
        const key = requireMergeKey(item, mergeKey);
        base = base.filter((o) => keyOf(o, mergeKey) !== key);
      } else if (directive === "replace") {
        replace = true;
      } else if (directive === "merge") {
        throw new PatchError("merging lists cannot yet be specified in the patch");
      } else {
        throw new PatchError(`Unknown patch type: ${describe(directive ?? null)} in map: ${describe(item)}`);
      }
    }
    if (replace) {
      base = plain.map((item) => fresh(item, { ...(meta.schema ? { schema: meta.schema } : {}) }));
      patchItems = [];
      merged = [...base];
    } else {
      patchItems = plain;
      merged = [...base];
      for (const item of plain) {
        const key = requireMergeKey(item, mergeKey);
        const at = merged.findIndex((o) => keyOf(o, mergeKey) === key);
        const existing = at >= 0 ? merged[at] : undefined;
        if (existing !== undefined && isJsonObject(existing) && isJsonObject(item)) merged[at] = mergeMap(existing, item, meta.schema);
        else merged.push(fresh(item, { ...(meta.schema ? { schema: meta.schema } : {}) }));
      }
    }
  }
  const key = kind === "map" ? mergeKey : undefined;
  const inPatch = merged.filter((m) => indexIn(patchItems, m, key) >= 0);
  const serverOnly = merged.filter((m) => indexIn(patchItems, m, key) < 0);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, base, key);
}

/** `$setElementOrder/<list>`: merge that list now, then order it as the directive says. */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(setElementOrderPrefix)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw new PatchError("invalid patch: the $setElementOrder directive must be a list");
    const listKey = directiveKey.slice(setElementOrderPrefix.length);
    const meta = fieldMeta(schema, listKey);
    const originalList = original[listKey];
    const patchList = patch[listKey];
    if (originalList !== undefined && originalList !== null && !Array.isArray(originalList))
      throw new PatchError(`invalid patch: ${listKey} is not a list in the original object`);
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList))
      throw new PatchError(`invalid patch: ${listKey} is not a list in the patch`);
    const hasOriginal = Array.isArray(originalList);
    const hasPatch = Array.isArray(patchList);
    let merged: JsonValue[];
    if (hasOriginal && hasPatch) merged = isMergeList(meta) ? mergeList(originalList, patchList, meta) : patchList;
    else if (hasOriginal) merged = originalList;
    else if (hasPatch) merged = isMergeList(meta) ? mergeList([], patchList, meta) : patchList;
    else continue;
    const kind = elementKind(merged, order);
    const key = kind === "map" ? meta.mergeKey : undefined;
    if (kind === "map" && key === undefined) throw new PatchError(`cannot order list ${listKey} without a merge key`);
    const live = merged.filter((m) => !isDeleteElement(m));
    const inOrder = live.filter((m) => indexIn(order, m, key) >= 0);
    const serverOnly = live.filter((m) => indexIn(order, m, key) < 0);
    original[listKey] = normalizeElementOrder(inOrder, serverOnly, order, hasOriginal ? originalList : [], key);
    delete patch[listKey];
  }
}

/** Stable sort of `items` by their position in `order`; items not in `order` keep their place at the end. */
function sortByOrder(items: JsonValue[], order: readonly JsonValue[], key: string | undefined): JsonValue[] {
  const positioned = items.map((item, i) => ({ item, i, at: indexIn(order, item, key) }));
  positioned.sort((a, b) => {
    const ax = a.at < 0 ? Number.MAX_SAFE_INTEGER : a.at;
    const bx = b.at < 0 ? Number.MAX_SAFE_INTEGER : b.at;
    return ax - bx || a.i - b.i;
  });
  return positioned.map((p) => p.item);
}

/**
 * normalizeElementOrder + mergeSortedSlice: patch items in the patch's (or $setElementOrder's)
 * order, server-only items in the live order, interleaved so that each server-only item goes
 * before the first patch item that the live list has after it. Patch items new to the live
 * list come before the server-only items that follow them.
 */
function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  key: string | undefined,
): JsonValue[] {
  const left = sortByOrder(serverOnly, serverOrder, key);
  const right = sortByOrder(patchItems, patchOrder, key);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const l = left[i];
    const r = right[j];
    if (l === undefined) {
      out.push(r as JsonValue);
      j++;
    } else if (r === undefined) {
      out.push(l);
      i++;
    } else {
      const li = indexIn(serverOrder, l, key);
      const ri = indexIn(serverOrder, r, key);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push(l);
        i++;
      } else {
        out.push(r);
        j++;
      }
    }
  }
  return out;
}
