/** Public entry point of @coxswain/apiserver. */
export * from "./rest/ports.js";
export * from "./rest/request-info.js";
export * from "./rest/resource-handler.js";
export * from "./rest/http-server.js";
export * from "./server/config.js";
export * from "./server/apiserver.js";
export { runApiServerCommand } from "./server/run.js";
export { runPkiCommand } from "./server/pki-command.js";
