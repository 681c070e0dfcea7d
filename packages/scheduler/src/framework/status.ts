/**
 * The outcome of one plugin call (kube-scheduler's framework.Status). The codes keep apart the
 * answers that mean different things to the caller:
 *
 * - `Success`: the pod may go on (filter: the node fits).
 * - `Unschedulable`: the node does not fit now, but could after the cluster changes (another pod
 *   leaves, a node is resized). Carries the reasons `kubectl describe pod` shows.
 * - `UnschedulableAndUnresolvable`: the node will not fit whatever happens to the pods on it
 *   (wrong labels, an untolerated taint); preemption would not help.
 * - `Error`: the plugin itself failed (a bug, a malformed object). The scheduling attempt is
 *   abandoned and the pod retried with backoff; this is not a property of the node.
 * - `Skip`: at preFilter/preScore, "this plugin has nothing to say about this pod", so the
 *   framework does not call its filter/score for this cycle; at bind, "not my pod, ask the next
 *   binder".
 */
export type StatusCode = "Success" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Error" | "Skip";

export class Status {
  private constructor(
    readonly code: StatusCode,
    /** Human-readable reasons; for rejections each one is counted in the "0/N nodes are available" histogram. */
    readonly reasons: readonly string[],
    /** Set for `Error`: what failed, with its cause. */
    readonly error: Error | undefined,
  ) {}

  /** Shared, allocation-free success: filters return it for every node that fits. */
  static readonly success = new Status("Success", [], undefined);
  static readonly skip = new Status("Skip", [], undefined);

  static unschedulable(...reasons: string[]): Status {
    return new Status("Unschedulable", reasons, undefined);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status("UnschedulableAndUnresolvable", reasons, undefined);
  }

  static error(error: Error | string): Status {
    const err = typeof error === "string" ? new PluginError(error) : error;
    return new Status("Error", [err.message], err);
  }

  isSuccess(): boolean {
    return this.code === "Success";
  }

  isSkip(): boolean {
    return this.code === "Skip";
  }

  /** Unschedulable or UnschedulableAndUnresolvable: "does not fit", as opposed to "failed". */
  isRejected(): boolean {
    return this.code === "Unschedulable" || this.code === "UnschedulableAndUnresolvable";
  }

  isError(): boolean {
    return this.code === "Error";
  }

  message(): string {
    return this.reasons.join(", ");
  }

  toString(): string {
    return this.reasons.length === 0 ? this.code : `${this.code}: ${this.message()}`;
  }
}

/** A plugin failed (returned an Error status or threw). Stable name for callers and logs. */
export class PluginError extends Error {
  override readonly name = "PluginError";
  constructor(message: string, options?: { cause?: unknown; plugin?: string }) {
    super(options?.plugin ? `${options.plugin}: ${message}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}
