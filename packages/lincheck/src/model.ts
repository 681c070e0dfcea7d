/**
 * The vocabulary shared by the checker and the models it checks against.
 *
 * A history is a list of operations as clients saw them: what they asked (`input`), what they were
 * told (`output`), when they asked (`callMs`) and when the answer arrived (`returnMs`). The checker
 * looks for one total order of the operations that (1) respects real time — if A returned before B
 * was called, A comes first — and (2) is accepted, operation by operation, by a sequential model
 * of the system. If such an order exists the history is linearizable (Herlihy & Wing 1990).
 */

export type ClientId = number | string;

export interface Operation<Input, Output> {
  /** Who issued it. Used only in explanations; the checker does not assume clients are sequential. */
  readonly clientId: ClientId;
  readonly input: Input;
  /**
   * What the client was told. When the outcome is unknown the model's own "unknown" output goes
   * here (for the KV model, `{ type: "unknown" }`) and `returnMs` is `Infinity`.
   */
  readonly output: Output;
  /** When the request was sent, in milliseconds on any clock shared by all clients. */
  readonly callMs: number;
  /**
   * When the response arrived, on the same clock. `Infinity` when the outcome is unknown (the
   * client timed out, the connection broke, the server died): such an operation may take effect at
   * any point after its call, or never — being placed after every completed operation is the same
   * as never, since nothing observed it.
   */
  readonly returnMs: number;
}

/** The model's verdict on applying one operation to one state. */
export interface StepResult<State> {
  /** Whether `output` is a possible answer to `input` in this state. */
  readonly ok: boolean;
  /** The state after the operation (meaningful only when `ok`). */
  readonly state: State;
}

/**
 * A sequential specification. States must be treated as immutable values: `step` returns a new
 * state and never changes the one it was given, because the search keeps old states to backtrack
 * to and to memoize.
 */
export interface Model<State, Input, Output> {
  /**
   * Splits a history into independent sub-histories that can be checked one at a time
   * (P-compositionality, Horn & Kroening 2015): e.g. one per key for a key-value store. A history
   * is linearizable exactly when every part is. Without it the whole history is one partition.
   * Also the place to validate model-specific shape (throw `InvalidHistoryError`).
   */
  partition?(history: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** The state before any operation. */
  init(): State;
  /** Applies one operation; must be pure. */
  step(state: State, input: Input, output: Output): StepResult<State>;
  /** Whether two states are the same (used by the memoization cache). */
  equal(a: State, b: State): boolean;
  /** One-line rendering of an operation for explanations, e.g. `put("v1") -> ok`. */
  describeOperation?(input: Input, output: Output): string;
  /** One-line rendering of a state for explanations. */
  describeState?(state: State): string;
  /** A name for a partition, e.g. `key "a"`. */
  describePartition?(operations: readonly Operation<Input, Output>[]): string;
}
