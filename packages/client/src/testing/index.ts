export * from "./fake-api.js";
export * from "../clock/fake-clock.js";
