/** One entry point for PATCH requests: the Content-Type picks the patch type, as in Kubernetes. */
import type { JsonObject, JsonValue } from "../util/json.js";
import { isJsonObject } from "../util/json.js";
import { PatchError } from "./errors.js";
import { applyJsonPatch } from "./json.js";
import { applyMergePatch } from "./merge.js";
import type { PatchSchema } from "./schema.js";
import { applyStrategicMergePatch } from "./strategic.js";

export const patchContentTypes = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

export type PatchType = keyof typeof patchContentTypes;

/** The patch type of a request's Content-Type (parameters such as charset ignored), or undefined. */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return (Object.keys(patchContentTypes) as PatchType[]).find((t) => patchContentTypes[t] === mediaType);
}

/**
 * Applies a decoded patch body to the stored object. Server-side apply (`apply`) is not
 * implemented and is refused with a PatchError the apiserver turns into 415.
 */
export function applyPatch(type: PatchType, original: JsonObject, patch: JsonValue, schema: PatchSchema): JsonObject {
  let result: JsonValue;
  switch (type) {
    case "json":
      result = applyJsonPatch(original, patch);
      break;
    case "merge":
      if (!isJsonObject(patch)) throw new PatchError("merge patch must be a JSON object");
      result = applyMergePatch(original, patch);
      break;
    case "strategic":
      result = applyStrategicMergePatch(original, patch, schema);
      break;
    case "apply":
      throw new PatchError("server-side apply (application/apply-patch+yaml) is not supported; use kubectl apply without --server-side");
  }
  if (!isJsonObject(result)) throw new PatchError("the patched document is not a JSON object", 422);
  return result;
}
