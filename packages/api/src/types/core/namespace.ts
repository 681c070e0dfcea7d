/** core/v1 Namespace. */
import type { KubeObject, Time } from "../meta/v1.js";

export type NamespacePhase = "Active" | "Terminating";

export interface NamespaceCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastTransitionTime?: Time;
  reason?: string;
  message?: string;
}

export interface Namespace extends KubeObject {
  apiVersion?: "v1";
  kind?: "Namespace";
  spec?: { finalizers?: string[] };
  status?: { phase?: NamespacePhase; conditions?: NamespaceCondition[] };
}
