/**
 * Cached objects are shared by every handler and lister of a shared informer, so none may change
 * them (client-go states the rule; here the runtime enforces it: ESM code is strict, and writing
 * to a frozen object throws a TypeError at the line that tried). Copy with structuredClone first.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}
