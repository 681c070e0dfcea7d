/**
 * resource.Quantity: "100m", "0.5", "128Mi", "1G", "1e3". Values are parsed to a JS number of
 * base units, which is exact for every quantity a scheduler or HPA meets (cores to milli, bytes
 * below 2^53). Kubernetes rounds fractional milli-values up (Quantity.MilliValue), and so does
 * `quantityToMilli`.
 */

export class QuantityParseError extends Error {
  override readonly name = "QuantityParseError";
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimalSuffixes: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const quantityRe = /^([+-]?[0-9]*\.?[0-9]*)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** The message Kubernetes gives for a malformed quantity. */
export const quantityFormatMessage = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Parses a quantity to base units (cores, bytes, counts). Throws QuantityParseError when malformed. */
export function parseQuantity(text: string | number): number {
  if (typeof text === "number") return text;
  const match = quantityRe.exec(text.trim());
  const digits = match?.[1];
  if (match === null || digits === undefined || digits === "" || digits === "." || digits === "+" || digits === "-") {
    throw new QuantityParseError(quantityFormatMessage);
  }
  const number = Number(digits);
  if (!Number.isFinite(number)) throw new QuantityParseError(quantityFormatMessage);
  const suffix = match[2] ?? "";
  if (suffix in binarySuffixes) return number * (binarySuffixes[suffix] ?? 1);
  if (suffix in decimalSuffixes) return number * (decimalSuffixes[suffix] ?? 1);
  return number * 10 ** Number(suffix.slice(1));
}

export function isValidQuantity(text: string | number): boolean {
  try {
    parseQuantity(text);
    return true;
  } catch {
    return false;
  }
}

/** Milli-units (milli-cores), rounded up as Quantity.MilliValue does. */
export function quantityToMilli(text: string | number): number {
  return Math.ceil(Math.round(parseQuantity(text) * 1e9) / 1e6);
}

/** Whole units (bytes), rounded up as Quantity.Value does. */
export function quantityToUnits(text: string | number): number {
  return Math.ceil(Math.round(parseQuantity(text) * 1e6) / 1e6);
}

/** Formats milli-cores the way kubectl top does: "250m", or whole cores "2" when exact. */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? `${milli / 1000}` : `${milli}m`;
}

/** Formats bytes with the largest binary suffix that divides them ("128Mi"), as Kubernetes canonicalises. */
export function formatBytes(bytes: number): string {
  for (const [suffix, factor] of Object.entries(binarySuffixes).reverse()) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return `${bytes}`;
}
