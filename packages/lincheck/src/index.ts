/** Public entry point of @coxswain/lincheck. */
export * from "./model.js";
export * from "./check.js";
export * from "./kv.js";
export * from "./recorder.js";
export * from "./errors.js";
export { AssertionFailure } from "./assert.js";
