/** Index functions components share; pass the same constant so a shared informer indexes once. */
import type { Pod } from "@coxswain/api";
import type { IndexFunc } from "./store.js";

/** Pods by the node they are bound to; unbound pods sit under "" (the scheduler's pending set). */
export const podNodeNameIndex = "spec.nodeName";

export const podNodeNameIndexFunc: IndexFunc<Pod> = (pod) => [pod.spec?.nodeName ?? ""];

/** Objects by the uid of each owner (the garbage collector's and ReplicaSet adoption's view). */
export const ownerUidIndex = "ownerUid";

export const ownerUidIndexFunc: IndexFunc<{ metadata: { ownerReferences?: readonly { uid: string }[] } }> = (obj) =>
  (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);
