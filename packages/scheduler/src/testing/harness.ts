/** A scheduler wired for tests: default plugins, a seeded random source, a settable clock, recorded binds and failures. */
import type { Node, Pod } from "@coxswain/api";
import { SeededRandom } from "@coxswain/raft";
import { Framework } from "../framework/framework.js";
import type { BindPodFunction } from "../framework/interfaces.js";
import type { Profile } from "../framework/profile.js";
import type { Registry } from "../framework/registry.js";
import { defaultProfile, defaultRegistry } from "../plugins/registry.js";
import { Scheduler, type SchedulingFailure } from "../scheduler.js";

export interface HarnessOptions {
  nodes?: Node[];
  seed?: number;
  /** Replaces the recording bind (which resolves at once). */
  bindPod?: BindPodFunction;
  profile?: Partial<Profile>;
  registry?: Registry;
}

export interface Harness {
  scheduler: Scheduler;
  clock: { nowMs: number };
  binds: { pod: string; node: string }[];
  failures: SchedulingFailure[];
}

/** 2023-11-14T22:13:20Z: a fixed, readable start for condition timestamps. */
export const harnessStartMs = 1_700_000_000_000;

export function boundCopy(pod: Pod, nodeName: string): Pod {
  return { ...pod, spec: { containers: [], ...pod.spec, nodeName } };
}

export function makeHarness(options: HarnessOptions = {}): Harness {
  const clock = { nowMs: harnessStartMs };
  const binds: Harness["binds"] = [];
  const failures: SchedulingFailure[] = [];
  const bindPod: BindPodFunction =
    options.bindPod ??
    (async (pod, node) => {
      binds.push({ pod: pod.metadata.name ?? "", node });
    });
  const framework = new Framework({ registry: options.registry ?? defaultRegistry(), profile: defaultProfile(options.profile), handle: { bindPod } });
  const scheduler = new Scheduler({
    framework,
    random: new SeededRandom(options.seed ?? 1),
    nowMs: () => clock.nowMs,
    onFailure: (f) => failures.push(f),
  });
  for (const node of options.nodes ?? []) scheduler.onNodeAdd(node);
  return { scheduler, clock, binds, failures };
}
