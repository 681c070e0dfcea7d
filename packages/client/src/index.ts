/** Public entry point of @coxswain/client. */
export * from "./client.js";
export * from "./service.js";
