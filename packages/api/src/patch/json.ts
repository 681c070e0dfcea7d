/** JSON patch, RFC 6902 (`application/json-patch+json`), applied by fast-json-patch. */
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { deepClone, isJsonObject, type JsonValue } from "../util/json.js";
import { PatchError } from "./errors.js";

/** A cap on operations in one patch, so a single request cannot make the server loop for long. */
export const jsonPatchOperationsMax = 10_000;

const operationNames = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** Checks the shape of each operation before applying any (the whole patch is rejected or applied). */
function toOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw new PatchError("json patch must be an array of operations");
  if (patch.length > jsonPatchOperationsMax) throw new PatchError(`json patch has ${patch.length} operations, more than the ${jsonPatchOperationsMax} allowed`);
  return patch.map((op: unknown, i) => {
    if (!isJsonObject(op) || typeof op.op !== "string" || !operationNames.has(op.op))
      throw new PatchError(`json patch operation ${i}: unknown or missing "op"`);
    if (typeof op.path !== "string") throw new PatchError(`json patch operation ${i}: "path" must be a string`);
    if ((op.op === "move" || op.op === "copy") && typeof op.from !== "string") throw new PatchError(`json patch operation ${i}: "from" must be a string`);
    if ((op.op === "add" || op.op === "replace" || op.op === "test") && !("value" in op))
      throw new PatchError(`json patch operation ${i}: "value" is required for ${op.op}`);
    return op as unknown as Operation;
  });
}

export function applyJsonPatch(document: JsonValue, patch: unknown): JsonValue {
  const operations = toOperations(patch);
  try {
    return jsonpatch.applyPatch(deepClone(document), operations, true, true, true).newDocument;
  } catch (error) {
    if (error instanceof jsonpatch.JsonPatchError) {
      const op = error.operation as Operation | undefined;
      const where = op ? ` (${op.op} ${op.path})` : "";
      const message =
        error.name === "TEST_OPERATION_FAILED"
          ? `testing value ${op?.path ?? ""} failed: test failed`
          : `${error.message.split("\n")[0] ?? error.message}${where}`;
      throw new PatchError(message, 422);
    }
    throw error;
  }
}
