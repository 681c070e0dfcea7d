/** Objects, resources and key spaces for the storage tests. */
import { randomUUID } from "node:crypto";
import { findResource, type KubeObject, type ResourceDescriptor } from "@coxswain/api";
import { assert } from "@coxswain/raft";

function resource(group: string, version: string, plural: string): ResourceDescriptor {
  const r = findResource(group, version, plural);
  assert(r !== undefined, `the registry serves ${plural}`);
  return r;
}

export const configMaps = resource("", "v1", "configmaps");
export const pods = resource("", "v1", "pods");
export const namespaces = resource("", "v1", "namespaces");

let prefixes = 0;

/** A key prefix no other test uses, so that tests sharing a cluster do not see each other's objects. */
export function freshPrefix(): string {
  prefixes++;
  return `/storage-test-${process.pid}-${prefixes}-${Date.now()}/`;
}

export function configMap(namespace: string, name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace, uid: randomUUID(), labels, creationTimestamp: "2024-05-01T10:00:00Z" },
    data,
  } as KubeObject;
}

export function pod(namespace: string, name: string, nodeName: string, phase: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, uid: randomUUID(), labels },
    spec: { nodeName, containers: [{ name: "app", image: "app:1" }] },
    status: { phase },
  } as KubeObject;
}

export function namespace(name: string): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, uid: randomUUID() }, spec: {}, status: { phase: "Active" } } as KubeObject;
}

/** The data of a ConfigMap, typed for assertions. */
export function dataOf(obj: KubeObject): Record<string, string> {
  return (obj as KubeObject & { data?: Record<string, string> }).data ?? {};
}
