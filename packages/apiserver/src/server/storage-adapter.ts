/** The REST front end's ObjectStorage port on the storage layer's Cacher (store + watch cache). */
import type { KubeObject, ResourceDescriptor } from "@coxswain/api";
import type { ListOptions, ListResult, ObjectStorage, Preconditions, WatchEventOut, WatchOptions, WatchStream } from "../rest/ports.js";
import type { Cacher } from "../storage/cacher.js";

function ns(r: ResourceDescriptor, namespace: string): string | undefined {
  return r.namespaced && namespace !== "" ? namespace : undefined;
}

export class CacherStorage implements ObjectStorage {
  constructor(private readonly cacher: Cacher) {}

  create(r: ResourceDescriptor, obj: KubeObject): Promise<KubeObject> {
    return this.cacher.create(r, obj);
  }

  get(r: ResourceDescriptor, namespace: string, name: string): Promise<KubeObject> {
    return this.cacher.get(r, ns(r, namespace), name);
  }

  async list(r: ResourceDescriptor, o: ListOptions): Promise<ListResult> {
    const result = await this.cacher.list(r, {
      ...(ns(r, o.namespace) !== undefined ? { namespace: o.namespace } : {}),
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
      limit: o.limit,
      continue: o.continueToken,
      resourceVersion: o.resourceVersion,
      ...(o.resourceVersionMatch !== undefined && o.resourceVersionMatch !== ""
        ? { resourceVersionMatch: o.resourceVersionMatch as "NotOlderThan" | "Exact" }
        : {}),
    });
    return {
      items: result.items,
      resourceVersion: result.resourceVersion,
      continueToken: result.continue ?? "",
      ...(result.remainingItemCount !== undefined ? { remainingItemCount: result.remainingItemCount } : {}),
    };
  }

  update(r: ResourceDescriptor, namespace: string, name: string, tryUpdate: (current: KubeObject) => KubeObject | Promise<KubeObject>): Promise<KubeObject> {
    return this.cacher.guaranteedUpdate(r, ns(r, namespace), name, tryUpdate);
  }

  delete(r: ResourceDescriptor, namespace: string, name: string, preconditions: Preconditions): Promise<KubeObject> {
    return this.cacher.delete(r, ns(r, namespace), name, { preconditions });
  }

  async watch(r: ResourceDescriptor, o: WatchOptions): Promise<WatchStream> {
    const watcher = await this.cacher.watch(r, {
      ...(ns(r, o.namespace) !== undefined ? { namespace: o.namespace } : {}),
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
      resourceVersion: o.resourceVersion,
      allowWatchBookmarks: o.allowBookmarks,
    });
    return {
      close: () => watcher.stop(),
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEventOut> {
        for await (const event of watcher) {
          yield { type: event.type, object: event.object, json: event.json };
        }
      },
    };
  }
}
