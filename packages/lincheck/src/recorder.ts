/**
 * Collects a history while a test runs: stamp the call when a request is sent, the return when
 * its answer arrives, and mark as unknown what never got a definite answer.
 */
import { assert } from "./assert.js";
import { HistoryFullError } from "./errors.js";
import type { ClientId, Operation } from "./model.js";

export interface HistoryRecorderOptions<Output> {
  /** The model's "outcome unknown" output, e.g. `unknownKvOutput`. */
  readonly unknownOutput: Output;
  /** Milliseconds on a clock shared by every client of the history. Default `performance.now`. */
  readonly now?: () => number;
  /** Cap on recorded operations; `begin` throws `HistoryFullError` beyond it. Default 100,000. */
  readonly operationsMax?: number;
}

export const defaultRecorderOperationsMax = 100_000;

/** Identifies an operation between `begin` and its completion. */
export type OperationHandle = number & { readonly __operationHandle: true };

interface Recorded<Input, Output> {
  readonly clientId: ClientId;
  readonly input: Input;
  readonly callMs: number;
  phase: "pending" | "returned" | "unknown" | "discarded";
  output?: Output;
  returnMs?: number;
}

export class HistoryRecorder<Input, Output> {
  private readonly operations: Recorded<Input, Output>[] = [];
  private readonly now: () => number;
  private readonly operationsMax: number;
  private readonly unknownOutput: Output;

  constructor(options: HistoryRecorderOptions<Output>) {
    this.unknownOutput = options.unknownOutput;
    this.now = options.now ?? (() => performance.now());
    this.operationsMax = options.operationsMax ?? defaultRecorderOperationsMax;
    assert(Number.isInteger(this.operationsMax) && this.operationsMax > 0, "operationsMax must be a positive integer");
  }

  /** Call just before the request is sent. */
  begin(clientId: ClientId, input: Input): OperationHandle {
    if (this.operations.length >= this.operationsMax) {
      throw new HistoryFullError(`history already holds ${this.operationsMax} operations (operationsMax)`);
    }
    this.operations.push({
      clientId,
      input,
      callMs: this.now(),
      phase: "pending",
    });
    return (this.operations.length - 1) as OperationHandle;
  }

  /** Call as soon as the answer arrives. */
  complete(handle: OperationHandle, output: Output): void {
    const op = this.pending(handle);
    op.phase = "returned";
    op.output = output;
    op.returnMs = this.now();
  }

  /** The request may or may not have taken effect (timeout, broken connection, dead server). */
  markUnknown(handle: OperationHandle): void {
    this.pending(handle).phase = "unknown";
  }

  /** The request certainly had no effect (e.g. refused before it was proposed): leave it out. */
  discard(handle: OperationHandle): void {
    this.pending(handle).phase = "discarded";
  }

  /**
   * Runs one request between `begin` and `complete`. If it throws, the operation is recorded as
   * unknown — the safe reading of an error after the request was sent — and the error is rethrown;
   * use begin/complete/discard directly when some errors are known to mean "not applied".
   */
  async track(clientId: ClientId, input: Input, call: () => Promise<Output>): Promise<Output> {
    const handle = this.begin(clientId, input);
    let output: Output;
    try {
      output = await call();
    } catch (err) {
      this.markUnknown(handle);
      throw err;
    }
    this.complete(handle, output);
    return output;
  }

  /** The history so far. Operations still pending are reported as unknown. */
  history(): Operation<Input, Output>[] {
    const history: Operation<Input, Output>[] = [];
    for (const op of this.operations) {
      if (op.phase === "discarded") continue;
      const returned = op.phase === "returned";
      history.push({
        clientId: op.clientId,
        input: op.input,
        output: returned ? (op.output as Output) : this.unknownOutput,
        callMs: op.callMs,
        returnMs: returned ? (op.returnMs ?? Infinity) : Infinity,
      });
    }
    return history;
  }

  private pending(handle: OperationHandle): Recorded<Input, Output> {
    const op = this.operations[handle];
    assert(op !== undefined, "handle was returned by begin");
    assert(op.phase === "pending", "an operation is completed, marked unknown or discarded once");
    return op;
  }
}
