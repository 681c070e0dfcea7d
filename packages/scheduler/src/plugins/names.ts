/** The default plugins' names: what profiles, diagnoses and logs call them (kube-scheduler's names). */
export const pluginNames = {
  nodeUnschedulable: "NodeUnschedulable",
  nodeName: "NodeName",
  nodeReady: "NodeReady",
  taintToleration: "TaintToleration",
  nodeAffinity: "NodeAffinity",
  nodePorts: "NodePorts",
  nodeResourcesFit: "NodeResourcesFit",
  nodeResourcesLeastAllocated: "NodeResourcesLeastAllocated",
  nodeResourcesBalancedAllocation: "NodeResourcesBalancedAllocation",
  defaultBinder: "DefaultBinder",
} as const;
