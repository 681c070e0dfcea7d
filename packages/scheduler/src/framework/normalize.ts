import type { NodeScore } from "./interfaces.js";

/**
 * framework/plugins/helper.DefaultNormalizeScore: scales raw scores so the highest becomes
 * `maxScore` (integer division, as Go's int64 arithmetic), or, with `reverse`, so the highest
 * becomes 0 and a zero becomes `maxScore` (for "fewer is better" counts such as untolerated
 * PreferNoSchedule taints). All zeros stay zeros (or all become `maxScore` when reversed).
 */
export function defaultNormalizeScore(maxScore: number, reverse: boolean, scores: NodeScore[]): void {
  let highest = 0;
  for (const s of scores) if (s.score > highest) highest = s.score;
  if (highest === 0) {
    if (reverse) for (const s of scores) s.score = maxScore;
    return;
  }
  for (const s of scores) {
    const scaled = Math.trunc((maxScore * s.score) / highest);
    s.score = reverse ? maxScore - scaled : scaled;
  }
}
