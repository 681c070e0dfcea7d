/** JSON merge patch, RFC 7386 (`application/merge-patch+json`): objects merge, null deletes, anything else replaces. */
import { deepClone, isJsonObject, type JsonValue } from "../util/json.js";

export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return deepClone(patch);
  const result = isJsonObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = applyMergePatch(result[name], value);
  }
  return result;
}
