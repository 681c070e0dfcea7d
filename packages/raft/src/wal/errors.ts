/**
 * Typed failures of the write-ahead log. Corruption is an operating error the operator must act
 * on (restore the member from its peers); it is never skipped silently.
 */

/** The WAL holds damage that cannot be a torn tail: a bad record with a later write after it. */
export class WalCorruptError extends Error {
  override readonly name = "WalCorruptError";
  constructor(
    readonly file: string,
    readonly offsetBytes: number,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`WAL corrupt: ${file} at offset ${offsetBytes}: ${reason}`, options);
  }
}

/** An operation was started after close(). */
export class WalClosedError extends Error {
  override readonly name = "WalClosedError";
  constructor() {
    super("WAL is closed");
  }
}

/**
 * An earlier write or sync failed, so what the files hold is unknown (after a failed fsync the
 * kernel may have dropped the dirty pages: retrying would acknowledge lost data). Every later
 * operation fails with this; the process must restart and recover from disk.
 */
export class WalFailedError extends Error {
  override readonly name = "WalFailedError";
  constructor(cause: unknown) {
    super(`WAL failed earlier and refuses further writes: ${String(cause)}`, { cause });
  }
}
