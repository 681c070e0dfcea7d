/** coordination.k8s.io/v1 Lease: node heartbeats and leader election. */
import type { KubeObject, MicroTime } from "../meta/v1.js";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: MicroTime;
  renewTime?: MicroTime;
  leaseTransitions?: number;
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends KubeObject {
  apiVersion?: "coordination.k8s.io/v1";
  kind?: "Lease";
  spec?: LeaseSpec;
}
