/**
 * Time as the machinery sees it. Every timer in packages/client goes through a Clock so that
 * tests drive time with FakeClock and never wait on real time (CONVENTIONS rule 11); components
 * pass `realClock`.
 */

/** Cancels a timer set with `Clock.setTimer`; calling it after the timer fired does nothing. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): CancelTimer;
}

/** setTimeout's largest delay; longer ones fire at once (Node clamps them to 1 ms). */
const timerDelayMsMax = 2_147_483_647;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const timer = setTimeout(fn, Math.min(Math.max(0, delayMs), timerDelayMsMax));
    return () => clearTimeout(timer);
  },
};

/**
 * Waits `delayMs` on `clock`. Resolves true when the time passed and false as soon as `signal`
 * aborts (never rejects), so loops can write `if (!(await sleep(...))) return;`.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimer(delayMs, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
