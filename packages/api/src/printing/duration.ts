/** How kubectl writes ages and durations (k8s.io/apimachinery/pkg/util/duration.HumanDuration). */

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** "45s", "3m20s", "15m", "3h2m", "10h", "2d3h", "30d", "2y40d", "10y". */
export function humanDuration(durationMs: number): string {
  const seconds = Math.trunc(durationMs / second);
  // Up to 2 s in the future is clock skew and reads as "now".
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(durationMs / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(durationMs / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Age of a timestamp as kubectl prints it; "<unknown>" when the timestamp is missing. */
export function translateTimestampSince(timestamp: string | null | undefined, nowMs: number): string {
  if (!timestamp) return "<unknown>";
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return "<unknown>";
  return humanDuration(nowMs - at);
}
