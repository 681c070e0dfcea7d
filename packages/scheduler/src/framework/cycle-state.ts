/**
 * Per-attempt scratch space shared by the plugins of one scheduling cycle (kube-scheduler's
 * CycleState): a preFilter computes something once (the pod's parsed affinity, its host ports)
 * and the filter reads it for every node. Keys are typed, so a reader gets back what the writer
 * stored without casts at the call site.
 */
export class StateKey<T> {
  /** Only carries the type; never read. */
  declare readonly _type: T;
  constructor(readonly name: string) {}
}

export class CycleState {
  private readonly data = new Map<StateKey<unknown>, unknown>();
  /** Plugins whose preFilter returned Skip: their filter is not called in this cycle. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose preScore returned Skip: their score is not called in this cycle. */
  readonly skipScorePlugins = new Set<string>();

  write<T>(key: StateKey<T>, value: T): void {
    this.data.set(key, value);
  }

  read<T>(key: StateKey<T>): T | undefined {
    return this.data.get(key) as T | undefined;
  }
}
