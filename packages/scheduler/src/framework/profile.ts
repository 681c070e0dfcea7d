/**
 * A scheduling profile (KubeSchedulerProfile): which plugins are on, how much each score counts,
 * and how many nodes to score. Pods pick a profile through spec.schedulerName.
 */
import type { Registry } from "./registry.js";

export interface Profile {
  /** Pods whose spec.schedulerName equals this are scheduled with this profile. */
  schedulerName: string;
  /** Enabled plugin names. Their running order comes from the registry, not from this list. */
  plugins: readonly string[];
  /** Weight of each score plugin (1..maxScoreWeight); plugins not listed weigh 1. */
  scoreWeights?: Readonly<Record<string, number>>;
  /**
   * Percentage of nodes to find feasible before scoring stops looking (1..100). Unset or 0: the
   * adaptive default, 50% minus 1% per 125 nodes, never below 5% (see numFeasibleNodesToFind).
   */
  percentageOfNodesToScore?: number;
}

/** kube-scheduler caps score weights so that the weighted total stays in range. */
export const maxScoreWeight = 100;

export class ProfileError extends Error {
  override readonly name = "ProfileError";
}

/** Checks a profile against a registry; returns the problems found (empty when valid). */
export function validateProfile(profile: Profile, registry: Registry): string[] {
  const problems: string[] = [];
  if (profile.schedulerName === "") problems.push("schedulerName: must not be empty");
  const seen = new Set<string>();
  for (const name of profile.plugins) {
    if (!registry.has(name)) problems.push(`plugins: ${JSON.stringify(name)} is not registered`);
    if (seen.has(name)) problems.push(`plugins: ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  for (const [name, weight] of Object.entries(profile.scoreWeights ?? {})) {
    if (!seen.has(name)) problems.push(`scoreWeights: ${JSON.stringify(name)} is not an enabled plugin`);
    if (!Number.isInteger(weight) || weight < 1 || weight > maxScoreWeight) problems.push(`scoreWeights.${name}: must be an integer in 1..${maxScoreWeight}`);
  }
  const pct = profile.percentageOfNodesToScore;
  if (pct !== undefined && (!Number.isInteger(pct) || pct < 0 || pct > 100)) problems.push("percentageOfNodesToScore: must be an integer in 0..100");
  return problems;
}
