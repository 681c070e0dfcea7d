/**
 * Object keys, as client-go's MetaNamespaceKeyFunc writes them: `namespace/name` for namespaced
 * objects, `name` for cluster-scoped ones. Controllers enqueue these keys and split them in sync.
 */
import type { KubeObject } from "@coxswain/api";

export class InvalidKeyError extends Error {
  override readonly name = "InvalidKeyError";
}

export function metaNamespaceKey(obj: Pick<KubeObject, "metadata">): string {
  const name = obj.metadata.name ?? "";
  const namespace = obj.metadata.namespace ?? "";
  return namespace === "" ? name : `${namespace}/${name}`;
}

/** `ns/name` → { namespace: "ns", name }; `name` → { namespace: "", name }. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const parts = key.split("/");
  if (parts.length === 1 && parts[0] !== "") return { namespace: "", name: parts[0]! };
  if (parts.length === 2 && parts[1] !== "") return { namespace: parts[0]!, name: parts[1]! };
  throw new InvalidKeyError(`unexpected key format: ${JSON.stringify(key)}`);
}
