/**
 * DefaultBinder: writes the decision through the injected `bindPod` (the caller's POST to
 * pods/{name}/binding, with a precondition on the pod's UID so a recreated pod is never bound by
 * mistake). A failed write is an Error status: the scheduler forgets the assumed pod and retries.
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { BindPlugin, BindPodFunction, PluginHandle } from "../../framework/interfaces.js";
import { PluginError, Status } from "../../framework/status.js";
import type { PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export class DefaultBinder implements BindPlugin {
  readonly name = pluginNames.defaultBinder;
  private readonly bindPod: BindPodFunction;

  constructor(handle: PluginHandle) {
    this.bindPod = handle.bindPod;
  }

  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    try {
      await this.bindPod(pod.pod, nodeName);
      return Status.success;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return Status.error(new PluginError(`binding ${pod.key} to ${nodeName}: ${message}`, { cause: err, plugin: this.name }));
    }
  }
}
