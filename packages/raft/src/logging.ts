/**
 * Structured logs: JSON lines through pino, one logger per component, carrying the component's
 * name (CONVENTIONS rule 12). Level from COXSWAIN_LOG_LEVEL (default "info"); "silent" in tests.
 */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(component: string, fields: Record<string, unknown> = {}): Logger {
  const level = process.env["COXSWAIN_LOG_LEVEL"] ?? "info";
  return pino({ level, base: { component, ...fields }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: "silent" });
