/**
 * The RBAC objects the authorizer reads, kept current from the watch cache (one watch per RBAC
 * resource, from "0": the current state, then every change), so an authorization decision is a
 * synchronous lookup. A watch that ends (a cache re-initialization) is started again.
 */
import {
  type ClusterRole,
  type ClusterRoleBinding,
  type KubeObject,
  type ResourceDescriptor,
  type Role,
  type RoleBinding,
  findResource,
  parseFieldSelector,
  parseLabelSelector,
} from "@coxswain/api";
import type { Logger } from "@coxswain/raft";
import type { RbacObjectSource } from "../auth/rbac.js";
import type { Cacher } from "../storage/cacher.js";

const RESTART_DELAY_MS = 500;

type Kind = "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings";

function key(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

export class RbacCache implements RbacObjectSource {
  private readonly objects: Record<Kind, Map<string, KubeObject>> = {
    roles: new Map(),
    clusterroles: new Map(),
    rolebindings: new Map(),
    clusterrolebindings: new Map(),
  };
  private stopped = false;
  private readonly stops: Array<() => void> = [];

  constructor(
    private readonly cacher: Cacher,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const kind of Object.keys(this.objects) as Kind[]) {
      const r = findResource("rbac.authorization.k8s.io", "v1", kind);
      if (r !== undefined) void this.follow(kind, r);
    }
  }

  private async follow(kind: Kind, r: ResourceDescriptor): Promise<void> {
    while (!this.stopped) {
      try {
        const watcher = await this.cacher.watch(r, { resourceVersion: "0", labelSelector: parseLabelSelector(""), fieldSelector: parseFieldSelector("") });
        this.stops.push(() => watcher.stop());
        // A watch from "0" starts with the current state as ADDED events: rebuild from it.
        const current = new Map<string, KubeObject>();
        this.objects[kind] = current;
        for await (const event of watcher) {
          if (event.type === "ERROR" || event.type === "BOOKMARK") continue;
          const obj = event.object;
          if (event.type === "DELETED") current.delete(key(obj));
          else current.set(key(obj), obj);
        }
      } catch (err) {
        this.logger.warn({ err, kind }, "RBAC watch failed; restarting");
      }
      await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.stops) s();
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.objects.roles.get(`${namespace}/${name}`) as Role | undefined;
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.objects.clusterroles.get(`/${name}`) as ClusterRole | undefined;
  }

  listRoleBindings(namespace: string): readonly RoleBinding[] {
    return [...this.objects.rolebindings.values()].filter((b) => b.metadata.namespace === namespace) as RoleBinding[];
  }

  listClusterRoleBindings(): readonly ClusterRoleBinding[] {
    return [...this.objects.clusterrolebindings.values()] as ClusterRoleBinding[];
  }
}
