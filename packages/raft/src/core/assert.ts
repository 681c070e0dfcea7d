/**
 * Invariant checks. A failed assertion is a programmer error: the process must stop rather than
 * continue with corrupted state (TIGER_STYLE). Expected outcomes use typed errors instead.
 */
export class AssertionFailure extends Error {
  override readonly name = "AssertionFailure";
}

export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new AssertionFailure(why);
}

export function unreachable(what: never, why = "unreachable"): never {
  throw new AssertionFailure(`${why}: ${String(what)}`);
}
