/**
 * Expected failures of this package: a caller handed over a history that cannot be checked (a
 * harness bug, not a linearizability violation), or recorded more operations than it allowed.
 */
export class InvalidHistoryError extends Error {
  override readonly name = "InvalidHistoryError";
}

export class HistoryFullError extends Error {
  override readonly name = "HistoryFullError";
}
