/**
 * The transport's logging interface: event first, fields second. It is a thin adapter over the
 * project's pino logger (src/logging.ts), so transport lines are the same JSON lines as the rest
 * of the component's.
 */
import { createLogger, type Logger } from "../logging.js";

export type TransportLogFields = Record<string, unknown>;

export interface TransportLogger {
  debug(event: string, fields?: TransportLogFields): void;
  info(event: string, fields?: TransportLogFields): void;
  warn(event: string, fields?: TransportLogFields): void;
  error(event: string, fields?: TransportLogFields): void;
}

export type TransportLogLevel = "debug" | "info" | "warn" | "error";

export interface TransportLoggerOptions {
  /** Fields added to every line, e.g. `{ node: 1 }`. */
  fields?: TransportLogFields;
  /** Log through this pino logger instead of a new one. */
  logger?: Logger;
}

/** Adapts a pino logger (or creates one for `component`) to the transport's interface. */
export function createTransportLogger(component: string, options: TransportLoggerOptions = {}): TransportLogger {
  const base = options.logger ?? createLogger(component);
  const logger = options.fields !== undefined ? base.child(options.fields) : base;
  return {
    debug: (event, fields = {}) => logger.debug(fields, event),
    info: (event, fields = {}) => logger.info(fields, event),
    warn: (event, fields = {}) => logger.warn(fields, event),
    error: (event, fields = {}) => logger.error(fields, event),
  };
}

/** Discards everything; for tests and tools that do not want transport noise. */
export const silentTransportLogger: TransportLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
