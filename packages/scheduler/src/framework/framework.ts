/**
 * A Framework is one profile instantiated: the enabled plugins, grouped by extension point in the
 * registry's order, and the run* functions that call them. It holds no cluster state; the
 * scheduler passes the snapshot's NodeInfos in.
 *
 * Every plugin call is guarded: a plugin that throws becomes an `Error` status naming the plugin
 * (the attempt fails and the pod is retried with backoff), except an AssertionFailure, which is a
 * programmer error and ends the process as the conventions require.
 */
import { AssertionFailure, assert } from "@coxswain/raft";
import type { CycleState } from "./cycle-state.js";
import type { PluginStatus } from "./diagnosis.js";
import {
  isBindPlugin,
  isFilterPlugin,
  isPermitPlugin,
  isPreFilterPlugin,
  isPreScorePlugin,
  isReservePlugin,
  isScorePlugin,
  type BindPlugin,
  type ClusterEvent,
  type FilterPlugin,
  type NodeScore,
  type PermitPlugin,
  type Plugin,
  type PluginHandle,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePlugin,
} from "./interfaces.js";
import { ProfileError, validateProfile, type Profile } from "./profile.js";
import type { Registry } from "./registry.js";
import { PluginError, Status } from "./status.js";
import { maxNodeScore, type NodeInfo, type PodInfo } from "./types.js";

export interface FrameworkOptions {
  registry: Registry;
  profile: Profile;
  handle: PluginHandle;
}

interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

/** Success with no plugin attached, shared. */
const passed: PluginStatus = { plugin: "", status: Status.success };

function pluginFailure(plugin: Plugin, err: unknown): PluginStatus {
  if (err instanceof AssertionFailure) throw err;
  const message = err instanceof Error ? err.message : String(err);
  return { plugin: plugin.name, status: Status.error(new PluginError(message, { cause: err, plugin: plugin.name })) };
}

export class Framework {
  readonly profile: Profile;
  readonly plugins: ReadonlyMap<string, Plugin>;
  private readonly preFilterPlugins: PreFilterPlugin[] = [];
  private readonly filterPlugins: FilterPlugin[] = [];
  private readonly preScorePlugins: PreScorePlugin[] = [];
  private readonly scorePlugins: WeightedScorePlugin[] = [];
  private readonly reservePlugins: ReservePlugin[] = [];
  private readonly permitPlugins: PermitPlugin[] = [];
  private readonly bindPlugins: BindPlugin[] = [];

  /** Throws ProfileError if the profile names unknown plugins or bad weights. */
  constructor(options: FrameworkOptions) {
    const { registry, profile, handle } = options;
    const problems = validateProfile(profile, registry);
    if (problems.length > 0) throw new ProfileError(`profile ${JSON.stringify(profile.schedulerName)}: ${problems.join("; ")}`);
    this.profile = profile;
    const enabled = new Set(profile.plugins);
    const plugins = new Map<string, Plugin>();
    for (const name of registry.names()) {
      if (!enabled.has(name)) continue;
      const factory = registry.factory(name);
      assert(factory !== undefined, "a registered name has a factory");
      const plugin = factory(handle);
      assert(plugin.name === name, `plugin registered as ${name} calls itself ${plugin.name}`);
      plugins.set(name, plugin);
      if (isPreFilterPlugin(plugin)) this.preFilterPlugins.push(plugin);
      if (isFilterPlugin(plugin)) this.filterPlugins.push(plugin);
      if (isPreScorePlugin(plugin)) this.preScorePlugins.push(plugin);
      if (isScorePlugin(plugin)) this.scorePlugins.push({ plugin, weight: profile.scoreWeights?.[name] ?? 1 });
      if (isReservePlugin(plugin)) this.reservePlugins.push(plugin);
      if (isPermitPlugin(plugin)) this.permitPlugins.push(plugin);
      if (isBindPlugin(plugin)) this.bindPlugins.push(plugin);
    }
    this.plugins = plugins;
  }

  get schedulerName(): string {
    return this.profile.schedulerName;
  }

  hasFilterPlugins(): boolean {
    return this.filterPlugins.length > 0;
  }

  hasScorePlugins(): boolean {
    return this.scorePlugins.length > 0;
  }

  /** Names per extension point, in running order (for the README, logs and tests). */
  describe(): Record<string, string[]> {
    const names = (list: readonly Plugin[]): string[] => list.map((p) => p.name);
    return {
      preFilter: names(this.preFilterPlugins),
      filter: names(this.filterPlugins),
      preScore: names(this.preScorePlugins),
      score: this.scorePlugins.map((s) => `${s.plugin.name}×${s.weight}`),
      reserve: names(this.reservePlugins),
      permit: names(this.permitPlugins),
      bind: names(this.bindPlugins),
    };
  }

  /** Which cluster events may help a pod each plugin rejected (undefined: any event). */
  requeueEvents(): Map<string, readonly ClusterEvent[] | undefined> {
    const out = new Map<string, readonly ClusterEvent[] | undefined>();
    for (const [name, plugin] of this.plugins) out.set(name, plugin.requeueOn);
    return out;
  }

  /**
   * Runs every preFilter. A Skip marks the plugin's filter as not needed for this pod; the first
   * rejection or error ends the run and is returned.
   */
  runPreFilter(state: CycleState, pod: PodInfo): PluginStatus {
    for (const plugin of this.preFilterPlugins) {
      let result: PluginStatus;
      try {
        result = { plugin: plugin.name, status: plugin.preFilter(state, pod) };
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (result.status.isSkip()) {
        state.skipFilterPlugins.add(plugin.name);
        continue;
      }
      if (!result.status.isSuccess()) return result;
    }
    return passed;
  }

  /** The filters to run for this cycle: all of them minus those whose preFilter skipped. */
  activeFilters(state: CycleState): FilterPlugin[] {
    if (state.skipFilterPlugins.size === 0) return this.filterPlugins;
    return this.filterPlugins.filter((p) => !state.skipFilterPlugins.has(p.name));
  }

  /**
   * Runs the filters on one node, cheapest first, stopping at the first that does not pass (as
   * kube-scheduler does by default): the first reason is the one shown, and the rest are not
   * worth computing for a node already ruled out.
   */
  runFilter(filters: readonly FilterPlugin[], state: CycleState, pod: PodInfo, node: NodeInfo): PluginStatus {
    for (const plugin of filters) {
      let status: Status;
      try {
        status = plugin.filter(state, pod, node);
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (!status.isSuccess()) return { plugin: plugin.name, status };
    }
    return passed;
  }

  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): PluginStatus {
    for (const plugin of this.preScorePlugins) {
      let status: Status;
      try {
        status = plugin.preScore(state, pod, nodes);
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (status.isSkip()) {
        state.skipScorePlugins.add(plugin.name);
        continue;
      }
      if (!status.isSuccess()) return { plugin: plugin.name, status };
    }
    return passed;
  }

  /**
   * Scores every node with every (non-skipped) score plugin, normalizes each plugin's scores to
   * 0..maxNodeScore, and returns the weighted sum per node, index-aligned with `nodes`.
   */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { totals: number[] } | { failure: PluginStatus } {
    const totals = new Array<number>(nodes.length).fill(0);
    // One scratch list for all plugins: scoring hundreds of nodes per pod makes allocation count.
    const scores: NodeScore[] = nodes.map((node) => ({ name: node.name, score: 0 }));
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      try {
        for (let i = 0; i < nodes.length; i++) {
          const node = nodes[i];
          const slot = scores[i];
          assert(node !== undefined && slot !== undefined, "index within nodes");
          slot.score = plugin.score(state, pod, node);
        }
        plugin.normalizeScore?.(state, pod, scores);
      } catch (err) {
        return { failure: pluginFailure(plugin, err) };
      }
      for (let i = 0; i < scores.length; i++) {
        const s = scores[i];
        assert(s !== undefined, "every node was scored");
        if (!(s.score >= 0 && s.score <= maxNodeScore) || !Number.isFinite(s.score)) {
          const err = new PluginError(`plugin ${plugin.name} returned an invalid score ${s.score} for node ${s.name}`, { plugin: plugin.name });
          return { failure: { plugin: plugin.name, status: Status.error(err) } };
        }
        totals[i] = (totals[i] ?? 0) + s.score * weight;
      }
    }
    return { totals };
  }

  /** Reserve in order; the first failure is returned and the caller runs runUnreserve. */
  runReserve(state: CycleState, pod: PodInfo, nodeName: string): PluginStatus {
    for (const plugin of this.reservePlugins) {
      let status: Status;
      try {
        status = plugin.reserve(state, pod, nodeName);
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (!status.isSuccess()) return { plugin: plugin.name, status };
    }
    return passed;
  }

  /** Unreserve in reverse order, every plugin, even those whose reserve did not run. Returns failures. */
  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): PluginStatus[] {
    const failures: PluginStatus[] = [];
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) {
      const plugin = this.reservePlugins[i];
      assert(plugin !== undefined, "index within reservePlugins");
      try {
        plugin.unreserve(state, pod, nodeName);
      } catch (err) {
        failures.push(pluginFailure(plugin, err));
      }
    }
    return failures;
  }

  runPermit(state: CycleState, pod: PodInfo, nodeName: string): PluginStatus {
    for (const plugin of this.permitPlugins) {
      let status: Status;
      try {
        status = plugin.permit(state, pod, nodeName);
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (!status.isSuccess()) return { plugin: plugin.name, status };
    }
    return passed;
  }

  /** The first bind plugin that does not Skip decides; never rejects. */
  async runBind(state: CycleState, pod: PodInfo, nodeName: string): Promise<PluginStatus> {
    for (const plugin of this.bindPlugins) {
      let status: Status;
      try {
        status = await plugin.bind(state, pod, nodeName);
      } catch (err) {
        return pluginFailure(plugin, err);
      }
      if (status.isSkip()) continue;
      return { plugin: plugin.name, status };
    }
    return { plugin: "", status: Status.error(new PluginError(`no bind plugin handled pod ${pod.key}`)) };
  }
}
