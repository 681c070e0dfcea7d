/**
 * The registry: plugin names → factories, in the order the plugins run at every extension point.
 * The order is the registry's, not the profile's, so that it is decided (and commented) in one
 * place; see plugins/registry.ts for the default order and why.
 */
import { assert } from "@coxswain/raft";
import type { PluginFactory } from "./interfaces.js";

export class Registry {
  private readonly factories = new Map<string, PluginFactory>();

  /** Registers a plugin after those already registered; it runs after them at every point. */
  register(name: string, factory: PluginFactory): this {
    assert(name.length > 0, "a plugin has a name");
    assert(!this.factories.has(name), `plugin ${name} is registered once`);
    this.factories.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  /** Names in running order. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  factory(name: string): PluginFactory | undefined {
    return this.factories.get(name);
  }
}
