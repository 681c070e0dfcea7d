/** intstr.IntOrString helpers: ports by number or name, counts or percentages ("25%"). */
import type { IntOrString } from "./types/meta/v1.js";

export class IntOrPercentError extends Error {
  override readonly name = "IntOrPercentError";
}

export function isPercent(value: IntOrString): value is string {
  return typeof value === "string" && /^[0-9]+%$/.test(value);
}

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer stands for itself; "p%" is p percent of
 * `total`, rounded up or down as asked (Deployments round maxSurge up and maxUnavailable down).
 */
export function scaledValueFromIntOrPercent(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  if (!isPercent(value)) {
    if (/^-?[0-9]+$/.test(value)) return Number(value);
    throw new IntOrPercentError(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const percent = Number(value.slice(0, -1));
  const scaled = (percent * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
