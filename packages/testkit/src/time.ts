/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
}

const WAIT_POLL_INTERVAL_MS_DEFAULT = 100;

/**
 * Polls `probe` until it returns something other than undefined (or stops throwing), and returns
 * that. Tests use it to wait for an outcome, never to measure how long it took: the timeout only
 * bounds a hang, and the error names what was awaited and the last thing seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "nothing yet";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = "not yet";
    } catch (err) {
      last = (err as Error).message ?? String(err);
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(`${what}: not within ${options.timeoutMs} ms (last: ${last})`);
    await sleep(options.intervalMs ?? WAIT_POLL_INTERVAL_MS_DEFAULT);
  }
}

/**
 * `promise`, or a WaitTimeoutError naming `what` after `timeoutMs`: turns a hang (a client call
 * that never answers) into a prompt failure. The promise itself is not cancelled.
 */
export async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeoutError(`${what}: no outcome within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
