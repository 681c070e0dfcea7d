/**
 * Invariant checks, with the same contract as `assert` in @coxswain/raft (a failed assertion is a
 * programmer error and stops the caller). Kept local because this package has no runtime
 * dependencies: test harnesses of every package can use it without pulling in Raft.
 */
export class AssertionFailure extends Error {
  override readonly name = "AssertionFailure";
}

export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new AssertionFailure(why);
}
